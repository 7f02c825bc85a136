import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { resourceReference } from "../../src/schema/docs.js";

it("docs/resources.md is what the schemas generate (run `npm run docs` after changing a schema)", () => {
  const committed = readFileSync(new URL("../../docs/resources.md", import.meta.url), "utf8");
  expect(committed).toBe(resourceReference());
});

it("documents every property with its query and update abilities", () => {
  const doc = resourceReference();
  expect(doc).toContain("| `status` | microsoft.graph.security.incidentStatus | no | PATCH, $filter, $orderby |");
  expect(doc).toContain("| `investigationState` | microsoft.graph.security.investigationState | yes |  |");
  expect(doc).toContain("| `priorityScore` | Edm.Int32 | yes | $filter, $orderby |");
  expect(doc).toContain("`#microsoft.graph.security.deviceEvidence`");
});
