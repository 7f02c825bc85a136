import { describe, expect, it } from "vitest";
import type { EncryptedContent } from "../../src/features/notifications/encryption.js";
import { notificationId, notificationWriter } from "../../src/features/notifications/engine.js";
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

describe("a notification's JSON", () => {
  it("is, byte for byte, Graph's changeNotification object serialized", () => {
    const encrypted = {
      data: "ZGF0YQ==",
      dataKey: "a2V5",
      dataSignature: "c2ln",
      encryptionCertificateId: 'my "cert"',
      encryptionCertificateThumbprint: "AB12",
    };
    const cases: [SubscriptionTable, FeedEntry, typeof encrypted | undefined][] = [
      [sub(), entry(1), undefined],
      [sub({ client_state: null }), entry(2, { entityType: "incident", entityId: "12345", changeType: "updated" }), undefined],
      [sub(), entry(Number.MAX_SAFE_INTEGER, { entityId: 'odd"id\\' }), encrypted],
    ];
    for (const [s, e, enc] of cases) {
      const text = notificationWriter(s)(e, enc);
      expect(text).toBe(JSON.stringify(notificationOf(s, e, enc)));
      expect(JSON.parse(text)).toMatchObject({ subscriptionId: s.id, clientState: s.client_state, resourceData: { id: e.entityId } });
    }
  });

  it("writes the same entry the same way for each of several subscriptions", () => {
    const e = entry(7);
    const a = notificationWriter(sub({ id: "aaaaaaaa-0000-0000-0000-000000000000", client_state: "a" }));
    const b = notificationWriter(sub({ id: "bbbbbbbb-0000-0000-0000-000000000000", client_state: null }));
    for (let i = 0; i < 2; i++) {
      expect(JSON.parse(a(e))).toMatchObject({
        subscriptionId: "aaaaaaaa-0000-0000-0000-000000000000",
        clientState: "a",
        resource: "security/alerts_v2/da6387_-1234",
      });
      expect(JSON.parse(b(e))).toMatchObject({ subscriptionId: "bbbbbbbb-0000-0000-0000-000000000000", clientState: null });
    }
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
    expect(notificationWriter(sub({ id: "sub-2" }))(entry(65536))).toContain(`"id":"${notificationId("sub-2", 65536)}"`);
  });
});
