/**
 * Graph's `validationTokens`: with rich notifications (resource data), each POST's envelope carries one
 * JWT per app and tenant among its notifications, so the receiver can check the notifications come
 * from Triage before it decrypts anything. As Graph's: signed (RS256, `kid`) with the keys Triage signs
 * its access tokens with (published at the tenant's JWKS, `/{tenant}/discovery/v2.0/keys`, named by
 * the issuer's OpenID configuration), `aud` the subscribing app's id, `iss` the tenant's issuer as the app
 * reached Triage, `azp` and `appid` Microsoft Graph's change-notification publisher, `tid` the tenant,
 * valid for an hour. A token is reused for a few minutes (a bounded cache).
 */
import { SignJWT } from "jose";
import type { KeyRing } from "../../identity/keys.js";
import type { SubscriptionTable } from "../../store/subscriptions.js";

/** The app id Microsoft Graph's validation tokens carry as `azp` (its change-notification publisher). */
export const GRAPH_NOTIFICATION_PUBLISHER = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/** How long a validation token is valid. */
export const VALIDATION_TOKEN_LIFETIME_SECONDS = 3600;
/** How long one is reused before a fresh one is signed. */
const REUSE_MS = 10 * 60_000;
/** Most tokens kept for reuse. */
const CACHE_LIMIT = 1000;

export class ValidationTokens {
  private cache = new Map<string, { token: string; until: number }>();

  constructor(private readonly keys: KeyRing) {}

  /** The token for the subscription's app and tenant; null when the subscription has no issuer on record. */
  async forSubscription(sub: SubscriptionTable, now = Date.now()): Promise<string | null> {
    if (sub.token_issuer === null) return null;
    const key = `${sub.token_issuer}|${sub.app_id}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.token;
    const signing = await this.keys.signingKey();
    const iat = Math.floor(now / 1000);
    const token = await new SignJWT({
      aud: sub.app_id,
      iss: sub.token_issuer,
      iat,
      nbf: iat,
      exp: iat + VALIDATION_TOKEN_LIFETIME_SECONDS,
      azp: GRAPH_NOTIFICATION_PUBLISHER,
      appid: GRAPH_NOTIFICATION_PUBLISHER,
      tid: sub.tenant_id,
      ver: "2.0",
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: signing.kid })
      .sign(signing.privateKey);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, { token, until: now + REUSE_MS });
    return token;
  }
}
