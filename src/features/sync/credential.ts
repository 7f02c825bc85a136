/**
 * The app-only token `triage sync` reads the source with: the client credentials flow of
 * Microsoft's own library (@azure/msal-node), with a client secret or a certificate, against
 * Entra ID or any Entra-compatible authority (such as another Triage).
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { createRequire } from "node:module";
import type { Configuration } from "@azure/msal-node";

type Msal = typeof import("@azure/msal-node");
/** Loaded by `triage sync` when it first asks for a token: a server that never syncs does not hold it (some 6 MB). */
const msal = (): Msal => createRequire(import.meta.url)("@azure/msal-node") as Msal;

export const ENTRA_AUTHORITY = "https://login.microsoftonline.com";
/** App-only tokens for Graph ask for its resource's `.default` scope: every consented application permission. */
const GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

export interface SyncCredential {
  /** The authority host, such as https://login.microsoftonline.com (the tenant is added). */
  authority: string;
  tenant: string;
  clientId: string;
  secret?: string;
  /** A PEM holding the certificate and its private key. */
  certificatePem?: string;
}

/** Reads a PEM with a certificate and an unencrypted private key, as `--certificate` takes it. */
export function certificateFromPem(pem: string): { thumbprintSha256: string; privateKey: string; x5c: string } {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!cert) throw new Error("the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  if (!key) throw new Error("the certificate file holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error("the certificate file's private key does not belong to its certificate");
  return { thumbprintSha256: x509.fingerprint256.replace(/:/g, ""), privateKey: key, x5c: cert };
}

/** A token function for GraphSource: cached by msal until shortly before it expires, renewed on demand. */
export function tokenProvider(c: SyncCredential): (fresh: boolean) => Promise<string> {
  const authorityHost = c.authority.replace(/\/+$/, "");
  const known = new URL(authorityHost).host;
  const auth: Configuration["auth"] = {
    clientId: c.clientId,
    authority: `${authorityHost}/${encodeURIComponent(c.tenant)}`,
    // Entra's own hosts are known to msal; another authority must be named, or msal asks Entra about it.
    ...(authorityHost === ENTRA_AUTHORITY ? {} : { knownAuthorities: [known] }),
  };
  if (c.certificatePem) auth.clientCertificate = certificateFromPem(c.certificatePem);
  else if (c.secret) auth.clientSecret = c.secret;
  else throw new Error("a client secret or a certificate is needed");
  const app = new (msal().ConfidentialClientApplication)({ auth });
  return async (fresh) => {
    const result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT_SCOPE], skipCache: fresh });
    if (!result?.accessToken) throw new Error(`${auth.authority} gave no access token`);
    return result.accessToken;
  };
}
