import { describe, expect, it } from "vitest";
import { TEMPLATES } from "../../src/seed/catalog.js";
import { MITRE_TECHNIQUES, techniqueLabel, techniqueTitle } from "../../web/src/mitre.js";

/** The web app's table of MITRE ATT&CK technique names. */

describe("MITRE technique names", () => {
  it("names every technique the demo data can produce", () => {
    const ids = new Set(TEMPLATES.flatMap((t) => t.mitreTechniques));
    expect(ids.size).toBeGreaterThan(30);
    expect([...ids].filter((id) => !MITRE_TECHNIQUES[id])).toEqual([]);
  });

  it("holds well-formed ids, each sub-technique under a technique it also names", () => {
    for (const [id, name] of Object.entries(MITRE_TECHNIQUES)) {
      expect(id).toMatch(/^T\d{4}(\.\d{3})?$/);
      expect(name.trim()).toBe(name);
      expect(name.length).toBeGreaterThan(1);
      if (id.includes(".")) expect(MITRE_TECHNIQUES[id.slice(0, 5)], `parent of ${id}`).toBeTruthy();
    }
  });

  it("shows the name with the id, and an unknown id alone", () => {
    expect(techniqueLabel("T1059.001")).toBe("T1059.001 PowerShell");
    expect(techniqueTitle("T1059.001")).toBe("Command and Scripting Interpreter: PowerShell");
    expect(techniqueLabel("T1486")).toBe("T1486 Data Encrypted for Impact");
    expect(techniqueTitle("T1486")).toBe("Data Encrypted for Impact");
    expect(techniqueLabel("T9999.999")).toBe("T9999.999");
    expect(techniqueTitle("T9999.999")).toBeUndefined();
  });
});
