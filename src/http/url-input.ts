import type { FastifyInstance } from "fastify";
import { badRequest, invalidQuery } from "../errors/graph-error.js";
import { sendError } from "./conventions.js";

/**
 * A URL whose path or query holds U+0000 (sent as %00) is refused with a 400 naming where: PostgreSQL
 * cannot compare text with NUL (a 500) where SQLite answers, so without this one id or $filter
 * literal would mean different things on the two stores.
 */
export function installUrlChecks(app: FastifyInstance): void {
  app.addHook("onRequest", async (req, reply) => {
    const url = req.url;
    if (!/%00/i.test(url)) return;
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (/%00/i.test(path)) {
      return sendError(req, reply, badRequest("The URL path contains a NUL character (%00), which no id or path segment may hold."));
    }
    for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
      if (!key.includes("\u0000") && !value.includes("\u0000")) continue;
      const name = key.split("\u0000").join("\\u0000");
      const message = `The query parameter '${name}' contains a NUL character (%00), which is not accepted in any value.`;
      return sendError(req, reply, key.startsWith("$") ? invalidQuery(message) : badRequest(message));
    }
  });
}
