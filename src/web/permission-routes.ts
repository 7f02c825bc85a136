import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type, type TSchema } from "@sinclair/typebox";
import { FinderAnswerSchema, PermissionSummarySchema } from "../permissions/contract-schemas.js";
import { graphErrors, json, type ParamDoc, type RouteDoc } from "../schema/openapi.js";
import { badRequest, notFound } from "../errors/graph-error.js";
import type { Operation } from "../permissions/catalog.js";
import type { PermissionFilters } from "../permissions/contracts.js";
import {
  FILTER_NAMES,
  FilterError,
  finderCsv,
  listPermissions,
  parseFilters,
  type FilterName,
  pathsCsv,
  permissionDetails,
  permissionsListing,
  summariesCsv,
} from "../permissions/explorer.js";
import { CallError, findLeastPrivileged, MAX_CALL_LENGTH } from "../permissions/finder.js";
import { buildPermissionsReference, permissionsCsv, type PermissionsReference } from "../permissions/reference.js";

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

/** One value of a query parameter, or undefined; 400 when it is given more than once. */
function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw badRequest(`The query parameter '${name}' was given more than once.`);
  return values[0];
}

/** The list options of GET /permissions, checked: q, scheme, adminConsent, privilege, enforced. */
function filtersOf(params: URLSearchParams): PermissionFilters {
  const values: Partial<Record<FilterName, string>> = {};
  for (const name of FILTER_NAMES) values[name] = single(params, name);
  try {
    return parseFilters(values);
  } catch (err) {
    if (err instanceof FilterError) throw badRequest(err.message);
    throw err;
  }
}

/** Whether an If-None-Match names the ETag (or is *); weak validators compare as strong ones here, the body being the same bytes. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header || header.length > 2048) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

/** Whether Accept-Encoding allows gzip (q above 0). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header || header.length > 1024) return false;
  return header.split(",").some((part) => {
    const [coding = "", ...params] = part.split(";").map((x) => x.trim().toLowerCase());
    if (coding !== "gzip" && coding !== "x-gzip") return false;
    const q = params.find((x) => x.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
}

type Rows = "methods" | "paths" | "permissions";
function rowsOf(params: URLSearchParams, allowed: readonly Rows[]): Rows {
  const rows = single(params, "rows") ?? allowed[0]!;
  if (!(allowed as readonly string[]).includes(rows)) throw badRequest(`The query parameter 'rows' must be one of ${allowed.join(", ")}.`);
  return rows as Rows;
}

function send(req: FastifyRequest, reply: FastifyReply, json: () => unknown, csv: () => string, filename = "triage-permissions.csv"): FastifyReply {
  reply.header("vary", "accept");
  if (wantsCsv(req)) {
    return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${filename}"`).send(csv());
  }
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(json()));
}

/**
 * The permissions explorer's API, public (it documents public data): GET /permissions (the reference
 * of the permissions Triage enforces and the compact list of every Graph permission, filtered),
 * GET /permissions/lookup (the least-privilege finder) and GET /permissions/{name}. Call it on the
 * root instance before the Graph routes: it also records every route registered after it (see
 * registeredRoutes), which the tests compare with the reference.
 */
const FORMAT: Record<string, ParamDoc> = {
  format: {
    description: "`json` (the default) or `csv`; an Accept preferring text/csv answers CSV too.",
    schema: Type.Union([Type.Literal("json"), Type.Literal("csv")]),
  },
};
const JSON_OR_CSV = (schema: TSchema) => ({ ...json(schema), "text/csv": Type.String() });
const LISTING = Type.Object(
  {
    total: Type.Integer({ description: "How many permissions there are before filtering." }),
    filters: Type.Object({}, { additionalProperties: true, description: "The filters applied." }),
    all: Type.Array(PermissionSummarySchema, { description: "The permissions that match, in the compact form the explorer searches." }),
  },
  {
    additionalProperties: true,
    description: "PermissionsListing (permissions/contracts.ts): also Triage's reference of the permissions it enforces and the data's sources.",
  },
);
const FILTER_TEXT: Record<FilterName, string> = {
  q: "Search text: name, display text, description, id, path or method.",
  scheme: "delegated or application.",
  adminConsent: "true or false: whether the permission needs admin consent.",
  privilege: "A privilege level.",
  enforced: "true: only the permissions Triage enforces.",
};

const LIST_DOC: RouteDoc = {
  tag: "Permissions",
  summary: "List Microsoft Graph permissions",
  description: "Every permission in Microsoft's data and Triage's catalog, filtered as the explorer filters.",
  query: {
    ...Object.fromEntries(FILTER_NAMES.map((n) => [n, { description: FILTER_TEXT[n] }])),
    ...FORMAT,
    rows: { description: "CSV rows: methods (default) or permissions." },
  },
  responses: {
    200: {
      description: "The listing (permissions/contracts.ts), or CSV. Unfiltered JSON carries an ETag and is gzipped when the client accepts it.",
      content: JSON_OR_CSV(LISTING),
    },
    304: { description: "Unfiltered JSON only: the client's copy (If-None-Match) is current." },
    ...graphErrors(400),
  },
};

const LOOKUP_DOC: RouteDoc = {
  tag: "Permissions",
  summary: "Find the least privileged permissions for a call",
  query: {
    path: {
      description: "The call as written, such as /users/{id}/messages?$top=5 (a version prefix and aliases such as /me are understood).",
      required: true,
    },
    method: { description: "The HTTP method (GET when absent)." },
    ...FORMAT,
  },
  responses: {
    200: {
      description: "Per scheme, the least privileged permission and the alternatives, or that none grants the call.",
      content: JSON_OR_CSV(FinderAnswerSchema),
    },
    ...graphErrors(400),
  },
};

const DETAILS_DOC: RouteDoc = {
  tag: "Permissions",
  summary: "One permission's details",
  params: { name: { description: "The permission's name, such as SecurityIncident.ReadWrite.All." } },
  query: { ...FORMAT, rows: { description: "CSV rows: methods (default), paths or permissions." } },
  responses: {
    200: {
      description: "The permission's page data, or CSV.",
      content: JSON_OR_CSV(
        Type.Object({}, { additionalProperties: true, description: "PermissionDetails (permissions/contracts.ts): everything a permission page shows." }),
      ),
    },
    ...graphErrors(400, 404),
  },
};

export function registerPermissionRoutes(app: FastifyInstance, options: { warm?: boolean } = {}): void {
  const routes: RegisteredRoute[] = [];
  recorded.set(app, routes);
  app.addHook("onRoute", (opts) => {
    routes.push({
      methods: [opts.method].flat().map((m) => m.toUpperCase()),
      url: opts.url ?? opts.path,
      operation: opts.config?.operation ?? null,
    });
  });

  // Built on the first request that needs it, not while the server starts (some 30 ms of an ephemeral
  // start, which test suites wait for).
  let built: PermissionsReference | undefined;
  const reference = () => (built ??= buildPermissionsReference());

  // The unfiltered list is about 1.6 MB of JSON and never changes while Triage runs: serialized and
  // gzipped once (level 3: some 190 kB, in a fifth of the time of the default level), on the first request, and answered with an ETag (304 for a matching If-None-Match).
  let everything: { body: Buffer; gzip: Buffer; etag: string } | undefined;
  const unfiltered = () => {
    if (!everything) {
      const body = Buffer.from(JSON.stringify(permissionsListing(reference(), {})));
      everything = { body, gzip: gzipSync(body, { level: 3 }), etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
    }
    return everything;
  };

  if (options.warm) {
    app.addHook("onListen", async () => {
      // After the listen resolves, off any request's path.
      setTimeout(() => {
        try {
          unfiltered();
        } catch (err) {
          app.log.warn({ err }, "building the permissions list failed; the first request builds it");
        }
      }, 0).unref();
    });
  }

  app.get("/permissions", { config: { public: true, openapi: LIST_DOC } }, async (req, reply) => {
    const params = queryOf(req);
    const filters = filtersOf(params);
    if (Object.keys(filters).length === 0 && !wantsCsv(req)) {
      rowsOf(params, ["methods", "permissions"]);
      const cached = unfiltered();
      reply.header("vary", "accept, accept-encoding").header("etag", cached.etag).header("cache-control", "no-cache");
      if (etagMatches(req.headers["if-none-match"], cached.etag)) return reply.code(304).send();
      reply.type("application/json; charset=utf-8");
      if (acceptsGzip(req.headers["accept-encoding"])) return reply.header("content-encoding", "gzip").send(cached.gzip);
      return reply.send(cached.body);
    }
    const listing = permissionsListing(reference(), filters);
    const rows = rowsOf(params, ["methods", "permissions"]);
    return send(
      req,
      reply,
      () => listing,
      () => (rows === "permissions" ? summariesCsv(listing.all, listing.filters) : permissionsCsv(listing.permissions)),
    );
  });

  app.get("/permissions/lookup", { config: { public: true, openapi: LOOKUP_DOC } }, async (req, reply) => {
    const params = queryOf(req);
    const path = single(params, "path");
    const method = single(params, "method");
    if (!path) throw badRequest("The query parameter 'path' is required: the call to look up, such as path=/me/messages&method=GET.");
    if (path.length > MAX_CALL_LENGTH) throw badRequest(`The query parameter 'path' is longer than ${MAX_CALL_LENGTH} characters.`);
    if (method !== undefined && method.length > 10) throw badRequest("The query parameter 'method' is not an HTTP method.");
    let answer;
    try {
      answer = findLeastPrivileged(path, method);
    } catch (err) {
      if (err instanceof CallError) throw badRequest(err.message);
      throw err;
    }
    return send(
      req,
      reply,
      () => answer,
      () => finderCsv(answer),
      "triage-permission-lookup.csv",
    );
  });

  app.get("/permissions/:name", { config: { public: true, openapi: DETAILS_DOC } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    // A name longer than the router's parameter limit never gets here: the plumbing answers 414.
    const details = permissionDetails(name, reference());
    if (!details) throw notFound(`The permission '${name}' is not in Microsoft Graph's permission data or Triage's permission catalog.`);
    const rows = rowsOf(queryOf(req), ["methods", "paths", "permissions"]);
    return send(
      req,
      reply,
      () => details,
      () => {
        if (rows === "methods" && details.triage) return permissionsCsv([details.triage]);
        if (rows === "permissions") return summariesCsv(listPermissionNamed(details.name));
        return pathsCsv(details);
      },
    );
  });
}

function listPermissionNamed(name: string) {
  return listPermissions({ q: name }).filter((s) => s.name === name);
}
