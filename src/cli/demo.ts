import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Store } from "../store/open.js";
import { DEMO_ADMIN, DEMO_APPS } from "../seed/demo-tenant.js";
import { DEMO_ANALYSTS } from "../seed/analyst-activity.js";
import { addSecret, createApp, createUser, findApp, findUserByUpn, grantAdminConsent } from "../identity/directory.js";

/** The demo tenant's identities, whose secrets are kept in DATA/demo-credentials.json (0600) so they can be shown at every start. */
export interface DemoCredentials {
  tenantId: string;
  readWrite: { clientId: string; clientSecret: string };
  readOnly: { clientId: string; clientSecret: string };
  publicClient: { clientId: string };
  analyst: { upn: string; password: string };
  reader: { upn: string; password: string };
  /** A Security Administrator, for the web app's admin pages (absent from credentials written before it existed). */
  admin?: { upn: string; password: string };
}

const DEMO_ANALYST = DEMO_ANALYSTS[0]!;

function credentialsFile(dataDir: string): string {
  return join(dataDir, "demo-credentials.json");
}

export function readDemoCredentials(dataDir: string): DemoCredentials | undefined {
  const file = credentialsFile(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DemoCredentials) : undefined;
}

/**
 * A read-write app, a read-only app, a public client for delegated sign-in, an analyst (Security
 * Operator), a reader (Security Reader) and an administrator (Security Administrator), all consented. Only the demo keeps plaintext secrets, in
 * a file beside the store, so that `npm start` can say how to use them every time.
 */
export async function createDemoIdentities(store: Store, tenantId: string, dataDir: string): Promise<DemoCredentials> {
  const password = () => `Demo-${randomBytes(9).toString("base64url")}`;
  if (await findApp(store.db, DEMO_APPS.readWrite)) {
    const known = readDemoCredentials(dataDir);
    if (known) {
      if (!known.admin && !(await findUserByUpn(store.db, tenantId, DEMO_ADMIN))) {
        known.admin = { upn: DEMO_ADMIN, password: password() };
        await createUser(store.db, { tenantId, upn: DEMO_ADMIN, displayName: "Ada Admin", password: known.admin.password, roles: ["Security Administrator"] });
        writeFileSync(credentialsFile(dataDir), JSON.stringify(known, null, 2), { mode: 0o600 });
      }
      // Written looser by an earlier version, perhaps: the file holds the demo's secrets and passwords.
      chmodSync(credentialsFile(dataDir), 0o600);
      return known;
    }
  }
  const rw = await createApp(store.db, {
    tenantId,
    clientId: DEMO_APPS.readWrite,
    displayName: "Triage demo automation (read-write)",
    appPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
    delegatedPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
  });
  const ro = await createApp(store.db, {
    tenantId,
    clientId: DEMO_APPS.readOnly,
    displayName: "Triage demo reporting (read-only)",
    appPermissions: ["SecurityIncident.Read.All", "SecurityAlert.Read.All"],
  });
  const pub = await createApp(store.db, {
    tenantId,
    clientId: DEMO_APPS.publicClient,
    displayName: "Triage demo console (public client)",
    publicClient: true,
    redirectUris: ["http://localhost"],
    delegatedPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
  });
  for (const a of [rw, ro, pub]) await grantAdminConsent(store.db, a.clientId);
  const creds: DemoCredentials = {
    tenantId,
    readWrite: { clientId: rw.clientId, clientSecret: (await addSecret(store.db, rw.clientId, 365)).secret },
    readOnly: { clientId: ro.clientId, clientSecret: (await addSecret(store.db, ro.clientId, 365)).secret },
    publicClient: { clientId: pub.clientId },
    // The member of the demo's team who can sign in: the incidents assigned to them are "mine" in the web app.
    analyst: { upn: DEMO_ANALYST.upn, password: password() },
    reader: { upn: "reader@contoso.com", password: password() },
    admin: { upn: DEMO_ADMIN, password: password() },
  };
  await createUser(store.db, {
    tenantId,
    upn: creds.analyst.upn,
    displayName: DEMO_ANALYST.displayName,
    password: creds.analyst.password,
    roles: ["Security Operator"],
  });
  await createUser(store.db, { tenantId, upn: creds.reader.upn, displayName: "Riley Reader", password: creds.reader.password, roles: ["Security Reader"] });
  await createUser(store.db, { tenantId, upn: DEMO_ADMIN, displayName: "Ada Admin", password: creds.admin!.password, roles: ["Security Administrator"] });
  writeFileSync(credentialsFile(dataDir), JSON.stringify(creds, null, 2), { mode: 0o600 });
  chmodSync(credentialsFile(dataDir), 0o600);
  return creds;
}

/** How to use the demo identities, as printed by `triage serve --demo`. */
export function demoInstructions(creds: DemoCredentials, base: string, caPath: string | null): string {
  const ca = caPath ? ` --cacert ${caPath}` : "";
  return [
    `Demo tenant ${creds.tenantId}:`,
    `  read-write app   client id ${creds.readWrite.clientId}  secret ${creds.readWrite.clientSecret}`,
    `  read-only app    client id ${creds.readOnly.clientId}  secret ${creds.readOnly.clientSecret}`,
    `  public client    client id ${creds.publicClient.clientId} (device code, authorization code with PKCE, password)`,
    `  analyst          ${creds.analyst.upn} / ${creds.analyst.password} (Security Operator)`,
    `  reader           ${creds.reader.upn} / ${creds.reader.password} (Security Reader)`,
    ...(creds.admin ? [`  admin            ${creds.admin.upn} / ${creds.admin.password} (Security Administrator)`] : []),
    `  Web app:         ${base}/ (sign in as one of these users)`,
    `  Get a token:     TOKEN=$(curl -s${ca} ${base}/${creds.tenantId}/oauth2/v2.0/token -d grant_type=client_credentials \\`,
    `                     -d client_id=${creds.readWrite.clientId} -d client_secret='${creds.readWrite.clientSecret}' \\`,
    `                     -d scope=https://graph.microsoft.com/.default | jq -r .access_token)`,
    `  Call the API:    curl -s${ca} -H "Authorization: Bearer $TOKEN" '${base}/v1.0/security/incidents?$top=5'`,
  ].join("\n");
}
