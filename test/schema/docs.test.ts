import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { resourceReference } from "../../src/schema/docs.js";

it("docs/resources.md is what the schemas generate (run `npm run docs` after changing a schema)", () => {
  const committed = readFileSync(new URL("../../docs/resources.md", import.meta.url), "utf8");
  expect(committed).toBe(resourceReference());
});

it("documents every property with its query and update abilities", () => {
  const doc = resourceReference();
  // What the strict profile refuses is marked "(lenient)"; what Graph documents is not.
  expect(doc).toContain("| `status` | microsoft.graph.security.incidentStatus | no | PATCH, $filter, $orderby (lenient) |");
  expect(doc).toContain("| `createdDateTime` | Edm.DateTimeOffset | no | $filter, $orderby |");
  expect(doc).toContain("| `investigationState` | microsoft.graph.security.investigationState | yes |  |");
  expect(doc).toContain("| `priorityScore` | Edm.Int32 | yes | $filter (lenient), $orderby (lenient) |");
  expect(doc).toContain("`#microsoft.graph.security.deviceEvidence`");
});
