import { GraphError } from "../errors/graph-error.js";
import type { Principal } from "./principal.js";
import type { Operation } from "./catalog.js";

function names(list: { permission: string }[]): string[] {
  return list.map((g) => g.permission);
}

/**
 * The one place that decides whether a caller may perform an operation, from the catalog alone.
 * App-only tokens need one of the operation's application permissions in `roles`. Delegated tokens
 * need one of its delegated permissions in `scp`, and the signed-in user needs one of the Entra roles
 * the operation allows. Denied unless something allows. The 403 names what the operation needs.
 */
export function authorize(principal: Principal, op: Operation): void {
  if (principal.kind === "app") {
    const required = names(op.grants.Application);
    if (required.length === 0) {
      throw new GraphError(
        403,
        "Forbidden",
        `Missing application roles. No application roles grant this operation: it needs a signed-in user (delegated permissions ${names(op.grants.DelegatedWork).join(",")}). Application roles: ${principal.appRoles.join(",")}.`,
      );
    }
    if (!principal.appRoles.some((r) => required.includes(r))) {
      throw new GraphError(
        403,
        "Forbidden",
        `Missing application roles. API required roles: ${required.join(",")}, application roles: ${principal.appRoles.join(",")}.`,
      );
    }
    return;
  }
  const required = names(op.grants.DelegatedWork);
  if (!principal.scopes.some((s) => required.includes(s))) {
    throw new GraphError(
      403,
      "Forbidden",
      `Missing scope permissions on the request. API requires one of '${required.join(", ")}'. Scopes on the request '${principal.scopes.join(", ")}'.`,
    );
  }
  if (!principal.userRoles.some((r) => op.roles.includes(r))) {
    throw new GraphError(
      403,
      "Forbidden",
      `The signed-in user is not allowed to perform this operation. It requires one of the roles '${op.roles.join(", ")}'; the user has '${principal.userRoles.join(", ")}'.`,
    );
  }
}
