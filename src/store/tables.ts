import type { Generated, Kysely } from "kysely";

/** Row shapes of Triage's tables. Enum columns hold the member's ordinal (declaration order). */
export interface TenantTable {
  id: string;
  display_name: string;
  created_at: string;
  next_incident_id: number;
  next_alert_seq: number;
}

export interface IncidentTable {
  tenant_id: string;
  id: number;
  status: number;
  severity: number;
  classification: number | null;
  determination: number | null;
  assigned_to: string | null;
  display_name: string | null;
  created_at: string;
  updated_at: string;
  priority_score: number | null;
  /** JSON: why the incident got its priority score (see domain/priority.ts). */
  priority_factors: string | null;
  redirect_incident_id: number | null;
  /** "alerts" while the severity follows the alerts; "analyst" once a PATCH set it. */
  severity_source: string;
  /** "alerts" while the name follows the alerts; "analyst" once a PATCH set it. */
  name_source: string;
  alert_count: number;
  /** Optimistic-concurrency counter, bumped on every write. */
  version: number;
  /** The Graph JSON of the incident (beta properties included, alerts excluded). */
  doc: string;
  /** The incident as /v1.0 serves it, ready to send; see `gated`. */
  json_v1: string | null;
  /** How the ready JSON is kept: READY, GATED (it holds an enum member gated behind Prefer: include-unknown-enum-members) or READY_IS_DOC (columns.ts). */
  gated: number;
}

export interface AlertTable {
  tenant_id: string;
  id: string;
  /** Ingestion order within the tenant; bounds a paging snapshot. */
  seq: number;
  incident_id: number | null;
  status: number;
  severity: number;
  classification: number | null;
  determination: number | null;
  service_source: number;
  detection_source: number | null;
  assigned_to: string | null;
  title: string | null;
  /** The alert's category: AlertInfo's Category in advanced hunting (migration 010). */
  category: string | null;
  detector_key: string | null;
  created_at: string;
  updated_at: string;
  first_activity_at: string | null;
  last_activity_at: string | null;
  version: number;
  doc: string;
  /** The alert as /v1.0 serves it, ready to send; see `gated`. */
  json_v1: string | null;
  /** How the ready JSON is kept: READY, GATED or READY_IS_DOC (columns.ts). */
  gated: number;
  /** JSON array: the triage properties an analyst has set, which an alert sent again keeps (domain/alert-ownership.ts). */
  analyst_properties: string;
}

export interface AuditTable {
  seq: Generated<number>;
  tenant_id: string;
  entity_type: string;
  entity_id: string;
  at: string;
  actor: string;
  request_id: string | null;
  property: string;
  before: string | null;
  after: string | null;
}

export interface IncidentEntityTable {
  tenant_id: string;
  entity_key: string;
  incident_id: number;
  last_seen_at: string;
}

export interface CorrelationEventTable {
  seq: Generated<number>;
  tenant_id: string;
  incident_id: number;
  at: string;
  kind: string;
  alert_id: string | null;
  other_incident_id: number | null;
  reasons: string;
  detail: string | null;
}

export interface DetectorStatTable {
  tenant_id: string;
  detector_key: string;
  alert_count: number;
}

/** An incident's derivation summary (migration 021; schema/records.ts IncidentSummary). JSON columns hold arrays. */
export interface IncidentSummaryTable {
  tenant_id: string;
  incident_id: number;
  alert_count: number;
  /** The highest severity's ordinal. */
  severity: number;
  /** JSON: string[]. */
  titles: string;
  /** JSON: [value, createdAt, seq][]. */
  categories: string;
  /** JSON: [value, createdAt, seq][]. */
  detection_sources: string;
  /** JSON: string[]. */
  detector_keys: string;
  devices: number;
  accounts: number;
}

export interface AppTable {
  client_id: string;
  tenant_id: string;
  display_name: string;
  created_at: string;
  /** 1 for public clients (no secret: device code, auth code with PKCE, ROPC). */
  public_client: number;
  redirect_uris: string;
  /** JSON: requested application permissions (names). */
  app_permissions: string;
  /** JSON: requested delegated permissions (names). */
  delegated_permissions: string;
}

export interface AppSecretTable {
  id: string;
  client_id: string;
  /** The first characters, shown in listings so a secret can be recognised. */
  hint: string;
  hash: string;
  created_at: string;
  expires_at: string;
}

export interface AppCertificateTable {
  thumbprint: string;
  client_id: string;
  pem: string;
  created_at: string;
  expires_at: string;
}

export interface ConsentTable {
  tenant_id: string;
  client_id: string;
  scheme: string;
  permission: string;
  granted_at: string;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  upn: string;
  display_name: string;
  password_hash: string | null;
  /** JSON: Entra role names. */
  roles: string;
  created_at: string;
}

export interface SigningKeyTable {
  kid: string;
  private_pem: string;
  public_jwk: string;
  created_at: string;
  /** Set when a newer key took over signing; the key stays in the JWKS until its tokens expire. */
  retired_at: string | null;
}

export interface GrantTable {
  /** SHA-256 of the code or token. */
  id: string;
  kind: string;
  tenant_id: string;
  client_id: string;
  user_id: string | null;
  user_code: string | null;
  data: string;
  status: string;
  expires_at: string;
  /** The sign-in a refresh token descends from (the authorization code's id, or the first token's); null before families were kept. */
  family_id: string | null;
}

/** Failed sign-ins under one key (an account or a source address), and its lockout. Epoch ms. */
export interface SigninFailureTable {
  key: string;
  failures: number;
  /** Lockouts so far in this run of failures: each one lasts twice as long as the last. */
  lockouts: number;
  locked_until: number;
  expires_at: number;
}

/** A client assertion already accepted (SHA-256 of client id and jti), kept until it could no longer be replayed. */
export interface SeenAssertionTable {
  id: string;
  expires_at: number;
}

/** A throttling counter: requests under `key` in the fixed window starting at `window_start` (epoch ms). */
export interface RateLimitTable {
  key: string;
  window_start: number;
  expires_at: number;
  count: number;
}

/** The readiness probe's last committed write, per node. */
export interface HeartbeatTable {
  node: string;
  beat_at: string;
}

/** Each tenant's last change-feed number. */
export interface FeedCounterTable {
  tenant_id: string;
  last_seq: number;
}

/**
 * One committed change to an incident or an alert, numbered per tenant in commit order. On PostgreSQL
 * a row is written with `seq` null and numbered after its transaction commits (feed-sequencer.ts); it
 * also has an `id`, the order rows were written in, which only the sequencer reads.
 */
export interface ChangeFeedTable {
  tenant_id: string;
  seq: number | null;
  entity_type: "incident" | "alert";
  entity_id: string;
  change_type: "created" | "updated";
  at: string;
  actor: string;
  /** 1 when an automation rule made the change: such changes never trigger rules again. */
  automated: number;
  /** 1 when a signed-in person made the change (it stops the incident's first-action clock). */
  by_person: number;
  /** The feed record of an SLA breach: "firstAction" or "resolve"; null for every other change. */
  sla_breach: string | null;
}

/** A change-notification subscription and its delivery state (see store/subscriptions.ts). */
export interface SubscriptionTable {
  id: string;
  tenant_id: string;
  app_id: string;
  creator_id: string;
  resource: string;
  entity_type: "incident" | "alert";
  entity_id: string | null;
  filter: string | null;
  /** Comma-separated, as Graph takes them: created, updated. */
  change_types: string;
  notification_url: string;
  lifecycle_url: string | null;
  client_state: string | null;
  tls_version: string;
  api_version: string;
  created_at: string;
  expires_at: string;
  /** The last feed number handled: delivered and acknowledged, or not matching. */
  cursor: number;
  attempts: number;
  failing_since: string | null;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  /** Rich notifications: the receiver's certificate (base64 DER) the resource data is encrypted for; null without resource data. */
  encryption_certificate: string | null;
  /** The receiver's id for that certificate, sent back with each encrypted content. */
  encryption_certificate_id: string | null;
  /** The expiry a reauthorizationRequired lifecycle notification was sent for. */
  reauthorization_notified_for: string | null;
  /** When the subscription was found to be one its app may no longer read; nothing is delivered from then on. */
  removed_at: string | null;
  /** The tenant's token issuer as the creator reached Triage: the `iss` of its notifications' validationTokens. */
  token_issuer: string | null;
}

/** A fault configuration of a tenant (client_id '') or one app: its rules and their counters, as JSON. */
export interface FaultConfigTable {
  tenant_id: string;
  client_id: string;
  config: string;
  counters: string;
  updated_at: string;
  updated_by: string;
}

/** One injected fault. */
export interface FaultEventTable {
  seq: Generated<number>;
  tenant_id: string;
  /** The app whose request it was. */
  client_id: string;
  /** The configuration that injected it: '' the tenant's, else the app's client id. */
  scope: string;
  rule: number;
  fault: string;
  status: number | null;
  delay_ms: number | null;
  at: string;
  request_id: string;
  method: string;
  route: string;
  retry_attempt: number | null;
}

/** The strictness profile of a tenant (client_id '') or one app. */
export interface ApiProfileTable {
  tenant_id: string;
  client_id: string;
  profile: string;
  updated_at: string;
}

/** An automation rule; its conditions and actions are the JSON `definition` (see store/automation.ts). */
export interface AutomationRuleTable {
  id: string;
  tenant_id: string;
  display_name: string;
  rule_order: number;
  /** 1 or 0. */
  enabled: number;
  trigger: string;
  expires_at: string | null;
  definition: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** How far a tenant's rules have been run along its change feed, and which node is running them. */
export interface AutomationCursorTable {
  tenant_id: string;
  cursor: number;
  lease_owner: string | null;
  lease_until: string | null;
}

/** Outbound work a rule produced (a playbook webhook, a Teams or Slack message, an e-mail) and its delivery state. */
export interface AutomationJobTable {
  id: string;
  tenant_id: string;
  rule_id: string;
  kind: string;
  /** JSON: where it goes (URL, sealed secret, recipients). */
  destination: string;
  /** The body to send. */
  payload: string;
  created_at: string;
  attempts: number;
  failing_since: string | null;
  last_error: string | null;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
}

/** A tenant's SLA policy: its targets per severity, as the JSON `definition` (see store/sla.ts). */
export interface SlaPolicyTable {
  tenant_id: string;
  definition: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** An incident's SLA clocks, in milliseconds since 1970 (see store/sla.ts). */
export interface IncidentSlaTable {
  tenant_id: string;
  incident_id: number;
  /** The severity the due times were computed for. */
  severity: string;
  started_ms: number;
  first_action_due_ms: number | null;
  first_action_ms: number | null;
  first_action_by: string | null;
  first_action_breached_ms: number | null;
  resolve_due_ms: number | null;
  /** When the incident was resolved or merged away (null while it is open). */
  closed_ms: number | null;
  resolve_breached_ms: number | null;
  /** The earliest due time of a clock still running, or null. */
  next_due_ms: number | null;
}

/** A lifecycle notification to send, and its delivery state (see store/lifecycle.ts). */
export interface LifecycleOutboxTable {
  id: string;
  tenant_id: string;
  subscription_id: string;
  /** reauthorizationRequired, subscriptionRemoved or missed. */
  event: string;
  /** The subscription's lifecycleNotificationUrl. */
  url: string;
  /** The notification item, JSON. */
  body: string;
  created_at: string;
  attempts: number;
  failing_since: string | null;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
}

/** What a notification URL answered in the current counting window (slow-endpoint throttling). */
export interface NotificationEndpointTable {
  /** SHA-256 (hex) of the notification URL. */
  url_key: string;
  window_start: string;
  notifications: number;
  responses: number;
  slow: number;
}

/** How far `triage sync` has copied one collection of a source tenant (migration 020). */
export interface SyncWindowTable {
  tenant_id: string;
  /** The source: its Graph base URL and tenant, as `triage sync` names them. */
  source: string;
  /** `incidents` or `alerts_v2`. */
  collection: string;
  since: string | null;
  /** JSON array of ids taken at `since`. */
  taken_at_since: string;
  pages: number;
  records: number;
  updated_at: string;
}

export interface Database {
  tenants: TenantTable;
  incidents: IncidentTable;
  alerts: AlertTable;
  audit_log: AuditTable;
  incident_entities: IncidentEntityTable;
  correlation_events: CorrelationEventTable;
  detector_stats: DetectorStatTable;
  incident_summaries: IncidentSummaryTable;
  apps: AppTable;
  app_secrets: AppSecretTable;
  app_certificates: AppCertificateTable;
  consents: ConsentTable;
  users: UserTable;
  signing_keys: SigningKeyTable;
  grants: GrantTable;
  rate_limits: RateLimitTable;
  signin_failures: SigninFailureTable;
  seen_assertions: SeenAssertionTable;
  heartbeats: HeartbeatTable;
  feed_counters: FeedCounterTable;
  change_feed: ChangeFeedTable;
  subscriptions: SubscriptionTable;
  fault_configs: FaultConfigTable;
  fault_events: FaultEventTable;
  api_profiles: ApiProfileTable;
  automation_rules: AutomationRuleTable;
  automation_cursors: AutomationCursorTable;
  automation_jobs: AutomationJobTable;
  sla_policies: SlaPolicyTable;
  incident_slas: IncidentSlaTable;
  lifecycle_outbox: LifecycleOutboxTable;
  notification_endpoints: NotificationEndpointTable;
  sync_windows: SyncWindowTable;
}

/** The database handle the store's functions take: callers outside the store name it by this alias, never by kysely. */
export type Db = Kysely<Database>;
