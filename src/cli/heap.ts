import { setFlagsFromString } from "node:v8";

/** `triage serve --heap-growth`'s default, in percent. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

/**
 * How far V8 lets the JavaScript heap grow past what its last full collection kept before it collects
 * again. Left to itself V8 lets it grow up to fourfold when the process allocates fast, and ingestion
 * does (each batch's bodies, alerts and rows outlive a few young-generation collections while the
 * batches ahead of them commit, then die old): the server's resident memory rose from about 150 MB to
 * 320–500 MB under the benchmark's ingestion, with the live heap unchanged. A bound makes full
 * collections more frequent and the heap stay near what is live (docs/operations.md#memory).
 * 0 leaves V8's own rule. Set once, before the server is built; V8 reads it at each full collection.
 */
export function boundHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
