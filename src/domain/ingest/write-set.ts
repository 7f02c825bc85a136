/**
 * What a finished batch writes, picked out of its state: the incidents and alerts it changed, the
 * sightings it recorded and the stored sightings its merges move. Deciding what to write is the
 * batch's business (domain); writing it is the store's (store/ingest/write.ts).
 */
import type { AlertState, Batch, IncidentState, MergeStep } from "./batch.js";

/** The incidents the batch created or changed, in id order (the order every writer locks in). */
export function incidentsToWrite(batch: Batch): IncidentState[] {
  return [...batch.incidents.values()].filter((i) => i.writes > 0).sort((a, b) => a.id - b.id);
}

/** The alerts the batch created, in ingestion order, and the stored ones it changed. */
export function alertsToWrite(batch: Batch): { fresh: AlertState[]; changed: AlertState[] } {
  const fresh: AlertState[] = [];
  const changed: AlertState[] = [];
  for (const a of batch.alerts.values()) {
    if (a.isNew) fresh.push(a);
    else if (a.writes > 0) changed.push(a);
  }
  fresh.sort((a, b) => a.seq - b.seq);
  return { fresh, changed };
}

/**
 * The merges whose source may have stored sightings, in merge order: a stored incident's, and a new
 * one's once a stored one merged into it. Their stored sightings move before the batch's are written.
 */
export function storedSightingMoves(batch: Batch): MergeStep[] {
  const stored = new Set([...batch.incidents.values()].filter((i) => !i.isNew).map((i) => i.id));
  const moves: MergeStep[] = [];
  for (const m of batch.merges) {
    if (!stored.has(m.from)) continue;
    stored.add(m.into);
    moves.push(m);
  }
  return moves;
}

/** The sightings the batch recorded, each the latest its incident had of the entity. */
export function sightingsToWrite(batch: Batch): { incidentId: number; entityKey: string; lastSeenAt: string }[] {
  const rows: { incidentId: number; entityKey: string; lastSeenAt: string }[] = [];
  for (const [incidentId, keys] of batch.touched) {
    for (const key of keys) rows.push({ incidentId, entityKey: key, lastSeenAt: batch.sightings.get(key)!.get(incidentId)! });
  }
  return rows;
}
