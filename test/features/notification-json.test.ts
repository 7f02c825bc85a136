import { describe, expect, it } from "vitest";
import type { EncryptedContent } from "../../src/features/notifications/encryption.js";
import { notificationBody, notificationId } from "../../src/features/notifications/notification-body.js";
import type { FeedEntry } from "../../src/store/feed.js";
import type { SubscriptionTable } from "../../src/store/subscriptions.js";

const sub = (over: Partial<SubscriptionTable> = {}): SubscriptionTable =>
  ({
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    tenant_id: "11111111-2222-3333-4444-555555555555",
    expires_at: "2026-12-08T10:00:00.000Z",
    client_state: 'a "quoted" state \\ with \u2028 odd characters',
    ...over,
  }) as SubscriptionTable;

const entry = (seq: number, over: Partial<FeedEntry> = {}): FeedEntry => ({
  seq,
  entityType: "alert",
  entityId: `da638${seq}_-1234`,
  changeType: "created",
  at: "2026-12-05T10:00:00.000Z",
  actor: "ingestion",
  automated: false,
  byPerson: false,
  slaBreach: null,
  ...over,
});

/** Graph's changeNotification for one feed entry, written out as an object: what the writer must serialize. */
function notificationOf(sub: SubscriptionTable, e: FeedEntry, encryptedContent?: EncryptedContent): Record<string, unknown> {
  const path = `security/${e.entityType === "incident" ? "incidents" : "alerts_v2"}/${e.entityId}`;
  return {
    id: notificationId(sub.id, e.seq),
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: sub.expires_at,
    changeType: e.changeType,
    resource: path,
    clientState: sub.client_state,
    tenantId: sub.tenant_id,
    resourceData: {
      "@odata.type": e.entityType === "incident" ? "#microsoft.graph.security.incident" : "#microsoft.graph.security.alert",
      "@odata.id": path,
      id: e.entityId,
    },
    ...(encryptedContent ? { encryptedContent } : {}),
  };
}

const MIB = 1024 * 1024;

/** The body as the objects serialized and encoded whole. */
const expectedBody = (s: SubscriptionTable, entries: FeedEntry[], encrypted = new Map<number, EncryptedContent>(), token?: string): Buffer =>
  Buffer.from(
    JSON.stringify({ value: entries.map((e) => notificationOf(s, e, encrypted.get(e.seq))), ...(token ? { validationTokens: [token] } : {}) }),
    "utf8",
  );

describe("a POST's body of notifications", () => {
  const encrypted: EncryptedContent = {
    data: "ZGF0YQ==",
    dataKey: "a2V5",
    dataSignature: "c2ln",
    encryptionCertificateId: 'my "cert" ☂',
    encryptionCertificateThumbprint: "AB12",
  };

  it("is, byte for byte, Graph's changeNotification objects serialized in the value envelope", () => {
    const cases: [SubscriptionTable, FeedEntry[], Map<number, EncryptedContent>, string | undefined][] = [
      [sub(), [entry(1)], new Map(), undefined],
      [sub({ client_state: null }), [entry(2, { entityType: "incident", entityId: "12345", changeType: "updated" }), entry(3)], new Map(), undefined],
      [sub(), [entry(0), entry(Number.MAX_SAFE_INTEGER, { entityId: 'odd"id\\ é' }), entry(16)], new Map([[Number.MAX_SAFE_INTEGER, encrypted]]), "a.b.c"],
    ];
    for (const [s, entries, enc, token] of cases) {
      const body = notificationBody(s, entries, { encrypted: enc, validationToken: token, maxBytes: MIB });
      expect(body.count).toBe(entries.length);
      expect(body.bytes.toString("utf8")).toBe(expectedBody(s, entries, enc, token).toString("utf8"));
      expect(body.bytes.equals(expectedBody(s, entries, enc, token))).toBe(true);
    }
  });

  it("writes the same entry the same way for each of several subscriptions", () => {
    const e = entry(7);
    const a = sub({ id: "aaaaaaaa-0000-0000-0000-000000000000", client_state: "a" });
    const b = sub({ id: "bbbbbbbb-0000-0000-0000-000000000000", client_state: null });
    for (let i = 0; i < 2; i++) {
      for (const s of [a, b]) {
        const [n] = JSON.parse(notificationBody(s, [e], { maxBytes: MIB }).bytes.toString("utf8")).value;
        expect(n).toEqual(notificationOf(s, e));
      }
    }
  });

  it("holds as many notifications as fit in its bound in bytes, and always one", () => {
    // Non-ASCII ids: the bound counts bytes, not characters.
    const entries = Array.from({ length: 50 }, (_, i) => entry(i, { entityId: `☂☂☂☂☂☂☂☂☂☂-${i}` }));
    const whole = notificationBody(sub(), entries, { maxBytes: MIB });
    expect(whole.count).toBe(50);
    const bound = Math.floor(whole.bytes.length / 3);
    const part = notificationBody(sub(), entries, { maxBytes: bound });
    expect(part.count).toBeGreaterThan(1);
    expect(part.count).toBeLessThan(50);
    expect(part.bytes.length).toBeLessThanOrEqual(bound);
    expect(part.bytes.equals(expectedBody(sub(), entries.slice(0, part.count)))).toBe(true);
    // One more would not have fitted.
    expect(expectedBody(sub(), entries.slice(0, part.count + 1)).length).toBeGreaterThan(bound);
    const one = notificationBody(sub(), entries, { maxBytes: 10 });
    expect(one.count).toBe(1);
    expect(one.bytes.equals(expectedBody(sub(), entries.slice(0, 1)))).toBe(true);
  });
});

describe("a notification's id", () => {
  it("is UUID-shaped, stable, and different for each subscription and feed entry", () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const seen = new Set<string>();
    for (const s of ["sub-1", "sub-2", "sub-3"])
      for (const seq of [0, 1, 15, 16, 65535, 65536, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        const id = notificationId(s, seq);
        expect(id).toMatch(uuid);
        expect(notificationId(s, seq)).toBe(id);
        seen.add(id);
      }
    expect(seen.size).toBe(24);
    expect(notificationBody(sub({ id: "sub-2" }), [entry(65536)], { maxBytes: MIB }).bytes.toString()).toContain(`"id":"${notificationId("sub-2", 65536)}"`);
    expect(notificationId("sub-2", 65536).slice(-17)).toBe("0000-000000010000");
  });
});
