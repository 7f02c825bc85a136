/**
 * The Admin page's SLA tab (docs/sla.md): the tenant's policy — per severity, the time to first action
 * and the time to resolve as ISO 8601 durations — read from and saved to /triage/sla/policy. The
 * server checks what is sent; its errors are shown as it words them.
 */
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api";
import { ErrorMessage, Loading, Notice, Time, useAsync, usePageTitle } from "../components/ui";
import { label } from "../model";
import type { SlaPolicy, SlaPolicyInput } from "../../../src/schema/sla.js";
import { SLA_KINDS, SLA_SEVERITIES, type SlaKind, type SlaSeverity } from "../../../src/schema/sla-vocabulary.js";
import { AdminNav } from "./Admin";

const POLICY = "/triage/sla/policy";
const KIND_LABELS: Record<SlaKind, string> = { firstAction: "First action within", resolve: "Resolve within" };

type Form = { enabled: boolean; targets: Record<SlaSeverity, Record<SlaKind, string>> };

function formOf(p: SlaPolicy): Form {
  const targets = {} as Form["targets"];
  for (const s of SLA_SEVERITIES) targets[s] = { firstAction: p.targets[s]?.firstAction ?? "", resolve: p.targets[s]?.resolve ?? "" };
  return { enabled: p.lastModifiedDateTime === null ? true : p.enabled, targets };
}

function inputOf(f: Form): SlaPolicyInput {
  const targets: SlaPolicyInput["targets"] = {};
  for (const s of SLA_SEVERITIES) {
    const t: Record<string, string> = {};
    for (const k of SLA_KINDS) if (f.targets[s][k].trim() !== "") t[k] = f.targets[s][k].trim();
    if (Object.keys(t).length) targets[s] = t;
  }
  return { enabled: f.enabled, targets };
}

export function AdminSla() {
  usePageTitle("SLA policy");
  const state = useAsync((signal) => api<SlaPolicy>(POLICY, { signal }), []);
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (state.data) setForm(formOf(state.data));
  }, [state.data]);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    setError(null);
    setSaving(true);
    try {
      const saved = await api<SlaPolicy>(POLICY, { method: "PUT", body: inputOf(form) });
      state.setData(saved);
      setNotice("SLA policy saved. Open incidents' due times were recomputed.");
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  const set = (s: SlaSeverity, k: SlaKind, v: string) => form && setForm({ ...form, targets: { ...form.targets, [s]: { ...form.targets[s], [k]: v } } });

  return (
    <div className="admin">
      <h1>Administration</h1>
      <AdminNav />
      <h2>SLA policy</h2>
      <p className="muted">
        Per severity, how soon a person must first act on a new incident (assign, change, comment) and how soon it must be resolved, as ISO 8601 durations such
        as PT15M, PT4H or P2D. Leave a field empty for no target. A breach triggers automation rules with the “SLA breached” trigger.
      </p>
      {notice && <Notice text={notice} />}
      {state.loading && !form && <Loading what="Loading the SLA policy" />}
      {state.error !== null && state.error !== undefined && <ErrorMessage error={state.error} />}
      {form && (
        <form onSubmit={save} aria-label="SLA policy">
          <table className="users-table sla-table">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                {SLA_KINDS.map((k) => (
                  <th key={k} scope="col">
                    {KIND_LABELS[k]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {SLA_SEVERITIES.map((s) => (
                <tr key={s}>
                  <th scope="row">{label(s)}</th>
                  {SLA_KINDS.map((k) => (
                    <td key={k}>
                      <input
                        aria-label={`${label(s)}: ${KIND_LABELS[k].toLowerCase()}`}
                        value={form.targets[s][k]}
                        placeholder="none"
                        maxLength={32}
                        onChange={(e) => set(s, k, e.target.value)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <label className="check">
            <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} /> Enabled
          </label>
          {error !== null && <ErrorMessage error={error} />}
          <p>
            <button type="submit" className="primary" disabled={saving}>
              {saving ? "Saving…" : "Save policy"}
            </button>
          </p>
          {state.data?.lastModifiedDateTime && (
            <p className="muted">
              Last changed <Time iso={state.data.lastModifiedDateTime} /> by {state.data.lastModifiedBy}.
            </p>
          )}
        </form>
      )}
    </div>
  );
}
