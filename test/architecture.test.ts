import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { ESLint } from "eslint";

/**
 * The import-direction rule (eslint.layers.js) is what keeps src/ flowing one way; these cases check
 * that it refuses an upward import and a stray query, and allows a downward one, on real file paths.
 */
const eslint = new ESLint({ cwd: process.cwd() });

// eslint.layers.js is plain JavaScript (ESLint loads it); its one export is typed here.
const layers = "../eslint.layers.js";
const { FLOORS, allowedImports } = (await import(layers)) as { FLOORS: { floor: string; folders: string[] }[]; allowedImports(folder: string): string[] };

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe("the import-direction rule", () => {
  it("refuses a lower floor importing a higher one", async () => {
    const found = await problems("src/store/probe.ts", 'import { registerEntitySets } from "../graph/entity-set.js";\nexport const x = registerEntitySets;\n');
    expect(found).toEqual([expect.stringMatching(/^boundaries\/dependencies: store may not import graph/)]);
  });

  it("refuses the ground floor importing the domain", async () => {
    const found = await problems("src/schema/probe.ts", 'import { decide } from "../domain/correlate.js";\nexport const x = decide;\n');
    expect(found).toEqual([expect.stringMatching(/^boundaries\/dependencies: schema may not import domain/)]);
  });

  it("refuses neighbours on one floor", async () => {
    const found = await problems("src/domain/probe.ts", 'import { planQuery } from "../odata/query-options.js";\nexport const x = planQuery;\n');
    expect(found).toEqual([expect.stringMatching(/^boundaries\/dependencies: domain may not import odata/)]);
  });

  it("allows a higher floor importing a lower one", async () => {
    const found = await problems(
      "src/graph/probe.ts",
      'import { badRequest } from "../errors/graph-error.js";\nimport { incidentResource } from "../schema/incident.js";\nexport const x = [badRequest, incidentResource];\n',
    );
    expect(found).toEqual([]);
  });

  it("keeps SQL in the store", async () => {
    expect(await problems("src/web/probe.ts", 'import { sql } from "kysely";\nexport const x = sql`select 1`;\n')).toEqual([
      expect.stringMatching(/only the store speaks SQL/),
    ]);
    expect(await problems("src/web/probe.ts", 'export function f(db: { selectFrom(t: string): unknown }) { return db.selectFrom("incidents"); }\n')).toEqual([
      expect.stringMatching(/Only the store speaks SQL/),
    ]);
    expect(await problems("src/store/probe.ts", 'import { sql } from "kysely";\nexport const x = sql`select 1`;\n')).toEqual([]);
  });

  it("names every folder of src/ on a floor", async () => {
    const folders = readdirSync("src", { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const placed = FLOORS.flatMap((f) => f.folders);
    expect(folders.filter((f) => !placed.includes(f))).toEqual([]);
    expect(readdirSync("src").filter((f) => f.endsWith(".ts"))).toEqual(["server.ts"]);
  });

  it("has a README per folder of src/ that says what it may import, as the rule enforces", () => {
    for (const folder of FLOORS.flatMap((f) => f.folders).filter((d) => d !== "server" && existsSync(`src/${d}`))) {
      const below = allowedImports(folder).map((b) => (b === "server" ? "server.ts" : `${b}/`));
      const readme = readFileSync(`src/${folder}/README.md`, "utf8");
      const said = /May import: (.*)\.\n/.exec(readme)?.[1];
      expect(said, folder).toBe(below.length ? below.join(", ") : "nothing else in src/");
    }
  });

  it("keeps the domain free of the store", async () => {
    const found = await problems("src/domain/probe.ts", 'import type { Db } from "../store/tables.js";\nexport type X = Db;\n');
    expect(found).toEqual([expect.stringMatching(/^boundaries\/dependencies: domain may not import store/)]);
  });
});
