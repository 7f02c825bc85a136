import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import { operation } from "../../permissions/catalog.js";
import { GraphError } from "../../errors/graph-error.js";
import { graphErrors, json, type RouteDoc } from "../../schema/openapi.js";

/**
 * The one Azure Resource Manager call the Azure CLI makes when it signs in to a cloud
 * (docs/azure-cli.md): `az login --tenant … --allow-no-subscriptions` lists the subscriptions the new
 * token reaches, under the cloud's resource manager endpoint (`https://HOST:PORT/arm/`). Triage has
 * none, so the list is empty and the CLI keeps a tenant-level account. The token is validated and
 * authorized like any API call (catalog operation "GET /arm/subscriptions").
 */

/** ARM's api-version: a date, optionally `-preview` (ARM refuses a request without one). */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

const SUBSCRIPTIONS_DOC: RouteDoc = {
  tag: "Azure CLI",
  summary: "Azure Resource Manager's subscription list, as `az login` reads it: always empty",
  description: "Triage has no Azure subscriptions; `az login --allow-no-subscriptions` then keeps a tenant-level account. See docs/azure-cli.md.",
  query: { "api-version": { description: "ARM's API version, a date such as 2019-11-01 (optionally -preview).", required: true } },
  responses: {
    200: { description: "No subscriptions.", content: json(Type.Object({ value: Type.Array(Type.Object({})) })) },
    ...graphErrors(400, 401, 403, 429),
  },
};

function apiVersionOf(req: FastifyRequest): string {
  const i = req.url.indexOf("?");
  const values = new URLSearchParams(i < 0 ? "" : req.url.slice(i + 1)).getAll("api-version");
  if (values.length !== 1 || !API_VERSION.test(values[0]!)) {
    // ARM's own code and wording for a missing or malformed version.
    throw new GraphError(
      400,
      values.length === 0 ? "MissingApiVersionParameter" : "InvalidApiVersionParameter",
      "The api-version query parameter (?api-version=) is required once, as a date such as 2019-11-01.",
    );
  }
  return values[0]!;
}

export async function registerResourceManagerRoutes(app: FastifyInstance): Promise<void> {
  app.get("/arm/subscriptions", { config: { operation: operation("GET /arm/subscriptions"), openapi: SUBSCRIPTIONS_DOC } }, async (req, reply) => {
    apiVersionOf(req);
    return reply.type("application/json; charset=utf-8").send(JSON.stringify({ value: [] }));
  });
}
