import type { EntraRole } from "./entra-roles.js";

/** Who a validated token speaks for. */
export interface Principal {
  tenantId: string;
  kind: "app" | "user";
  clientId: string;
  /** Shown in lastModifiedBy, comments and the audit trail: the UPN for users, the app name for apps. */
  displayName: string;
  /** Application permissions (app-only tokens). */
  appRoles: string[];
  /** Delegated permissions (user tokens). */
  scopes: string[];
  /** The signed-in user's Entra roles (user tokens). */
  userRoles: EntraRole[];
  objectId: string;
  /** When the token expires (seconds since the epoch). */
  exp: number;
}
