import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { GATED, READY, READY_IS_DOC } from "../../src/store/columns.js";

/**
 * Each entity keeps its v1.0 JSON ready to send — in `json_v1`, or as its document itself when that is
 * the same text — and whatever is served from it must equal what rendering the document gives.
 */

let t: TestTriage;
let plain: Record<string, unknown>;
let gated: Record<string, unknown>;
let namesMember: Record<string, unknown>;
let incidentId: string;

function withoutContext(body: Record<string, unknown>): Record<string, unknown> {
  const { "@odata.context": _context, ...rest } = body;
  return rest;
}

async function rowOf(table: "incidents" | "alerts", id: string | number): Promise<{ doc: string; json_v1: string | null; gated: number }> {
  const r = await sql<{
    doc: string;
    json_v1: string | null;
    gated: number;
  }>`select doc, json_v1, gated from ${sql.table(table)} where tenant_id = ${t.tenantId} and id = ${id}`.execute(t.store.db);
  return { ...r.rows[0]!, gated: Number(r.rows[0]!.gated) };
}

beforeAll(async () => {
  t = await startTriage();
  const device = deviceId();
  plain = alert({ device, user: "adele@contoso.com", severity: "high", at: "2026-10-05T08:00:00Z" });
  gated = alert({ device, serviceSource: "microsoftSentinel", detectionSource: "scheduledAlerts", at: "2026-10-05T08:05:00Z" });
  // Its title is a gated member's name: the text matches, though no enum property holds the member.
  namesMember = alert({ device, title: "microsoftSentinel", at: "2026-10-05T08:10:00Z" });
  const r = await t.ingest([plain, gated, namesMember]);
  expect(r.status).toBe(200);
  incidentId = r.body.value[0].incidentId;
});
afterAll(async () => {
  await t.close();
});

describe("the JSON an entity keeps ready", () => {
  it("is stored once when an alert's document is its v1.0 JSON, twice only where they differ", async () => {
    const a = await rowOf("alerts", plain.id as string);
    expect(a).toMatchObject({ json_v1: null, gated: READY_IS_DOC });
    // microsoftSentinel is declared after unknownFutureValue: clients that did not opt in get it
    // hidden. The document is still its v1.0 JSON, so it is not kept twice.
    const g = await rowOf("alerts", gated.id as string);
    expect(g).toMatchObject({ json_v1: null, gated: GATED });
    // A member's name in text is not a gated member: nothing would be hidden.
    expect(await rowOf("alerts", namesMember.id as string)).toMatchObject({ json_v1: null, gated: READY_IS_DOC });
    const i = await rowOf("incidents", Number(incidentId));
    expect(i.gated).toBe(READY);
    expect(i.json_v1).not.toBeNull();
    expect(i.json_v1).not.toBe(i.doc);
  });

  it("serves the same JSON as rendering the document, in lists, GET one, $expand and PATCH answers", async () => {
    // $select=* renders every v1.0 property from the document; the plain request splices the ready JSON.
    for (const path of ["/v1.0/security/alerts_v2", "/v1.0/security/incidents", `/v1.0/security/incidents/${incidentId}/alerts`]) {
      const ready = await t.get(path);
      const rendered = await t.get(`${path}?$select=*`);
      expect(ready.status).toBe(200);
      expect(ready.body.value).toEqual(rendered.body.value);
    }
    for (const path of [
      `/v1.0/security/alerts_v2/${plain.id}`,
      `/v1.0/security/alerts_v2/${gated.id}`,
      `/v1.0/security/alerts_v2/${namesMember.id}`,
      `/v1.0/security/incidents/${incidentId}`,
    ]) {
      const ready = await t.get(path);
      const rendered = await t.get(`${path}?$select=*`);
      expect(withoutContext(ready.body)).toEqual(withoutContext(rendered.body));
    }
    const expanded = await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`);
    // Expanded alerts come oldest first; the alerts listing, newest first.
    const alerts = (await t.get(`/v1.0/security/incidents/${incidentId}/alerts?$select=*`)).body.value;
    expect(expanded.body.alerts).toEqual([...alerts].reverse());
    const patched = await t.request("PATCH", `/v1.0/security/alerts_v2/${plain.id}`, { body: { assignedTo: "megan@contoso.com" } });
    expect(patched.status).toBe(200);
    expect(withoutContext(patched.body)).toEqual(withoutContext((await t.get(`/v1.0/security/alerts_v2/${plain.id}?$select=*`)).body));
    expect(await rowOf("alerts", plain.id as string)).toMatchObject({ json_v1: null, gated: READY_IS_DOC });
  });

  it("hides a gated member from a client that did not opt in, and shows it to one that did", async () => {
    expect((await t.get(`/v1.0/security/alerts_v2/${gated.id}`)).body.serviceSource).toBe("unknownFutureValue");
    const opted = await t.get(`/v1.0/security/alerts_v2/${gated.id}`, { prefer: "include-unknown-enum-members" });
    expect(opted.body.serviceSource).toBe("microsoftSentinel");
    const listed = await t.get(`/v1.0/security/incidents/${incidentId}/alerts`);
    expect(listed.body.value.find((a: any) => a.id === gated.id).serviceSource).toBe("unknownFutureValue");
    // A member's name outside an enum property is text, and is never hidden.
    const named = (await t.get(`/v1.0/security/alerts_v2/${namesMember.id}`)).body;
    expect(named.title).toBe("microsoftSentinel");
    expect(named.serviceSource).toBe(namesMember.serviceSource);
  });

  it("renders rows written before the ready JSON existed from their documents", async () => {
    const before = await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`);
    await sql`update incidents set json_v1 = null, gated = ${READY} where tenant_id = ${t.tenantId}`.execute(t.store.db);
    await sql`update alerts set json_v1 = null, gated = ${READY} where tenant_id = ${t.tenantId}`.execute(t.store.db);
    const after = await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`);
    expect(after.body).toEqual(before.body);
    // The alert whose document holds a gated member is rendered with it hidden, as before.
    expect(after.body.alerts.find((a: any) => a.id === gated.id).serviceSource).toBe("unknownFutureValue");
  });
});
