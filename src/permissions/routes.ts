import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest, notFound } from "../errors/graph-error.js";
import type { Operation } from "./catalog.js";
import { buildPermissionsReference, findPermission, permissionsCsv, type PermissionReference, type PermissionsReference } from "./reference.js";

/** A route as registered: its methods, full URL (prefix included) and the catalog operation it declares. */
export interface RegisteredRoute {
  methods: string[];
  url: string;
  operation: Operation | null;
}

const recorded = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on `app` after registerPermissionRoutes, with its declared operation. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return recorded.get(app) ?? [];
}

function queryOf(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : req.url.slice(i + 1));
}

/** The q of the most specific Accept entry matching `type` (0 when none does), and whether it named the type or its family. */
function quality(accept: string, type: string): { q: number; explicit: boolean } {
  let best = { q: 0, specificity: -1 };
  const [major] = type.split("/");
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === "*/*" ? 0 : -1;
    if (specificity < 0 || specificity < best.specificity) continue;
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    best = { q: Number.isFinite(q) ? q : 0, specificity };
  }
  return { q: best.q, explicit: best.specificity > 0 };
}

/** CSV for ?format=csv, or for an Accept that prefers text/csv to application/json; 400 for another format. */
function wantsCsv(req: FastifyRequest): boolean {
  const formats = queryOf(req).getAll("format");
  if (formats.length > 1) throw badRequest("The query parameter 'format' was given more than once.");
  const format = formats[0]?.toLowerCase();
  if (format === "csv") return true;
  if (format === "json") return false;
  if (format !== undefined) throw badRequest(`The format '${formats[0]}' is not supported; use 'json' or 'csv'.`);
  const accept = req.headers.accept;
  if (!accept) return false;
  const csv = quality(accept, "text/csv");
  const json = quality(accept, "application/json");
  return csv.q > 0 && (csv.q > json.q || (csv.q === json.q && csv.explicit && !json.explicit));
}

function sendReference(req: FastifyRequest, reply: FastifyReply, body: PermissionsReference | PermissionReference, rows: PermissionReference[]): FastifyReply {
  reply.header("vary", "accept");
  if (wantsCsv(req)) {
    return reply.type("text/csv; charset=utf-8").header("content-disposition", 'attachment; filename="triage-permissions.csv"').send(permissionsCsv(rows));
  }
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(body));
}

/**
 * GET /permissions and GET /permissions/{name}: the permissions reference, public (it documents
 * public data). Call it on the root instance before the Graph routes: it also records every route
 * registered after it (see registeredRoutes), which the tests compare with the reference.
 */
export function registerPermissionRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  recorded.set(app, routes);
  app.addHook("onRoute", (opts) => {
    routes.push({
      methods: [opts.method].flat().map((m) => m.toUpperCase()),
      url: opts.url ?? opts.path,
      operation: opts.config?.operation ?? null,
    });
  });

  const reference = buildPermissionsReference();

  app.get("/permissions", { config: { public: true } }, async (req, reply) => sendReference(req, reply, reference, reference.permissions));
  app.get("/permissions/:name", { config: { public: true } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const permission = findPermission(reference, name);
    if (!permission) throw notFound(`The permission '${name}' is not in Triage's permission catalog.`);
    return sendReference(req, reply, permission, [permission]);
  });
}
