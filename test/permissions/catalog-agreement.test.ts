import { describe, expect, it } from "vitest";
import data from "../../src/permissions/security-permissions.json" with { type: "json" };
import { operation, permissionNames, type Scheme } from "../../src/permissions/catalog.js";
import { findLeastPrivileged } from "../../src/permissions/finder.js";
import { ENFORCED, graphPermission } from "../../src/permissions/graph-data.js";
import { implementedOperationKeys } from "../../src/permissions/reference.js";

/**
 * Triage's enforcing catalog (security-permissions.json) and Microsoft's permission data
 * (graph-data/) must agree on every permission Triage enforces. Where they could disagree, the data is
 * authoritative for ids and texts (it is what Entra provisions); the catalog is authoritative only for
 * what Microsoft's data lacks (a permission it does not list yet, a path it leaves out), and says so.
 */

const SCHEMES: Scheme[] = ["DelegatedWork", "Application"];
type CatalogScheme = {
  adminDisplayName: string;
  adminDescription: string;
  userDisplayName?: string;
  userDescription?: string;
  requiresAdminConsent: boolean;
  privilegeLevel: number;
};
const catalogPermissions = data.permissions as Record<string, { schemes: Partial<Record<Scheme, CatalogScheme>> }>;
const catalogIds = data.permissionIds as Record<string, Partial<Record<Scheme, string>>>;

describe("the catalog and Microsoft's permission data agree", () => {
  it("enforces the permissions of the catalog; the data has all but those it is too old for, which come from the catalog with their source", () => {
    expect([...ENFORCED].sort()).toEqual(permissionNames().sort());
    expect(ENFORCED.size).toBe(9);
    const fromCatalog = [...ENFORCED].filter((name) => graphPermission(name)?.source !== "graph-data");
    // SecurityData.Manage.All (mergeIncidents, moveAlerts) is newer than Microsoft's data.
    expect(fromCatalog).toEqual(["SecurityData.Manage.All"]);
    const manage = graphPermission("SecurityData.Manage.All")!;
    expect(manage.source).toBe("triage-catalog");
    expect(manage.sourceUrl).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    expect(manage.schemes.Application?.requiresAdminConsent).toBe(true);
  });

  /** The enforced permissions Microsoft's data holds: on those the two sources must agree. */
  const inData = permissionNames().filter((name) => graphPermission(name)?.source === "graph-data");

  it.each(inData)("%s: ids, display names and descriptions, admin consent and privilege level", (name) => {
    const g = graphPermission(name)!;
    for (const scheme of SCHEMES) {
      const c = catalogPermissions[name]!.schemes[scheme]!;
      const d = g.schemes[scheme]!;
      expect(d, `${name} ${scheme}`).toBeDefined();
      // An id the provisioning data leaves empty (SecurityAlert.Create.All) is "" in the catalog, null here.
      expect(d.id ?? "", `${name} ${scheme} id`).toBe(catalogIds[name]![scheme]);
      expect(d.adminDisplayName, `${name} ${scheme}`).toBe(c.adminDisplayName.trim());
      expect(d.adminDescription, `${name} ${scheme}`).toBe(c.adminDescription.trim());
      expect(d.userDisplayName, `${name} ${scheme}`).toBe(c.userDisplayName?.trim() || null);
      expect(d.userDescription, `${name} ${scheme}`).toBe(c.userDescription?.trim() || null);
      expect(d.requiresAdminConsent, `${name} ${scheme}`).toBe(c.requiresAdminConsent);
      expect(d.privilegeLevel, `${name} ${scheme}`).toBe(c.privilegeLevel);
    }
    // Neither source offers these permissions to personal accounts.
    expect(g.schemes.DelegatedPersonal).toBeUndefined();
  });

  /** The Graph operations Triage serves that come straight from the data (not derived by Triage). */
  const served = implementedOperationKeys().filter((k) => k.split(" ")[1]!.startsWith("/security/") && !operation(k).derivedFrom);

  it("covers every Graph path Triage serves", () => {
    expect(served.length).toBeGreaterThanOrEqual(6);
    expect(served).toContain("PATCH /security/incidents/{id}");
  });

  it.each(served)("%s: the data grants it, under each scheme, to exactly the catalog's permissions with the same least privileged one", (key) => {
    const op = operation(key);
    // As a client writes it: a version prefix, a concrete id.
    for (const version of ["v1.0", "beta"]) {
      const [method, path] = key.split(" ") as [string, string];
      const answer = findLeastPrivileged(`${method} /${version}${path.replace(/\{id\}/g, "42")}`);
      expect(answer.found, key).toBe(true);
      for (const scheme of SCHEMES) {
        const fromCatalog = op.grants[scheme].map((g) => g.permission).sort();
        const fromData = answer.schemes[scheme].candidates.map((c) => c.permission).sort();
        expect(fromData, `${key} ${scheme}`).toEqual(fromCatalog);
        const least = op.grants[scheme].filter((g) => g.leastPrivileged).map((g) => g.permission);
        expect(least, `${key} ${scheme}: the catalog names one least privileged permission`).toHaveLength(1);
        expect(answer.schemes[scheme].leastPrivileged, `${key} ${scheme}`).toBe(least[0]);
      }
    }
  });

  it("derived operations (paths the data leaves out) are Triage's, and the data indeed lacks them", () => {
    const derived = implementedOperationKeys().filter((k) => k.startsWith("GET /security/") && operation(k).derivedFrom);
    expect(derived).toContain("GET /security/incidents/{id}/alerts");
    for (const key of derived) {
      const [method, path] = key.split(" ") as [string, string];
      expect(findLeastPrivileged(`${method} ${path.replace(/\{id\}/g, "42")}`).found, key).toBe(false);
    }
  });
});
