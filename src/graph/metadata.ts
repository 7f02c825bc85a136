/**
 * `GET /v1.0/$metadata` and `/beta/$metadata`: the service's OData CSDL document (src/schema/csdl.ts),
 * as Graph serves it — XML, no token needed — with a strong ETag, so a client that asks again with
 * If-None-Match gets 304 without the document.
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { metadataDocument, type ApiVersion } from "../schema/csdl.js";
import { methodNotAllowed } from "../errors/graph-error.js";
import { sendError } from "../http/conventions.js";
import { METHOD_NOT_ALLOWED } from "../schema/openapi.js";
import { metadataDoc } from "./route-docs.js";

const VERSIONS: readonly ApiVersion[] = ["v1.0", "beta"];

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

function withEtag(doc: string): { doc: string; etag: string } {
  return { doc, etag: `"${createHash("sha256").update(doc).digest("base64url").slice(0, 27)}"` };
}

export function registerMetadataRoutes(app: FastifyInstance): void {
  for (const version of VERSIONS) {
    // Built on the first request, not while the server starts (some 20 ms of an ephemeral start).
    let built: { doc: string; etag: string } | undefined;
    const document = () => (built ??= withEtag(metadataDocument(version)));
    app.get(`/${version}/$metadata`, { config: { public: true, openapi: metadataDoc(version) } }, async (req, reply) => {
      const { doc, etag } = document();
      reply.header("etag", etag).header("cache-control", "public, max-age=3600").header("odata-version", "4.0");
      if (matches(req.headers["if-none-match"], etag)) return reply.code(304).send();
      return reply.code(200).type("application/xml; charset=utf-8").send(doc);
    });
    app.route({
      method: ["POST", "PATCH", "PUT", "DELETE"],
      url: `/${version}/$metadata`,
      config: { public: true, openapi: METHOD_NOT_ALLOWED },
      handler: async (req, reply) => sendError(req, reply, methodNotAllowed(req.method, ["GET"])),
    });
  }
}
