import type { CompiledQuery } from "kysely";
import { LRUCache } from "lru-cache";
import type { Store } from "./open.js";

/**
 * A named hole in a compiled query, filled at execution. Building a query through Kysely's builders
 * and compiling it costs more than running a small indexed query on SQLite, so the hot read paths
 * compile each shape once with slots where the per-request values go, and bind them per request.
 */
export class Slot {
  constructor(readonly name: string) {}
}

export function slot(name: string): Slot {
  return new Slot(name);
}

/** A compiled query's parameters with its slots filled from `values`. */
export function bind(compiled: CompiledQuery, values: Record<string, unknown>): unknown[] {
  return compiled.parameters.map((p) => {
    if (!(p instanceof Slot)) return p;
    if (!(p.name in values)) throw new Error(`no value for query slot '${p.name}'`);
    return values[p.name];
  });
}

/** Runs a compiled read with its slots filled; its rows as arrays in select-list order. */
export function readArrays(store: Store, compiled: CompiledQuery, values: Record<string, unknown>): Promise<unknown[][]> {
  return store.arrays(compiled, bind(compiled, values));
}

/** Compiled statements by shape, a bounded number, least recently used dropped first. */
export class CompiledCache {
  private readonly lru: LRUCache<string, CompiledQuery<unknown>>;

  constructor(max = 500) {
    this.lru = new LRUCache({ max });
  }

  get<R>(key: string, build: () => CompiledQuery<R>): CompiledQuery<R> {
    let q = this.lru.get(key) as CompiledQuery<R> | undefined;
    if (!q) this.lru.set(key, (q = build()));
    return q;
  }
}
