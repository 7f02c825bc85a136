/** What the web app knows of a merge before asking: how many incidents it takes, and the server's rule for the target. */

/** The most incidents one merge takes (Graph's limit). */
export const MAX_MERGE = 5;

/** Why a selection of `count` incidents cannot be merged, or null. */
export function mergeSelectionRefusal(count: number): string | null {
  if (count < 2) return `Select 2 to ${MAX_MERGE} incidents to merge them.`;
  if (count > MAX_MERGE) return `A merge takes at most ${MAX_MERGE} incidents; ${count} are selected.`;
  return null;
}

export interface MergeCandidate {
  id: string;
  createdDateTime: string;
  alertCount: number;
}

/**
 * The target the server is expected to choose, by the rule Triage documents (and correlation uses):
 * the most alerts, then the oldest, then the lowest id. The server decides; its answer is shown after.
 */
export function expectedTarget(candidates: readonly MergeCandidate[]): string | undefined {
  const ranked = [...candidates].sort(
    (a, b) => b.alertCount - a.alertCount || a.createdDateTime.localeCompare(b.createdDateTime) || Number(a.id) - Number(b.id),
  );
  return ranked[0]?.id;
}
