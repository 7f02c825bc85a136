/**
 * What the store says about a caller's requests beyond its permissions: the strictness profile and
 * the fault configuration that apply to it (an app's own, else its tenant's; for the profile, else
 * the server's). Read once per tenant and kept for a short while, so that a setting made on any node
 * applies on every node within `ttlMs`, and a request costs no read of its own.
 */
import { LRUCache } from "lru-cache";
import type { Store } from "../store/open.js";
import { listFaultConfigs, TENANT_SCOPE, type StoredFaults } from "../store/faults.js";
import { listProfiles } from "../store/profiles.js";
import type { Profile } from "../schema/profile.js";

/** How long a tenant's settings are kept before they are read again. */
export const DEFAULT_SETTINGS_TTL_MS = 2000;

interface TenantSettings {
  faults: Map<string, StoredFaults>;
  profiles: Map<string, Profile>;
}

export class CallerSettings {
  private readonly cache: LRUCache<string, TenantSettings>;
  private readonly loading = new Map<string, Promise<TenantSettings>>();

  constructor(
    private readonly store: Store,
    /** The profile of callers whose app and tenant set none (`triage serve --profile`). */
    readonly serverProfile: Profile,
    ttlMs = DEFAULT_SETTINGS_TTL_MS,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(1, ttlMs) });
  }

  private async tenant(tenantId: string): Promise<TenantSettings> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      // One read per tenant at a time, however many requests arrive meanwhile.
      pending = (async () => {
        const [faults, profiles] = await Promise.all([listFaultConfigs(this.store.db, tenantId), listProfiles(this.store.db, tenantId)]);
        const s = { faults: new Map(faults.map((f) => [f.clientId, f])), profiles: new Map(profiles.map((p) => [p.clientId, p.profile])) };
        this.cache.set(tenantId, s);
        return s;
      })().finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  async profileOf(tenantId: string, clientId: string): Promise<Profile> {
    const s = await this.tenant(tenantId);
    return s.profiles.get(clientId) ?? s.profiles.get(TENANT_SCOPE) ?? this.serverProfile;
  }

  async faultsOf(tenantId: string, clientId: string): Promise<StoredFaults | null> {
    const s = await this.tenant(tenantId);
    return s.faults.get(clientId) ?? s.faults.get(TENANT_SCOPE) ?? null;
  }

  /** A setting changed on this node: read the tenant's again on its next request. */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
