import { permissionNames } from "../../permissions/catalog.js";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "../tokens.js";
import { invalidScope, OAuthError } from "./entra-error.js";

/** The OpenID Connect scopes, which ask for an id token or a refresh token, not for API access. */
export const OIDC_SCOPES = ["openid", "profile", "offline_access", "email"];

export interface RequestedScopes {
  /** `https://graph.microsoft.com/.default`: every permission consented for the app. */
  useDefault: boolean;
  /** Graph permissions named explicitly, spelled as the catalog spells them. */
  permissions: string[];
  oidc: string[];
}

const RESOURCES = [GRAPH_RESOURCE, GRAPH_APP_ID, "https://graph.microsoft.com"];

/** Reads a `scope` parameter: Graph permissions (qualified or bare), `.default`, and OIDC scopes. */
export function parseScopes(raw: string | undefined): RequestedScopes {
  const out: RequestedScopes = { useDefault: false, permissions: [], oidc: [] };
  const known = permissionNames();
  for (const item of (raw ?? "").split(/\s+/).filter(Boolean)) {
    const lower = item.toLowerCase();
    if (OIDC_SCOPES.includes(lower)) {
      if (!out.oidc.includes(lower)) out.oidc.push(lower);
      continue;
    }
    const slash = item.lastIndexOf("/");
    const resource = slash < 0 ? GRAPH_RESOURCE : item.slice(0, slash).replace(/\/+$/, "");
    const name = slash < 0 ? item : item.slice(slash + 1);
    if (!RESOURCES.some((r) => r.toLowerCase() === resource.toLowerCase())) {
      throw new OAuthError(
        "invalid_resource",
        500011,
        `The resource principal named ${resource} was not found in the tenant. Triage serves only Microsoft Graph (${GRAPH_RESOURCE}).`,
      );
    }
    if (name === ".default") {
      out.useDefault = true;
      continue;
    }
    const match = known.find((k) => k.toLowerCase() === name.toLowerCase());
    if (!match) throw invalidScope(`The provided value for the input parameter 'scope' is not valid: '${item}' is not a permission of ${GRAPH_RESOURCE}.`);
    if (!out.permissions.includes(match)) out.permissions.push(match);
  }
  if (out.useDefault && out.permissions.length > 0) {
    throw invalidScope("The provided value for the input parameter 'scope' is not valid: '.default' cannot be combined with other resource scopes.");
  }
  return out;
}

/** The `scope` a token response reports: the granted permissions as URIs, then the OIDC scopes asked for. */
export function grantedScopeString(req: RequestedScopes, granted: string[], delegated: boolean): string {
  const api = req.useDefault && !delegated ? [`${GRAPH_RESOURCE}/.default`] : granted.map((p) => `${GRAPH_RESOURCE}/${p}`);
  // Delegated `.default`: Entra lists the permissions it stood for, then `.default` itself, which is
  // what MSAL's cache looks the token up by (without it acquireTokenSilent never hits the cache).
  if (req.useDefault && delegated) api.push(`${GRAPH_RESOURCE}/.default`);
  return [...api, ...req.oidc.filter((s) => s !== "offline_access")].join(" ");
}
