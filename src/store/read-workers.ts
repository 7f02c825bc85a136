import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";
import { queriesQueued, queryTimedOut } from "../errors/graph-error.js";
import { REGEX_EXTRACT_FUNCTION, REGEX_MATCH_FUNCTION } from "./hunting-regex.js";

/**
 * Time limits for SQLite reads, and a pool of worker threads that run the expensive ones.
 *
 * better-sqlite3 runs a statement to its end in native code: nothing on the main thread can interrupt
 * it, and terminating a worker thread does not either (the thread exits only once the statement
 * returns). What does stop a statement is an exception thrown by a SQL function it calls, so every
 * guarded statement calls `triage_in_time()` once per row it examines: the function throws once the
 * statement's deadline has passed, and SQLite abandons the statement there.
 *
 * The pool keeps the event loop free while such a statement runs: each worker has its own read-only
 * connection (WAL lets it read the last commit while a write is in flight), and the main thread only
 * posts the SQL and receives the rows.
 */

/** The SQL function a guarded statement calls per row; see `rowGuard` in json-sql.ts. */
export const DEADLINE_FUNCTION = "triage_in_time";
const TIMED_OUT = "triage: statement deadline passed";

/**
 * Registers the deadline function on a connection; `within` runs `fn` with a deadline (statements
 * run outside it never time out).
 */
export function installDeadline(conn: SQLite.Database): { within<T>(timeoutMs: number, fn: () => T): T } {
  let deadline = Infinity;
  conn.function(DEADLINE_FUNCTION, { deterministic: false, directOnly: true }, () => {
    if (Date.now() > deadline) throw new Error(TIMED_OUT);
    return 1;
  });
  return {
    within(timeoutMs, fn) {
      deadline = Date.now() + timeoutMs;
      try {
        return fn();
      } catch (e) {
        if (e instanceof Error && e.message === TIMED_OUT) throw queryTimedOut(timeoutMs);
        throw e;
      } finally {
        deadline = Infinity;
      }
    },
  };
}

/**
 * The worker's program, as source text: workers start outside the TypeScript build (tests run the
 * sources, production the build), and this much plain JavaScript is the same in both. It mirrors
 * `installDeadline` above, and hunting-regex.ts's regular-expression functions (RE2JS, linear time).
 */
const WORKER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const SQLite = require(workerData.driver);
const conn = new SQLite(workerData.file, { readonly: true });
conn.pragma("busy_timeout = 5000");
let deadline = Infinity;
conn.function(${JSON.stringify(DEADLINE_FUNCTION)}, { deterministic: false, directOnly: true }, () => {
  if (Date.now() > deadline) throw new Error(${JSON.stringify(TIMED_OUT)});
  return 1;
});
const { RE2JS } = require(workerData.re2js);
const compiled = new Map();
function compile(pattern) {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value);
    compiled.set(pattern, re);
  }
  return re;
}
conn.function(${JSON.stringify(REGEX_MATCH_FUNCTION)}, { deterministic: true, directOnly: true }, (text, pattern) => {
  if (typeof text !== "string" || typeof pattern !== "string") return null;
  return compile(pattern).matcher(text).find() ? 1 : 0;
});
conn.function(${JSON.stringify(REGEX_EXTRACT_FUNCTION)}, { deterministic: true, directOnly: true }, (pattern, group, text) => {
  if (typeof text !== "string" || typeof pattern !== "string") return null;
  const m = compile(pattern).matcher(text);
  if (!m.find()) return null;
  const n = Number(group);
  if (!Number.isInteger(n) || n < 0 || n > m.groupCount()) return null;
  return m.group(n) ?? null;
});
const statements = new Map();
function statement(sqlText) {
  let st = statements.get(sqlText);
  if (st) {
    statements.delete(sqlText);
  } else {
    st = conn.prepare(sqlText).raw(true);
    if (statements.size >= 200) statements.delete(statements.keys().next().value);
  }
  statements.set(sqlText, st);
  return st;
}
parentPort.on("message", (job) => {
  deadline = Date.now() + job.timeoutMs;
  try {
    parentPort.postMessage({ rows: statement(job.sql).all(...job.params) });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    parentPort.postMessage({ error: message, code: e && e.code, timedOut: message === ${JSON.stringify(TIMED_OUT)} });
  } finally {
    deadline = Infinity;
  }
});
`;

const driver = createRequire(import.meta.url).resolve("better-sqlite3");
const re2js = createRequire(import.meta.url).resolve("re2js");

/**
 * How long past its deadline a statement may go without answering before its worker is given up:
 * the deadline function is not called while SQLite sorts what it has found, only while it looks.
 */
const BACKSTOP_MS = 1000;

interface Job {
  sql: string;
  params: readonly unknown[];
  timeoutMs: number;
  /** While it waits for a worker: the timer that gives up at the deadline. */
  waiting: NodeJS.Timeout | null;
  resolve(rows: unknown[][]): void;
  reject(err: Error): void;
}

interface Reader {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

type Reply = { rows: unknown[][] } | { error: string; code?: string; timedOut: boolean };

export interface ReadPoolOptions {
  file: string;
  /** Worker threads, each with its own connection; started when first needed. */
  size: number;
  /** Statements allowed to wait for a worker; more are refused (503) rather than queued without end. */
  maxQueued: number;
}

export class SqliteReadPool {
  private readonly readers = new Set<Reader>();
  private readonly idle: Reader[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: ReadPoolOptions) {}

  /**
   * Runs one read-only statement on a worker; its rows as arrays. The time limit applies twice: to
   * waiting for a worker, and to running the statement.
   */
  run(sqlText: string, params: readonly unknown[], timeoutMs: number): Promise<unknown[][]> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    if (this.queue.length >= this.options.maxQueued) return Promise.reject(queriesQueued());
    return new Promise((resolve, reject) => {
      const job: Job = { sql: sqlText, params, timeoutMs, waiting: null, resolve, reject };
      job.waiting = setTimeout(() => {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.splice(i, 1);
        reject(queryTimedOut(timeoutMs));
      }, timeoutMs);
      this.queue.push(job);
      this.pump();
    });
  }

  /** Workers started, those free, and statements waiting for one. */
  use(): { total: number; idle: number; waiting: number } {
    return { total: this.readers.size, idle: this.idle.length, waiting: this.queue.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      if (job.waiting) clearTimeout(job.waiting);
      job.reject(new Error("the store is closed"));
    }
    await Promise.all([...this.readers].map((r) => this.retire(r)));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const reader = this.idle.pop() ?? (this.readers.size < this.options.size ? this.spawn() : undefined);
      if (!reader) return;
      const job = this.queue.shift()!;
      if (job.waiting) clearTimeout(job.waiting);
      reader.job = job;
      reader.timer = setTimeout(() => this.giveUp(reader), job.timeoutMs + BACKSTOP_MS);
      // The worker starts the statement's clock when it receives it: a worker's start-up (a fresh
      // thread loading the driver) is not the statement's time.
      reader.worker.postMessage({ sql: job.sql, params: job.params, timeoutMs: job.timeoutMs });
    }
  }

  private spawn(): Reader {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, re2js, file: this.options.file } });
    // An idle pool must not keep the process alive; a waiting caller's timer does while it waits.
    worker.unref();
    const reader: Reader = { worker, job: null, timer: null };
    this.readers.add(reader);
    worker.on("message", (reply: Reply) => this.answered(reader, reply));
    worker.on("error", (err) => this.lost(reader, err));
    worker.on("exit", (code) => this.lost(reader, new Error(`a read worker exited (code ${code})`)));
    return reader;
  }

  private answered(reader: Reader, reply: Reply): void {
    // A late answer from a worker already given up: its caller has had the 504.
    if (!this.readers.has(reader)) return;
    const job = reader.job;
    if (reader.timer) clearTimeout(reader.timer);
    reader.job = null;
    reader.timer = null;
    this.idle.push(reader);
    if (job) {
      if ("rows" in reply) job.resolve(reply.rows);
      else if (reply.timedOut) job.reject(queryTimedOut(job.timeoutMs));
      else job.reject(Object.assign(new Error(reply.error), { code: reply.code }));
    }
    this.pump();
  }

  /** The statement did not stop at its deadline: answer the caller, and replace the worker. */
  private giveUp(reader: Reader): void {
    reader.job?.reject(queryTimedOut(reader.job.timeoutMs));
    reader.job = null;
    // Not awaited: the thread ends only when its statement does.
    void this.retire(reader);
    this.pump();
  }

  private lost(reader: Reader, err: Error): void {
    if (!this.readers.has(reader)) return;
    reader.job?.reject(err);
    reader.job = null;
    void this.retire(reader);
    if (!this.closed) this.pump();
  }

  private async retire(reader: Reader): Promise<void> {
    if (reader.timer) clearTimeout(reader.timer);
    this.readers.delete(reader);
    const i = this.idle.indexOf(reader);
    if (i >= 0) this.idle.splice(i, 1);
    await reader.worker.terminate();
  }
}
