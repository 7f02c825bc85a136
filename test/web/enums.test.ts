import { describe, expect, it } from "vitest";
import { ENTRA_ROLES } from "../../src/permissions/entra-roles.js";
import {
  alertClassification,
  alertDetermination,
  alertSeverity,
  alertStatus,
  detectionSource,
  incidentStatus,
  serviceSource,
  type GraphEnum,
} from "../../src/schema/enums.js";
import {
  ALL_DETERMINATIONS,
  CLASSIFICATIONS,
  DETECTION_SOURCES,
  DETERMINATIONS,
  label,
  LABELS,
  SETTABLE_STATUSES,
  SEVERITIES,
  STATUSES,
} from "../../web/src/model.js";
import { ADMIN_ROLE, ROLE_IDS, ROLES, WRITE_ROLES } from "../../web/src/roles.js";

/**
 * The web app keeps its own copies of the server's enum members and role ids (the browser bundle loads
 * none of the server's code); these tests fail when a copy misses a member the server accepts, invents
 * one it does not, or shows a member without a readable label.
 */

/** What a user can pick or see: every member but Graph's `unknownFutureValue` sentinel. */
function choosable(e: GraphEnum): string[] {
  return e.members.filter((m) => m !== "unknownFutureValue");
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe("the web app's enum lists", () => {
  it.each([
    ["SEVERITIES", SEVERITIES, alertSeverity],
    ["STATUSES", STATUSES, incidentStatus],
    ["CLASSIFICATIONS", CLASSIFICATIONS, alertClassification],
    ["ALL_DETERMINATIONS", ALL_DETERMINATIONS, alertDetermination],
    ["DETECTION_SOURCES", DETECTION_SOURCES, detectionSource],
  ] as const)("%s holds exactly the server's members", (_name, list, e) => {
    expect(new Set(list).size).toBe(list.length);
    expect(sorted(list)).toEqual(sorted(choosable(e)));
  });

  it("offers only statuses the server has, and no service-set one, for editing", () => {
    for (const s of SETTABLE_STATUSES) expect(incidentStatus.members).toContain(s);
    expect(SETTABLE_STATUSES).not.toContain("redirected");
    expect(SETTABLE_STATUSES).not.toContain("awaitingAction");
  });

  it("groups every determination under a classification the server has", () => {
    expect(sorted(Object.keys(DETERMINATIONS))).toEqual(sorted(CLASSIFICATIONS));
    const grouped = new Set(Object.values(DETERMINATIONS).flat());
    for (const d of grouped) expect(alertDetermination.members).toContain(d);
    expect(sorted(grouped)).toEqual(sorted(choosable(alertDetermination)));
  });
});

describe("the web app's labels", () => {
  const shown = [incidentStatus, alertStatus, alertSeverity, alertClassification, alertDetermination, serviceSource, detectionSource];

  it.each(shown.map((e) => [e.name, e] as const))("give every %s member readable words", (_name, e) => {
    const missing: string[] = [];
    for (const m of e.members) {
      // A single lower-case word reads fine capitalised; anything camelCase needs words chosen by hand
      // ("microsoftDefenderForIoT" would split into "Microsoft defender for io t").
      if (/[A-Z0-9]/.test(m) && !Object.hasOwn(LABELS, m)) missing.push(m);
      expect(label(m)).not.toBe(m);
    }
    expect(missing).toEqual([]);
  });

  it("names the Microsoft products in full", () => {
    expect(label("microsoftDefenderForEndpoint")).toBe("Microsoft Defender for Endpoint");
    expect(label("microsoftDefenderForIoT")).toBe("Microsoft Defender for IoT");
    expect(label("microsoftSentinel")).toBe("Microsoft Sentinel");
  });

  it("labels only members some server enum has", () => {
    const all = new Set(shown.flatMap((e) => e.members));
    expect(Object.keys(LABELS).filter((k) => !all.has(k as never))).toEqual([]);
  });
});

describe("the web app's roles", () => {
  it("maps exactly the server's role template ids to the server's role names", () => {
    expect(ROLE_IDS).toEqual(Object.fromEntries(Object.entries(ENTRA_ROLES).map(([name, id]) => [id, name])));
    expect(sorted(ROLES)).toEqual(sorted(Object.keys(ENTRA_ROLES)));
    for (const id of Object.keys(ROLE_IDS)) expect(id).toBe(id.toLowerCase());
  });

  it("names only server roles as the writing and admin roles", () => {
    for (const r of [...WRITE_ROLES, ADMIN_ROLE]) expect(Object.keys(ENTRA_ROLES)).toContain(r);
  });
});
