import { randomBytes, randomUUID, X509Certificate, createHash } from "node:crypto";
import type { AppTable, Db, UserTable } from "../store/tables.js";
import { findAppRow, insertApp, listAppRows, setAppPermissions } from "../store/identity/apps.js";
import { insertAppCertificate, insertAppSecret, listAppCertificates, liveSecretHashes } from "../store/identity/app-credentials.js";
import { deleteConsents, insertConsents, listConsentedPermissions } from "../store/identity/consents.js";
import { findUserRow, findUserRowByUpn, insertUser, listUserRows, setUserRoles as writeUserRoles, userExists } from "../store/identity/users.js";
import { dummyHash, hashSecret, verifySecret, type HashCost } from "./hash.js";
import { parseRole, type EntraRole } from "../permissions/entra-roles.js";
import { permissionNames, type Scheme } from "../permissions/catalog.js";

/** A directory problem the caller can fix (unknown permission, duplicate user, …). */
export class DirectoryError extends Error {}

export interface App {
  clientId: string;
  tenantId: string;
  displayName: string;
  createdAt: string;
  publicClient: boolean;
  redirectUris: string[];
  appPermissions: string[];
  delegatedPermissions: string[];
}

export interface User {
  id: string;
  tenantId: string;
  upn: string;
  displayName: string;
  roles: EntraRole[];
  createdAt: string;
}

function toApp(r: AppTable): App {
  return {
    clientId: r.client_id,
    tenantId: r.tenant_id,
    displayName: r.display_name,
    createdAt: r.created_at,
    publicClient: r.public_client === 1,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    appPermissions: JSON.parse(r.app_permissions) as string[],
    delegatedPermissions: JSON.parse(r.delegated_permissions) as string[],
  };
}

function toUser(r: UserTable): User {
  return { id: r.id, tenantId: r.tenant_id, upn: r.upn, displayName: r.display_name, roles: JSON.parse(r.roles) as EntraRole[], createdAt: r.created_at };
}

/** Permission names as the catalog spells them; anything unknown is refused by name. */
export function canonicalPermissions(names: readonly string[]): string[] {
  const known = permissionNames();
  return [
    ...new Set(
      names.map((n) => {
        const match = known.find((k) => k.toLowerCase() === n.trim().toLowerCase());
        if (!match) throw new DirectoryError(`Unknown permission '${n}'. Known permissions: ${known.join(", ")}.`);
        return match;
      }),
    ),
  ];
}

export interface NewApp {
  tenantId: string;
  displayName: string;
  appPermissions?: string[];
  delegatedPermissions?: string[];
  publicClient?: boolean;
  redirectUris?: string[];
  /** A fixed client id (the demo tenant's apps); a new GUID otherwise. */
  clientId?: string;
}

export async function createApp(db: Db, input: NewApp, now = new Date().toISOString()): Promise<App> {
  const row: AppTable = {
    client_id: input.clientId?.toLowerCase() ?? randomUUID(),
    tenant_id: input.tenantId,
    display_name: input.displayName,
    created_at: now,
    public_client: input.publicClient ? 1 : 0,
    redirect_uris: JSON.stringify(input.redirectUris ?? []),
    app_permissions: JSON.stringify(canonicalPermissions(input.appPermissions ?? [])),
    delegated_permissions: JSON.stringify(canonicalPermissions(input.delegatedPermissions ?? [])),
  };
  await insertApp(db, row);
  return toApp(row);
}

export async function findApp(db: Db, clientId: string): Promise<App | undefined> {
  const row = await findAppRow(db, clientId.toLowerCase());
  return row && toApp(row);
}

export async function listApps(db: Db, tenantId: string): Promise<App[]> {
  const rows = await listAppRows(db, tenantId);
  return rows.map(toApp);
}

/** Adds requested permissions (not consented: that is a separate, admin act). */
export async function requestPermissions(db: Db, clientId: string, add: { application?: string[]; delegated?: string[] }): Promise<App> {
  const app = await findApp(db, clientId);
  if (!app) throw new DirectoryError(`No app with client id ${clientId}.`);
  const appPermissions = canonicalPermissions([...app.appPermissions, ...(add.application ?? [])]);
  const delegatedPermissions = canonicalPermissions([...app.delegatedPermissions, ...(add.delegated ?? [])]);
  await setAppPermissions(db, app.clientId, JSON.stringify(appPermissions), JSON.stringify(delegatedPermissions));
  return { ...app, appPermissions, delegatedPermissions };
}

/** Entra-looking client secrets: 40 characters with the "8Q~" marker after a 3-character hint. */
function newSecret(): string {
  const raw = randomBytes(30).toString("base64url").replace(/[-_]/g, "x");
  return `${raw.slice(0, 3)}8Q~${raw.slice(3, 37)}`;
}

export interface IssuedSecret {
  id: string;
  secret: string;
  hint: string;
  expiresAt: string;
}

/**
 * A new client secret; only its salted hash is kept, so this is the one time it can be shown. `cost`
 * is "generated" only for an ephemeral server's own apps (hash.ts says why that is safe).
 */
export async function addSecret(db: Db, clientId: string, days = 180, now = new Date(), cost: HashCost = "standard"): Promise<IssuedSecret> {
  const app = await findApp(db, clientId);
  if (!app) throw new DirectoryError(`No app with client id ${clientId}.`);
  const secret = newSecret();
  const issued = { id: randomUUID(), secret, hint: secret.slice(0, 3), expiresAt: new Date(now.getTime() + days * 86_400_000).toISOString() };
  await insertAppSecret(db, {
    id: issued.id,
    client_id: app.clientId,
    hint: issued.hint,
    hash: await hashSecret(secret, cost),
    created_at: now.toISOString(),
    expires_at: issued.expiresAt,
  });
  return issued;
}

/**
 * Whether `secret` is one of the app's unexpired secrets. Exactly one scrypt runs whether or not the
 * hint matches a secret (a dummy hash when none does), so the answer's timing does not tell a guesser
 * that the first three characters were right. (Two secrets sharing a hint, one in 262,144, cost two.)
 */
export async function checkSecret(db: Db, clientId: string, secret: string, now = new Date()): Promise<boolean> {
  const rows = await liveSecretHashes(db, clientId.toLowerCase(), now.toISOString());
  const candidates = rows.filter((r) => r.hint === secret.slice(0, 3));
  if (candidates.length === 0) {
    await verifySecret(secret, await dummyHash());
    return false;
  }
  let ok = false;
  for (const r of candidates) if (await verifySecret(secret, r.hash)) ok = true;
  return ok;
}

/** Registers a certificate whose key the app signs client assertions with; returns its x5t thumbprint. */
export async function addCertificate(db: Db, clientId: string, pem: string, now = new Date()): Promise<{ thumbprint: string; expiresAt: string }> {
  const app = await findApp(db, clientId);
  if (!app) throw new DirectoryError(`No app with client id ${clientId}.`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new DirectoryError("The certificate is not a PEM X.509 certificate.");
  }
  const thumbprint = createHash("sha1").update(cert.raw).digest("base64url");
  const expiresAt = new Date(cert.validTo).toISOString();
  await insertAppCertificate(db, { thumbprint, client_id: app.clientId, pem: cert.toString(), created_at: now.toISOString(), expires_at: expiresAt });
  return { thumbprint, expiresAt };
}

/** The app's certificates, oldest first. */
export async function appCertificates(db: Db, clientId: string): Promise<{ thumbprint: string; pem: string; expiresAt: string; createdAt: string }[]> {
  const rows = await listAppCertificates(db, clientId.toLowerCase());
  return rows.map((r) => ({ thumbprint: r.thumbprint, pem: r.pem, expiresAt: r.expires_at, createdAt: r.created_at }));
}

/** Admin consent: grants, in the app's tenant, every permission the app requests (both schemes). */
export async function grantAdminConsent(db: Db, clientId: string, now = new Date().toISOString()): Promise<{ application: string[]; delegated: string[] }> {
  const app = await findApp(db, clientId);
  if (!app) throw new DirectoryError(`No app with client id ${clientId}.`);
  const rows = [
    ...app.appPermissions.map((p) => ({ scheme: "Application", permission: p })),
    ...app.delegatedPermissions.map((p) => ({ scheme: "DelegatedWork", permission: p })),
  ];
  await insertConsents(
    db,
    rows.map((r) => ({ tenant_id: app.tenantId, client_id: app.clientId, scheme: r.scheme, permission: r.permission, granted_at: now })),
  );
  return { application: app.appPermissions, delegated: app.delegatedPermissions };
}

export async function revokeConsent(db: Db, clientId: string): Promise<void> {
  await deleteConsents(db, clientId.toLowerCase());
}

export async function consentedPermissions(db: Db, tenantId: string, clientId: string, scheme: Scheme): Promise<string[]> {
  return listConsentedPermissions(db, tenantId, clientId.toLowerCase(), scheme);
}

export interface NewUser {
  tenantId: string;
  upn: string;
  displayName?: string;
  password?: string;
  roles?: string[];
  /** "generated" only for a password of at least 96 random bits that an ephemeral server made (hash.ts). */
  passwordCost?: HashCost;
}

export async function createUser(db: Db, input: NewUser, now = new Date().toISOString()): Promise<User> {
  const roles = (input.roles ?? []).map((r) => {
    const role = parseRole(r);
    if (!role) throw new DirectoryError(`Unknown role '${r}'. Known roles: Security Reader, Global Reader, Security Operator, Security Administrator.`);
    return role;
  });
  const upn = input.upn.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw new DirectoryError(`'${input.upn}' is not a user principal name (name@domain).`);
  if (await userExists(db, input.tenantId, upn)) throw new DirectoryError(`A user ${upn} already exists in this tenant.`);
  const row: UserTable = {
    id: randomUUID(),
    tenant_id: input.tenantId,
    upn,
    display_name: input.displayName ?? upn.split("@")[0]!,
    password_hash: input.password ? await hashSecret(input.password, input.passwordCost) : null,
    roles: JSON.stringify([...new Set(roles)]),
    created_at: now,
  };
  await insertUser(db, row);
  return toUser(row);
}

export async function setUserRoles(db: Db, tenantId: string, upn: string, roles: string[]): Promise<User> {
  const parsed = roles.map((r) => {
    const role = parseRole(r);
    if (!role) throw new DirectoryError(`Unknown role '${r}'.`);
    return role;
  });
  await writeUserRoles(db, tenantId, upn.toLowerCase(), JSON.stringify([...new Set(parsed)]));
  const user = await findUserByUpn(db, tenantId, upn);
  if (!user) throw new DirectoryError(`No user ${upn} in this tenant.`);
  return user;
}

export async function findUserByUpn(db: Db, tenantId: string, upn: string): Promise<User | undefined> {
  const row = await findUserRowByUpn(db, tenantId, upn.trim().toLowerCase());
  return row && toUser(row);
}

export async function findUser(db: Db, tenantId: string, id: string): Promise<User | undefined> {
  const row = await findUserRow(db, tenantId, id);
  return row && toUser(row);
}

export async function listUsers(db: Db, tenantId: string): Promise<User[]> {
  const rows = await listUserRows(db, tenantId);
  return rows.map(toUser);
}

/**
 * The user, when the password is theirs. An unknown user, or one without a password, costs the same
 * scrypt as a known one (against a dummy hash), so the answer's timing does not say who exists.
 */
export async function checkPassword(db: Db, tenantId: string, upn: string, password: string): Promise<User | undefined> {
  const row = await findUserRowByUpn(db, tenantId, upn.trim().toLowerCase());
  const ok = await verifySecret(password, row?.password_hash ?? (await dummyHash()));
  return ok && row?.password_hash ? toUser(row) : undefined;
}
