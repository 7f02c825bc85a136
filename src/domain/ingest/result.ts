/**
 * What ingestion answers for each alert, and what its decisions are told. Declared in the domain
 * because the decisions produce the answer; the feature (features/ingest/) hands it to its callers.
 */
import type { CorrelationReason } from "../../schema/enums.js";
import type { CorrelationLimits } from "../correlate.js";

export interface IngestResult {
  id: string;
  incidentId: string;
  outcome: "created" | "updated";
  /** How the alert was placed: a new incident, or the reasons it joined one. */
  correlation: {
    incident: "new" | "joined";
    reasons: CorrelationReason[];
    sharedEntities: string[];
    /** Present when the alert shared entities with incidents it did not join because of a limit: which, and why. */
    notJoined?: { incidentId: string; why: string }[];
  };
  merged: { incidentId: string; into: string; reasons: CorrelationReason[] }[];
  mergeRefused: { incidentId: string; why: string }[];
}

export interface DecisionOptions {
  /** How far apart in time an alert and an incident's last sighting of a shared entity may be. */
  windowMs: number;
  /** The ingesting app: shown in audit rows for the changes its alerts make to stored alerts and incidents. */
  actor: string;
  requestId: string | null;
  /** When the batch arrived: the time of its audit rows, and of a resolution that gives none. */
  now: string;
  /** How large correlation lets an incident grow. */
  limits: CorrelationLimits;
  /**
   * The order a merge moves an incident's alerts (and audits the moves) in: the order the store lists
   * them in, so the outcome is the one the step-by-step rules reach (SQLite: by creation, ties in
   * ingestion order; PostgreSQL: by id).
   */
  alertOrder: "timeline" | "id";
}
