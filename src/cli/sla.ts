/**
 * `triage sla show | set`: a tenant's SLA policy on the command line, through the same use cases as
 * the SLA API (docs/sla.md). The policy is given as a JSON file in the API's shape; changes are
 * recorded as made by "Triage CLI".
 */
import { readFileSync } from "node:fs";
import type { Command, Option } from "commander";
import type { Store } from "../store/open.js";
import type { StoreOptions } from "./store-access.js";
import { getSlaPolicy, setSlaPolicy } from "../features/sla/policy.js";
import { SLA_SEVERITIES, type SlaPolicy } from "../schema/sla.js";
import { findTenant } from "../store/tenants.js";

export interface SlaCliHelpers {
  dataOption(description?: string): Option;
  dbOption(): Option;
  tenantArg(v: string): string;
  withStore<T>(o: StoreOptions, fn: (store: Store) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, text: string): void;
}

interface Base extends StoreOptions {
  tenant: string;
  json?: boolean;
}

function describe(p: SlaPolicy): string {
  if (p.lastModifiedDateTime === null) return "(no SLA policy)";
  const lines = [`${p.enabled ? "Enabled" : "Disabled"}; changed ${p.lastModifiedDateTime} by ${p.lastModifiedBy ?? "?"}.`, "severity\tfirst action\tresolve"];
  for (const s of SLA_SEVERITIES) {
    const t = p.targets[s];
    lines.push(`${s}\t${t?.firstAction ?? "-"}\t${t?.resolve ?? "-"}`);
  }
  return lines.join("\n");
}

export function addSlaCommands(cli: Command, h: SlaCliHelpers): void {
  const sla = cli.command("sla").description("the SLA policy: time to first action and to resolve, per severity (docs/sla.md)");
  const common = (c: Command) =>
    c.addOption(h.dataOption("data directory")).addOption(h.dbOption()).requiredOption("--tenant <id>", "tenant", h.tenantArg).option("--json", "print JSON");

  common(sla.command("show").description("show the tenant's SLA policy")).action(async (o: Base) => {
    await h.withStore(o, async (store) => {
      const p = await getSlaPolicy(store.db, o.tenant);
      h.print(o.json === true, p, describe(p));
    });
  });

  common(sla.command("set").description("replace the tenant's SLA policy from a JSON file; open incidents' due times are recomputed"))
    .requiredOption("--file <file>", "the policy, as PUT /triage/sla/policy takes it")
    .action(async (o: Base & { file: string }) => {
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(o.file, "utf8"));
      } catch (e) {
        throw new Error(`Cannot read the policy from ${o.file}: ${(e as Error).message}`);
      }
      await h.withStore(o, async (store) => {
        if (!(await findTenant(store.db, o.tenant))) throw new Error(`No tenant ${o.tenant}. Create it with 'triage tenants create'.`);
        const p = await setSlaPolicy(store.db, { tenantId: o.tenant, actor: "Triage CLI", now: new Date().toISOString() }, body);
        h.print(o.json === true, p, describe(p));
      });
    });
}
