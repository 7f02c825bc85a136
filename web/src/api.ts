/** Triage's API as the signed-in user: Graph JSON, Graph errors, paging, $batch. */
import { accessToken, refresh, signOut } from "./auth";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = "";
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as GraphErrorBody;
    code = body.error?.code ?? "";
    message = body.error?.message ?? message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, code, message);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(path: string, opts: RequestOptions, retried = false): Promise<Response> {
  const token = await accessToken();
  if (!token) {
    signOut();
    throw new ApiError(401, "InvalidAuthenticationToken", "You are signed out.");
  }
  const headers: Record<string, string> = {
    accept: "application/json",
    // Triage's own app shows every member Graph declares (awaitingAction, microsoftSentinel, …), not unknownFutureValue.
    prefer: "include-unknown-enum-members",
    authorization: `Bearer ${token}`,
    ...opts.headers,
  };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(path, { method: opts.method ?? "GET", headers, body, signal: opts.signal });
  if (res.status === 401 && !retried) {
    // The token expired early or was revoked: one refresh, then give up.
    if (await refresh()) return send(path, opts, true);
    signOut();
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function apiText(path: string, opts: RequestOptions = {}): Promise<string> {
  const res = await send(path, { ...opts, headers: { accept: "text/plain", ...opts.headers } });
  return res.text();
}

/** Public JSON (no token): /web/config, /permissions, /web/schema. */
export async function publicJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" }, signal });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export interface Page<T> {
  value: T[];
  "@odata.count"?: number;
  "@odata.nextLink"?: string;
}

/** Follows @odata.nextLink to the end (or `max` items); the links are absolute on this origin. */
export async function pageAll<T>(path: string, opts: { max?: number; signal?: AbortSignal; onPage?: (n: number) => void } = {}): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const page: Page<T> = await api<Page<T>>(next, { signal: opts.signal });
    out.push(...page.value);
    opts.onPage?.(out.length);
    if (opts.max !== undefined && out.length >= opts.max) break;
    const link = page["@odata.nextLink"];
    next = link ? new URL(link, location.origin).pathname + new URL(link, location.origin).search : undefined;
  }
  return out;
}

export interface BatchRequest {
  id: string;
  method: string;
  url: string;
  body?: unknown;
}

export interface BatchResponse {
  id: string;
  status: number;
  body?: GraphErrorBody & Record<string, unknown>;
}

/** Runs requests through POST /v1.0/$batch, 20 at a time (Graph's limit); responses in request order. */
export async function batch(requests: BatchRequest[]): Promise<BatchResponse[]> {
  const out: BatchResponse[] = [];
  for (let i = 0; i < requests.length; i += 20) {
    const chunk = requests.slice(i, i + 20).map((r) => ({
      id: r.id,
      method: r.method,
      url: r.url,
      ...(r.body === undefined ? {} : { body: r.body, headers: { "Content-Type": "application/json" } }),
    }));
    const res = await api<{ responses: BatchResponse[] }>("/v1.0/$batch", { method: "POST", body: { requests: chunk } });
    const byId = new Map(res.responses.map((r) => [r.id, r]));
    for (const r of chunk) out.push(byId.get(r.id) ?? { id: r.id, status: 0 });
  }
  return out;
}

/** An OData string literal. */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${k}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Graph's mergeResponse: the incident that stands after a merge or a move. */
export interface MergeResponse {
  targetIncidentId: string;
}

/** POST mergeIncidents: the server chooses the target and answers it. */
export function mergeIncidents(incidentIds: string[], incidentComment?: string): Promise<MergeResponse> {
  return api<MergeResponse>("/v1.0/security/incidents/mergeIncidents", {
    method: "POST",
    body: { incidentIds, ...(incidentComment ? { incidentComment } : {}) },
  });
}

/** POST moveAlerts: to `incidentId`, or to a new incident when it is null. */
export function moveAlerts(alertIds: string[], incidentId: string | null, alertComment?: string): Promise<MergeResponse> {
  return api<MergeResponse>("/v1.0/security/alerts_v2/moveAlerts", {
    method: "POST",
    body: { alertIds, incidentId, ...(alertComment ? { alertComment } : {}) },
  });
}
