import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { NotFoundPage } from "../http/conventions.js";
import { SECURITY_HEADERS } from "./routes.js";

/**
 * Addresses that belong to an API (Graph, ingestion, Triage's own, the web app's configuration and
 * assets, the token service under a tenant, what the Azure CLI reads): an unknown one answers a Graph error body, whoever asks.
 */
const API_PATH =
  /^\/(?:v1\.0|beta|triage|ingest|web|assets|permissions|healthz|favicon\.ico|\.well-known|arm|adfs)(?:\/|$)|^\/[^/]+\/(?:oauth2|v2\.0|discovery|\.well-known)(?:\/|$)/i;

const SMALL_404 = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · Triage</title></head>
<body><main><h1>Page not found</h1><p>There is no page at this address. <a href="/">Go to Triage</a>.</p></main></body></html>`;

/** A browser navigating: a GET (or HEAD) whose Accept names text/html, outside every API path. */
export function isPageRequest(req: FastifyRequest): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const accept = req.headers.accept ?? "";
  if (!/(^|,)\s*text\/html\s*(;|,|$)/i.test(accept)) return false;
  return !API_PATH.test(req.url.split("?")[0]!);
}

/**
 * The web app's own index.html with status 404: the app's router then shows its "Page not found" for
 * the address, signed in or after sign-in. Without a built app, a small HTML page says the same.
 */
export function webNotFoundPage(root: string | undefined): NotFoundPage {
  return {
    matches: isPageRequest,
    async send(_req: FastifyRequest, reply: FastifyReply) {
      // Read per request: a rebuild changes index.html (its assets are named by content hash).
      const html = root ? await readFile(join(root, "index.html"), "utf8").catch(() => SMALL_404) : SMALL_404;
      return reply.code(404).headers(SECURITY_HEADERS).header("cache-control", "no-cache").type("text/html; charset=utf-8").send(html);
    },
  };
}
