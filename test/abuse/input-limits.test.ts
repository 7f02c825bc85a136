import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { bodyWith, expectGraphError, nestedJson, postRaw } from "./support.js";
import {
  MAX_COMMENTS,
  MAX_COMMENTS_TOTAL_LENGTH,
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_DEPTH,
  MAX_ID_LENGTH,
  MAX_STRING_LENGTH,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  MAX_TEXT_LENGTH,
  MAX_TITLE_LENGTH,
} from "../../src/schema/limits.js";
import { MAX_JSON_DEPTH } from "../../src/http/json-body.js";

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
});
afterAll(async () => {
  await t.close();
});

const enc = encodeURIComponent;

/** A value nested `depth` levels (the outer object being level 1). */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: "x" };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

async function ingestOne(a: Record<string, unknown>) {
  return t.ingest([a]);
}

describe("free-form documents are bounded at the door", () => {
  it("refuses customDetails nested 1,000 deep, so the tenant's lambda filters and later ingestion keep working", async () => {
    const device = deviceId();
    expect((await ingestOne(alert({ device }))).status).toBe(200);
    const poisoned = alert({ device, extra: { customDetails: "HOLE" } });
    expectGraphError(await postRaw(t, "POST", "/ingest/alerts", bodyWith(poisoned, nestedJson(1000))), 400, "levels deep");
    // Deeper than a free-form document may be, though within what a body may: named by its property.
    expectGraphError(await postRaw(t, "POST", "/ingest/alerts", bodyWith(poisoned, nestedJson(MAX_DOCUMENT_DEPTH + 20))), 400, "value[0].customDetails");
    expect((await t.get(`/v1.0/security/alerts_v2/${enc(poisoned.id as string)}`)).status).toBe(404);
    const lambda = await t.get(`/v1.0/security/alerts_v2?$filter=${enc("evidence/any(e: e/verdict eq 'suspicious')")}`);
    expect(lambda.status).toBe(200);
    expect((await ingestOne(alert({ device }))).status).toBe(200);
  });

  it(`accepts ${MAX_DOCUMENT_DEPTH} levels and refuses one more, in customDetails, additionalData and unknown evidence`, async () => {
    expect((await ingestOne(alert({ extra: { customDetails: nested(MAX_DOCUMENT_DEPTH), additionalData: nested(MAX_DOCUMENT_DEPTH) } }))).status).toBe(200);
    expectGraphError(
      await ingestOne(alert({ extra: { customDetails: nested(MAX_DOCUMENT_DEPTH + 1) } })),
      400,
      `value[0].customDetails is nested more than ${MAX_DOCUMENT_DEPTH} levels`,
    );
    expectGraphError(await ingestOne(alert({ extra: { additionalData: nested(MAX_DOCUMENT_DEPTH + 1) } })), 400, "value[0].additionalData");
    const unknownSubtype = { "@odata.type": "#microsoft.graph.security.futureEvidence", payload: nested(MAX_DOCUMENT_DEPTH) };
    expectGraphError(await ingestOne(alert({ extra: { evidence: [unknownSubtype] } })), 400, "value[0].evidence[0]");
    const knownWithExtra = { "@odata.type": "#microsoft.graph.security.ipEvidence", ipAddress: "203.0.113.9", extra: nested(MAX_DOCUMENT_DEPTH) };
    expectGraphError(await ingestOne(alert({ extra: { evidence: [knownWithExtra] } })), 400, "value[0].evidence[0]");
  });

  it(`refuses a free-form document over ${MAX_DOCUMENT_BYTES} bytes`, async () => {
    const big = { blob: "x".repeat(MAX_DOCUMENT_BYTES) };
    expectGraphError(await ingestOne(alert({ extra: { customDetails: big } })), 400, "value[0].customDetails is");
    expectGraphError(
      await ingestOne(alert({ extra: { evidence: [{ "@odata.type": "#microsoft.graph.security.futureEvidence", big }] } })),
      400,
      "value[0].evidence[0] is",
    );
  });

  it("answers a body nested 10,000 deep with a 400, not a 500, on every JSON route", async () => {
    const deep = alert({ extra: { customDetails: "HOLE" } });
    expectGraphError(await postRaw(t, "POST", "/ingest/alerts", bodyWith(deep, nestedJson(10_000))), 400, `more than ${MAX_JSON_DEPTH} levels deep`);
    const batch = `{"requests":[{"id":"1","method":"PATCH","url":"/security/incidents/1","headers":{"content-type":"application/json"},"body":${nestedJson(10_000)}}]}`;
    expectGraphError(await postRaw(t, "POST", "/v1.0/$batch", batch), 400, `more than ${MAX_JSON_DEPTH} levels deep`);
    expectGraphError(
      await postRaw(t, "PATCH", "/v1.0/security/incidents/1", `{"customTags":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
      400,
      "levels deep",
    );
  });

  it("bounds customDetails set by PATCH the same way", async () => {
    const a = alert();
    expect((await ingestOne(a)).status).toBe(200);
    const path = `/v1.0/security/alerts_v2/${enc(a.id as string)}`;
    expectGraphError(await t.request("PATCH", path, { body: { customDetails: nested(MAX_DOCUMENT_DEPTH + 1) } }), 400, "customDetails");
    expectGraphError(await postRaw(t, "PATCH", path, `{"customDetails":${nestedJson(1000)}}`), 400, "levels deep");
    expectGraphError(await postRaw(t, "PATCH", path, `{"customDetails":${nestedJson(MAX_DOCUMENT_DEPTH + 20)}}`), 400, "customDetails");
    expectGraphError(await t.request("PATCH", path, { body: { customDetails: { blob: "x".repeat(MAX_DOCUMENT_BYTES) } } }), 400, "customDetails");
    expect((await t.request("PATCH", path, { body: { customDetails: nested(MAX_DOCUMENT_DEPTH) } })).status).toBe(200);
  });
});

describe("date-times are instants", () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ["an impossible calendar date", { createdDateTime: "2026-02-30T00:00:00Z" }, "value[0].createdDateTime"],
    ["a time past year 9999 in UTC", { lastActivityDateTime: "9999-12-31T23:59:59-05:00" }, "value[0].lastActivityDateTime"],
    ["a time without a zone", { firstActivityDateTime: "2026-03-01T10:00:00" }, "value[0].firstActivityDateTime"],
    ["year 0000", { resolvedDateTime: "0000-01-01T00:00:00Z" }, "value[0].resolvedDateTime"],
    ["a year before 1900", { createdDateTime: "1899-12-31T23:59:59Z" }, "value[0].createdDateTime"],
    [
      "a first activity after the last",
      { firstActivityDateTime: "2026-03-02T00:00:00Z", lastActivityDateTime: "2026-03-01T00:00:00Z" },
      "value[0].firstActivityDateTime",
    ],
    [
      "an impossible evidence date",
      { evidence: [{ "@odata.type": "#microsoft.graph.security.ipEvidence", ipAddress: "203.0.113.1", createdDateTime: "2026-04-31T00:00:00Z" }] },
      "value[0].evidence[0].createdDateTime",
    ],
    [
      "a zone-less comment date",
      { comments: [{ comment: "c", createdByDisplayName: "me", createdDateTime: "2026-03-01T10:00:00" }] },
      "value[0].comments[0].createdDateTime",
    ],
  ];
  for (const [what, extra, property] of refused) {
    it(`refuses ${what}`, async () => {
      const a = alert({ extra });
      expectGraphError(await ingestOne(a), 400, property);
      expect((await t.get(`/v1.0/security/alerts_v2/${enc(a.id as string)}`)).status).toBe(404);
    });
  }

  it("stores the last instant of year 9999 and the first of 1900, given with any offset, as the same instant in UTC, and nothing beyond", async () => {
    const a = alert({
      extra: {
        createdDateTime: "2026-03-01T10:00:00.1234567+02:00",
        firstActivityDateTime: "1899-12-31T19:00:00-05:00",
        lastActivityDateTime: "9999-12-31T18:59:59.999-05:00",
      },
    });
    const r = await ingestOne(a);
    expect(r.status, r.text).toBe(200);
    const got = await t.get(`/v1.0/security/alerts_v2/${enc(a.id as string)}`);
    expect(got.body.createdDateTime).toBe("2026-03-01T08:00:00.123Z");
    expect(got.body.firstActivityDateTime).toBe("1900-01-01T00:00:00.000Z");
    expect(got.body.lastActivityDateTime).toBe("9999-12-31T23:59:59.999Z");
    // One millisecond beyond either end is refused.
    expectGraphError(await ingestOne(alert({ extra: { firstActivityDateTime: "1899-12-31T18:59:59.999-05:00" } })), 400, "value[0].firstActivityDateTime");
    expectGraphError(await ingestOne(alert({ extra: { lastActivityDateTime: "9999-12-31T19:00:00-05:00" } })), 400, "value[0].lastActivityDateTime");
  });

  it("refuses $filter date-time literals outside Edm.DateTimeOffset", async () => {
    for (const literal of ["9999-12-31T23:00:00-05:00", "0000-01-01T00:00:00Z"]) {
      const r = await t.get(`/v1.0/security/incidents?$filter=${enc(`createdDateTime lt ${literal}`)}`);
      expectGraphError(r, 400, literal);
    }
    expect((await t.get(`/v1.0/security/incidents?$filter=${enc("createdDateTime ge 0001-01-01T00:00:00Z")}`)).status).toBe(200);
  });
});

describe("every id Triage accepts, it can address", () => {
  it(`reads, patches, comments and audits an alert whose id has ${MAX_ID_LENGTH} characters`, async () => {
    const id = `x${"é".repeat(MAX_ID_LENGTH - 1)}`;
    expect((await ingestOne(alert({ id }))).status).toBe(200);
    const path = `/v1.0/security/alerts_v2/${enc(id)}`;
    expect((await t.get(path)).body.id).toBe(id);
    expect((await t.request("PATCH", path, { body: { status: "inProgress" } })).status).toBe(200);
    expect((await t.request("POST", `${path}/comments`, { body: { comment: "seen" } })).status).toBe(200);
    const audit = await t.get(`/triage/alerts/${enc(id)}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.body.value.length).toBeGreaterThan(0);
  });

  it("refuses a longer id at ingestion, and answers a longer path id with a Graph 414", async () => {
    expectGraphError(await ingestOne(alert({ id: "y".repeat(MAX_ID_LENGTH + 1) })), 400, "value[0].id");
    for (const path of [
      `/v1.0/security/alerts_v2/${"y".repeat(MAX_ID_LENGTH + 1)}`,
      `/v1.0/security/alerts_v2/${"z".repeat(5000)}`,
      `/triage/alerts/${"z".repeat(5000)}/audit`,
    ]) {
      const r = await t.get(path);
      expectGraphError(r, 414, "segment of the request URL");
      expect(r.body.error.code).toBe("RequestUriTooLong");
    }
  });

  it("ingests back an alert exported with its comments", async () => {
    const a = alert();
    expect((await ingestOne(a)).status).toBe(200);
    const path = `/v1.0/security/alerts_v2/${enc(a.id as string)}`;
    expect((await t.request("POST", `${path}/comments`, { body: { comment: "looked at it" } })).status).toBe(200);
    const exported = (await t.get(path)).body as Record<string, unknown>;
    expect((exported.comments as unknown[]).length).toBe(1);
    const copy = { ...exported, id: `${a.id as string}-copy` };
    const r = await ingestOne(copy);
    expect(r.status, r.text).toBe(200);
    const back = await t.get(`/v1.0/security/alerts_v2/${enc(copy.id)}`);
    expect(back.body.comments).toEqual(exported.comments);
  });
});

describe("free strings, tags and comments are bounded", () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ["an 8 MB title", { title: "t".repeat(8 * 1024 * 1024) }, "value[0].title"],
    [`a description over ${MAX_TEXT_LENGTH} characters`, { description: "d".repeat(MAX_TEXT_LENGTH + 1) }, "value[0].description"],
    [`a product name over ${MAX_STRING_LENGTH} characters`, { productName: "p".repeat(MAX_STRING_LENGTH + 1) }, "value[0].productName"],
    [`more than ${MAX_TAGS} system tags`, { systemTags: Array.from({ length: MAX_TAGS + 1 }, (_, i) => `tag${i}`) }, "value[0].systemTags"],
    [`a system tag over ${MAX_TAG_LENGTH} characters`, { systemTags: ["s".repeat(MAX_TAG_LENGTH + 1)] }, "value[0].systemTags[0]"],
    [`a MITRE technique over ${MAX_TAG_LENGTH} characters`, { mitreTechniques: ["T".repeat(MAX_TAG_LENGTH + 1)] }, "value[0].mitreTechniques[0]"],
  ];
  for (const [what, extra, property] of refused) {
    it(`refuses ${what} at ingestion`, async () => {
      const a = alert({ extra });
      expectGraphError(await ingestOne(a), 400, property);
      expect((await t.get(`/v1.0/security/alerts_v2/${enc(a.id as string)}`)).status).toBe(404);
    });
  }

  it(`accepts a title of ${MAX_TITLE_LENGTH} characters, which its incident can then carry as its name, and refuses a longer one`, async () => {
    expectGraphError(await ingestOne(alert({ title: "t".repeat(MAX_TITLE_LENGTH + 1) })), 400, "value[0].title");
    const a = alert({ title: "t".repeat(MAX_TITLE_LENGTH) });
    const r = await ingestOne(a);
    expect(r.status).toBe(200);
    const incident = await t.get(`/v1.0/security/incidents/${r.body.value[0].incidentId}`);
    expect(incident.body.displayName).toHaveLength(MAX_TITLE_LENGTH);
    expect(
      (await t.request("PATCH", `/v1.0/security/incidents/${r.body.value[0].incidentId}`, { body: { displayName: incident.body.displayName } })).status,
    ).toBe(200);
  });

  it("refuses an over-long custom tag on an incident", async () => {
    const r = await ingestOne(alert());
    const path = `/v1.0/security/incidents/${r.body.value[0].incidentId}`;
    expectGraphError(await t.request("PATCH", path, { body: { customTags: ["c".repeat(MAX_TAG_LENGTH + 1)] } }), 400, "customTags");
    expectGraphError(await t.request("PATCH", path, { body: { customTags: Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`) } }), 400, "customTags");
    expect((await t.request("PATCH", path, { body: { customTags: ["c".repeat(MAX_TAG_LENGTH)] } })).status).toBe(200);
  });

  it(`ingests an alert with ${MAX_COMMENTS} comments but not ${MAX_COMMENTS + 1}, and refuses the comment that would exceed ${MAX_COMMENTS}`, async () => {
    const comments = Array.from({ length: MAX_COMMENTS }, (_, i) => ({
      comment: `c${i}`,
      createdByDisplayName: "me",
      createdDateTime: "2026-03-01T10:00:00Z",
    }));
    const tooMany = alert({ extra: { comments: [...comments, comments[0]] } });
    expectGraphError(await ingestOne(tooMany), 400, "value[0].comments");
    const a = alert({ extra: { comments } });
    expect((await ingestOne(a)).status).toBe(200);
    const path = `/v1.0/security/alerts_v2/${enc(a.id as string)}/comments`;
    expectGraphError(await t.request("POST", path, { body: { comment: "one too many" } }), 400, `${MAX_COMMENTS}`);
    expect((await t.get(`/v1.0/security/alerts_v2/${enc(a.id as string)}`)).body.comments).toHaveLength(MAX_COMMENTS);
  });

  it(`refuses the comment that would take an incident's comments past ${MAX_COMMENTS_TOTAL_LENGTH} characters`, async () => {
    const r = await ingestOne(alert());
    const path = `/v1.0/security/incidents/${r.body.value[0].incidentId}/comments`;
    // Each comment also counts its author's name: 33 full-size comments fit, a 34th does not.
    const fits = Math.floor(MAX_COMMENTS_TOTAL_LENGTH / (MAX_TEXT_LENGTH + 100));
    for (let i = 0; i < fits; i++) expect((await t.request("POST", path, { body: { comment: "c".repeat(MAX_TEXT_LENGTH) } })).status).toBe(200);
    expectGraphError(await t.request("POST", path, { body: { comment: "c".repeat(MAX_TEXT_LENGTH) } }), 400, `${MAX_COMMENTS_TOTAL_LENGTH}`);
    const comments = (await t.get(`/v1.0/security/incidents/${r.body.value[0].incidentId}`)).body.comments as { comment: string }[];
    expect(comments.reduce((n, c) => n + c.comment.length, 0)).toBeLessThanOrEqual(MAX_COMMENTS_TOTAL_LENGTH);
  });
});
