/**
 * The resource data of rich notifications: each changed incident or alert as a GET /v1.0 of it answers
 * at the time of sending (the entity's v1.0 representation, without @odata.context), read from the
 * subscription's own tenant, encrypted for the subscription's certificate.
 */
import { alertResource } from "../../schema/alert.js";
import { incidentResource } from "../../schema/incident.js";
import { renderEntity } from "../../schema/render.js";
import type { FeedEntry } from "../../store/feed.js";
import { incidentKey } from "../../store/incidents.js";
import type { Store } from "../../store/open.js";
import { readEntity } from "../../store/read.js";
import type { SubscriptionTable } from "../../store/subscriptions.js";
import { encryptResource, storedCertificate, type EncryptedContent } from "./encryption.js";

/** An entity's v1.0 JSON as GET /v1.0/security/{set}/{id} sends it (less @odata.context); undefined when it is not there. */
export async function entityJsonV1(store: Store, tenantId: string, entityType: "incident" | "alert", id: string): Promise<string | undefined> {
  const resource = entityType === "incident" ? incidentResource : alertResource;
  const key = entityType === "incident" ? incidentKey(id) : id;
  if (key === null) return undefined;
  const row = await readEntity(store, resource.table, tenantId, key, "ready");
  if (!row) return undefined;
  if (row.doc === null) return row.ready!;
  return JSON.stringify(renderEntity(resource, JSON.parse(row.doc) as Record<string, unknown>, { beta: false, includeUnknown: false, select: null }));
}

/**
 * The encrypted content for each of `entries` (by feed number) of a subscription with resource data;
 * an empty map for one without. Each distinct entity is read once per batch, and each notification is
 * encrypted with a key of its own.
 */
export async function encryptedContents(store: Store, sub: SubscriptionTable, entries: readonly FeedEntry[]): Promise<Map<number, EncryptedContent>> {
  const out = new Map<number, EncryptedContent>();
  if (sub.encryption_certificate === null) return out;
  const cert = storedCertificate(sub.encryption_certificate);
  const jsons = new Map<string, string | undefined>();
  for (const e of entries) {
    const k = `${e.entityType}/${e.entityId}`;
    if (!jsons.has(k)) jsons.set(k, await entityJsonV1(store, sub.tenant_id, e.entityType, e.entityId));
    const json = jsons.get(k);
    if (json !== undefined) out.set(e.seq, encryptResource(json, cert, sub.encryption_certificate_id ?? ""));
  }
  return out;
}
