/**
 * Subscriptions in Microsoft Graph's change-notification contract (create, list, read, renew,
 * reauthorize, delete) for security incidents and alerts_v2. A subscription belongs to its tenant and
 * to the app that created it (and, when a user signed in, to that user); subscribing needs the read
 * permission of the resource, checked through the permission catalog like any read. A new
 * subscription's notificationUrl (and lifecycleNotificationUrl) must pass Graph's validation handshake.
 */
import { randomUUID } from "node:crypto";
import { badRequest, GraphError, notFound } from "../../errors/graph-error.js";
import { planQuery } from "../../odata/query-options.js";
import type { FilterLimits } from "../../odata/filter-cost.js";
import { authorize } from "../../permissions/authorize.js";
import { operation } from "../../permissions/catalog.js";
import type { Principal } from "../../permissions/principal.js";
import type { FilterExpr } from "../../query/filter-ast.js";
import { alertResource } from "../../schema/alert.js";
import { incidentResource } from "../../schema/incident.js";
import { MAX_ID_LENGTH, MAX_INCIDENT_ID } from "../../schema/limits.js";
import type { Resource } from "../../schema/meta.js";
import { lastFeedSeq } from "../../store/feed.js";
import type { Store } from "../../store/open.js";
import {
  checkFilterCompiles,
  countTenantSubscriptions,
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  setSubscriptionExpiry,
  type SubscriptionTable,
} from "../../store/subscriptions.js";
import { checkCertificate, MAX_CERTIFICATE_ID_LENGTH } from "./encryption.js";
import { checkUrlForm, DestinationRefused, post } from "./outbound.js";
import { MAX_LIFETIME_MINUTES, type NotificationSettings } from "./settings.js";

export type { SubscriptionTable };

export const MAX_CLIENT_STATE = 128;
export const MAX_RESOURCE_LENGTH = 4096;
const CHANGE_TYPES = ["created", "updated"] as const;
const TLS_VERSIONS = ["v1_0", "v1_1", "v1_2", "v1_3"];
/** Properties a create may carry; anything else is a 400. */
const CREATE_PROPERTIES = new Set([
  "@odata.type",
  "changeType",
  "notificationUrl",
  "resource",
  "expirationDateTime",
  "clientState",
  "lifecycleNotificationUrl",
  "latestSupportedTlsVersion",
  "includeResourceData",
  "encryptionCertificate",
  "encryptionCertificateId",
  "notificationContentType",
  "notificationUrlAppId",
  "notificationQueryOptions",
  "id",
  "applicationId",
  "creatorId",
]);

/** Who is subscribing: the tenant, the app, and the signed-in user (null for an app-only token). */
export interface Subscriber {
  tenantId: string;
  principal: Principal;
}

function scopeOf(s: Subscriber): { tenantId: string; appId: string; creatorId: string | null } {
  return { tenantId: s.tenantId, appId: s.principal.clientId, creatorId: s.principal.kind === "user" ? s.principal.objectId : null };
}

export interface ParsedResource {
  resource: Resource;
  entityType: "incident" | "alert";
  entityId: string | null;
  filterText: string | null;
  filter: FilterExpr | null;
}

/** Reads a subscription's resource: a collection (optionally with $filter) or one entity by id. */
export function parseResource(raw: string, store: Store, filterLimits: FilterLimits): ParsedResource {
  if (raw.length > MAX_RESOURCE_LENGTH) throw badRequest(`The resource is longer than ${MAX_RESOURCE_LENGTH} characters.`);
  const q = raw.indexOf("?");
  const path = (q < 0 ? raw : raw.slice(0, q)).replace(/^\/+/, "");
  const query = q < 0 ? "" : raw.slice(q + 1);
  const m = /^security\/(incidents|alerts_v2)(?:\/([^/]+))?$/i.exec(path);
  if (!m) {
    throw badRequest(
      `Resource '${raw}' is not supported. Triage supports change notifications for security/incidents and security/alerts_v2, a single incident or alert by id, or either collection with a $filter.`,
    );
  }
  const entityType = m[1]!.toLowerCase() === "incidents" ? "incident" : "alert";
  const resource = entityType === "incident" ? incidentResource : alertResource;
  let entityId: string | null = null;
  if (m[2] !== undefined) {
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      throw badRequest(`The id in resource '${raw}' is not valid.`);
    }
    if (entityType === "incident" && !(/^\d{1,10}$/.test(id) && Number(id) >= 1 && Number(id) <= MAX_INCIDENT_ID)) {
      throw badRequest(`'${id}' is not a valid incident id.`);
    }
    if (id.length === 0 || id.length > MAX_ID_LENGTH) throw badRequest(`The id in resource '${raw}' is not valid.`);
    entityId = id;
  }
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (key.trim().toLowerCase() !== "$filter") throw badRequest(`The query option '${key}' is not supported in a subscription's resource; only $filter is.`);
  }
  const filterText = params.get("$filter");
  if (filterText !== null && entityId !== null) throw badRequest("A $filter applies to a collection, not to a single entity.");
  let filter: FilterExpr | null = null;
  if (filterText !== null) {
    // The same parser, allow-lists and cost limits as a listing's $filter.
    filter = planQuery({ resource, params: new URLSearchParams({ $filter: filterText }), beta: false, alertResource, filterLimits }).filter;
    if (filter) checkFilterCompiles(store, resource, filter);
  }
  return { resource, entityType, entityId, filterText, filter };
}

/** The catalog operation whose permission a subscription to the resource needs: the resource's read. */
export function readOperationOf(p: Pick<ParsedResource, "entityType" | "entityId">): string {
  const set = p.entityType === "incident" ? "/security/incidents" : "/security/alerts_v2";
  return `GET ${set}${p.entityId === null ? "" : "/{id}"}`;
}

function checkRead(s: Subscriber, p: Pick<ParsedResource, "entityType" | "entityId">): void {
  authorize(s.principal, operation(readOperationOf(p)));
}

function str(body: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw badRequest(`The property '${name}' is required.`);
    return null;
  }
  if (typeof v !== "string") throw badRequest(`The property '${name}' must be a string.`);
  return v;
}

/** Parses an expiry: a future instant no later than the maximum lifetime. */
function expiryOf(raw: string, now: number): string {
  const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,7})?)?(Z|[+-]\d\d:\d\d)$/i.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw badRequest(`The expirationDateTime '${raw}' is not a valid date and time.`);
  if (t <= now) throw badRequest("Subscription expiration can only be in the future.");
  if (t > now + MAX_LIFETIME_MINUTES * 60_000) {
    throw badRequest(`Subscription expiration exceeds the maximum allowed lifetime of ${MAX_LIFETIME_MINUTES} minutes for security resources.`);
  }
  return new Date(t).toISOString();
}

function changeTypesOf(raw: string): string {
  const parts = raw.split(",").map((p) => p.trim());
  const seen = new Set<string>();
  for (const p of parts) {
    if (p === "deleted") throw badRequest("changeType 'deleted' is not supported: incidents and alerts are never deleted.");
    if (!(CHANGE_TYPES as readonly string[]).includes(p))
      throw badRequest(`'${p}' is not a valid changeType; use created, updated or both, separated by a comma.`);
    seen.add(p);
  }
  return CHANGE_TYPES.filter((c) => seen.has(c)).join(",");
}

/** The validation token sent in the handshake: opaque, with characters the receiver must URL-decode. */
function validationToken(): string {
  return `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
}

/**
 * Graph's validation handshake: POST to the URL with ?validationToken=…; the endpoint must answer 200
 * text/plain with the decoded token, within the handshake timeout. Refusal reasons become the 400.
 */
export async function validateEndpoint(raw: string, property: string, settings: NotificationSettings): Promise<void> {
  let url: URL;
  try {
    url = checkUrlForm(raw, settings, property);
  } catch (e) {
    if (e instanceof DestinationRefused) throw badRequest(e.message);
    throw e;
  }
  const token = validationToken();
  const target = new URL(url);
  target.searchParams.append("validationToken", token);
  let reason: string;
  try {
    const res = await post(target, "", {
      contentType: "text/plain; charset=utf-8",
      timeoutMs: settings.handshakeTimeoutMs,
      maxResponseBytes: Buffer.byteLength(token) + 1,
      policy: settings,
    });
    if (res.status === 200 && /^text\/plain\b/i.test(res.contentType) && res.body === token) return;
    reason =
      res.status !== 200
        ? `it answered ${res.status}`
        : !/^text\/plain\b/i.test(res.contentType)
          ? `its answer's Content-Type was '${res.contentType}', not text/plain`
          : "its answer was not the validation token";
  } catch (e) {
    if (e instanceof DestinationRefused) throw badRequest(`Subscription validation request failed. ${e.message}`);
    reason = `it could not be reached (${(e as Error).message})`;
  }
  throw badRequest(
    `Subscription validation request failed. The ${property} must respond with 200 OK and the validation token as text/plain within ${settings.handshakeTimeoutMs / 1000} seconds; ${reason}.`,
  );
}

/**
 * Rich notifications: with includeResourceData the receiver's certificate and its id are required, and
 * the certificate must be one the resource data can be encrypted for (encryption.ts); without it,
 * neither may be sent. The certificate is kept as compact base64.
 */
function richOf(b: Record<string, unknown>, now: number): { certificate: string; certificateId: string } | null {
  const include = b.includeResourceData;
  if (include !== undefined && include !== null && typeof include !== "boolean") throw badRequest("The property 'includeResourceData' must be a boolean.");
  const certificate = str(b, "encryptionCertificate", false);
  const certificateId = str(b, "encryptionCertificateId", false);
  if (include !== true) {
    if (certificate !== null || certificateId !== null) {
      throw badRequest("encryptionCertificate and encryptionCertificateId apply only to a subscription with includeResourceData set to true.");
    }
    return null;
  }
  if (certificate === null) throw badRequest("An encryptionCertificate is required when includeResourceData is true.");
  if (certificateId === null || certificateId.length === 0) throw badRequest("An encryptionCertificateId is required when includeResourceData is true.");
  if (certificateId.length > MAX_CERTIFICATE_ID_LENGTH) throw badRequest(`The encryptionCertificateId is longer than ${MAX_CERTIFICATE_ID_LENGTH} characters.`);
  checkCertificate(certificate, now);
  return { certificate: certificate.replace(/\s+/g, ""), certificateId };
}

export interface CreateOptions {
  store: Store;
  settings: NotificationSettings;
  filterLimits: FilterLimits;
  apiVersion: string;
  /** The tenant's token issuer as the caller reaches Triage (identity/tokens.ts issuerFor). */
  tokenIssuer: string;
}

export async function createSubscription(o: CreateOptions, s: Subscriber, body: unknown): Promise<SubscriptionTable> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a subscription object.");
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!CREATE_PROPERTIES.has(k)) throw badRequest(`The property '${k}' does not exist on type 'microsoft.graph.subscription'.`);
  const now = Date.now();
  const changeType = changeTypesOf(str(b, "changeType", true)!);
  const notificationUrl = str(b, "notificationUrl", true)!;
  const resourceRaw = str(b, "resource", true)!;
  const expiresAt = expiryOf(str(b, "expirationDateTime", true)!, now);
  const clientState = str(b, "clientState", false);
  if (clientState !== null && clientState.length > MAX_CLIENT_STATE) throw badRequest(`clientState is longer than ${MAX_CLIENT_STATE} characters.`);
  const lifecycleUrl = str(b, "lifecycleNotificationUrl", false);
  const tls = str(b, "latestSupportedTlsVersion", false) ?? "v1_2";
  if (!TLS_VERSIONS.includes(tls)) throw badRequest(`'${tls}' is not a valid latestSupportedTlsVersion; use v1_0, v1_1, v1_2 or v1_3.`);
  const rich = richOf(b, now);
  const parsed = parseResource(resourceRaw, o.store, o.filterLimits);
  checkRead(s, parsed);
  if ((await countTenantSubscriptions(o.store.db, s.tenantId)) >= o.settings.maxSubscriptionsPerTenant) {
    throw new GraphError(403, "ExtensionError", `The tenant has reached its limit of ${o.settings.maxSubscriptionsPerTenant} subscriptions.`);
  }
  await validateEndpoint(notificationUrl, "notificationUrl", o.settings);
  if (lifecycleUrl !== null) await validateEndpoint(lifecycleUrl, "lifecycleNotificationUrl", o.settings);
  const created = new Date().toISOString();
  const row: SubscriptionTable = {
    id: randomUUID(),
    tenant_id: s.tenantId,
    app_id: s.principal.clientId,
    creator_id: s.principal.objectId,
    resource: resourceRaw.replace(/^\/+/, ""),
    entity_type: parsed.entityType,
    entity_id: parsed.entityId,
    filter: parsed.filterText,
    change_types: changeType,
    notification_url: notificationUrl,
    lifecycle_url: lifecycleUrl,
    client_state: clientState,
    tls_version: tls,
    api_version: o.apiVersion,
    created_at: created,
    expires_at: expiresAt,
    // Changes committed from now on: the feed's current end is where this subscription starts.
    cursor: await lastFeedSeq(o.store.db, s.tenantId),
    attempts: 0,
    failing_since: null,
    next_attempt_at: created,
    lease_owner: null,
    lease_until: null,
    encryption_certificate: rich?.certificate ?? null,
    encryption_certificate_id: rich?.certificateId ?? null,
    reauthorization_notified_for: null,
    removed_at: null,
    token_issuer: o.tokenIssuer,
  };
  await insertSubscription(o.store.db, row);
  return row;
}

/** Most subscriptions one page of GET /subscriptions holds. */
export const SUBSCRIPTIONS_PAGE = 100;

export async function listOwnSubscriptions(store: Store, s: Subscriber, afterId: string | null): Promise<{ rows: SubscriptionTable[]; more: boolean }> {
  const rows = await listSubscriptions(store.db, scopeOf(s), afterId, SUBSCRIPTIONS_PAGE + 1);
  return { rows: rows.slice(0, SUBSCRIPTIONS_PAGE), more: rows.length > SUBSCRIPTIONS_PAGE };
}

function subscriptionNotFound(id: string): GraphError {
  return notFound(`The object was not found. Subscription '${id}' does not exist or is not one of this app's.`);
}

export async function getOwnSubscription(store: Store, s: Subscriber, id: string): Promise<SubscriptionTable> {
  const row = await findSubscription(store.db, scopeOf(s), id);
  if (!row) throw subscriptionNotFound(id);
  return row;
}

/** PATCH: renews (a new expirationDateTime), which also reauthorizes: the read permission is checked again. */
export async function renewSubscription(store: Store, s: Subscriber, id: string, body: unknown): Promise<SubscriptionTable> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a subscription object.");
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k !== "expirationDateTime" && k !== "@odata.type") throw badRequest(`The property '${k}' cannot be changed; only expirationDateTime can.`);
  }
  const expiresAt = expiryOf(str(b, "expirationDateTime", true)!, Date.now());
  const row = await getOwnSubscription(store, s, id);
  checkRead(s, { entityType: row.entity_type, entityId: row.entity_id });
  await setSubscriptionExpiry(store.db, s.tenantId, id, expiresAt);
  return { ...row, expires_at: expiresAt };
}

/** Reauthorizes without changing the expiry: the caller must still hold the resource's read permission. */
export async function reauthorizeSubscription(store: Store, s: Subscriber, id: string): Promise<void> {
  const row = await getOwnSubscription(store, s, id);
  checkRead(s, { entityType: row.entity_type, entityId: row.entity_id });
}

export async function removeSubscription(store: Store, s: Subscriber, id: string): Promise<void> {
  await getOwnSubscription(store, s, id);
  if (!(await deleteSubscription(store.db, s.tenantId, id))) throw subscriptionNotFound(id);
}
