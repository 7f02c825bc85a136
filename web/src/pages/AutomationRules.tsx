/**
 * The automation rules admin page (/admin/automation; docs/web-app.md): the tenant's rules in the
 * order they run, a form to create or edit one (trigger, conditions, ordered actions), enabling,
 * deleting, and a dry run against an incident. Every refusal shows the API's own message.
 */
import { useState, type FormEvent } from "react";
import { api } from "../api";
import type { DryRun, Rule } from "../../../src/schema/automation.js";
import type { ValueList } from "../../../src/web/contracts";
import {
  ACTION_KINDS,
  ACTION_LABELS,
  actionSummary,
  conditionSummary,
  draftOf,
  emptyDraft,
  newAction,
  newCondition,
  OPERATOR_LABELS,
  OPERATORS,
  PROPERTIES,
  PROPERTY_LABELS,
  ruleOf,
  takesValues,
  TRIGGER_LABELS,
  TRIGGERS,
  type ActionDraft,
  type ActionKind,
  type ConditionDraft,
  type RuleDraft,
} from "../automation";
import { CLASSIFICATIONS, DETERMINATIONS, SETTABLE_STATUSES } from "../model";
import { AdminNav } from "./Admin";
import { Confirm, EnumOptions, ErrorMessage, Loading, Notice, Time, useAsync, usePageTitle } from "../components/ui";

const RULES = "/triage/automation/rules";

function ConditionRow({ c, n, onChange, onRemove }: { c: ConditionDraft; n: number; onChange: (c: ConditionDraft) => void; onRemove: () => void }) {
  const id = `cond-${c.key}`;
  return (
    <li>
      <fieldset className="rule-row">
        <legend>Condition {n}</legend>
        <label htmlFor={`${id}-property`}>Property</label>
        <select id={`${id}-property`} value={c.property} onChange={(e) => onChange({ ...c, property: e.target.value as ConditionDraft["property"] })}>
          {PROPERTIES.map((p) => (
            <option key={p} value={p}>
              {PROPERTY_LABELS[p]}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-operator`}>Operator</label>
        <select id={`${id}-operator`} value={c.operator} onChange={(e) => onChange({ ...c, operator: e.target.value as ConditionDraft["operator"] })}>
          {OPERATORS.map((o) => (
            <option key={o} value={o}>
              {OPERATOR_LABELS[o]}
            </option>
          ))}
        </select>
        {takesValues(c.operator) && (
          <>
            <label htmlFor={`${id}-values`}>Values (comma-separated; any may match)</label>
            <input id={`${id}-values`} value={c.values} onChange={(e) => onChange({ ...c, values: e.target.value })} />
          </>
        )}
        <button type="button" className="secondary" onClick={onRemove}>
          Remove condition {n}
        </button>
      </fieldset>
    </li>
  );
}

function Field({ id, text, value, onChange, type = "text" }: { id: string; text: string; value: string; onChange: (v: string) => void; type?: string }) {
  return (
    <>
      <label htmlFor={id}>{text}</label>
      <input id={id} type={type} value={value} onChange={(e) => onChange(e.target.value)} autoComplete="off" />
    </>
  );
}

function ActionFields({ a, set }: { a: ActionDraft; set: (p: Partial<ActionDraft>) => void }) {
  const id = `act-${a.key}`;
  switch (a.kind) {
    case "assign":
      return <Field id={`${id}-assignee`} text="Assign to (empty unassigns)" value={a.assignedTo} onChange={(v) => set({ assignedTo: v })} />;
    case "changeStatus":
      return (
        <>
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={a.status} onChange={(e) => set({ status: e.target.value })}>
            <EnumOptions values={SETTABLE_STATUSES} />
          </select>
        </>
      );
    case "classify":
      return (
        <>
          <label htmlFor={`${id}-classification`}>Classification</label>
          <select id={`${id}-classification`} value={a.classification} onChange={(e) => set({ classification: e.target.value, determination: "" })}>
            <EnumOptions values={CLASSIFICATIONS} />
          </select>
          <label htmlFor={`${id}-determination`}>Determination</label>
          <select id={`${id}-determination`} value={a.determination} onChange={(e) => set({ determination: e.target.value })}>
            <option value="">None</option>
            <EnumOptions values={DETERMINATIONS[a.classification] ?? []} />
          </select>
        </>
      );
    case "addTags":
    case "removeTags":
      return <Field id={`${id}-tags`} text="Tags (comma-separated)" value={a.tags} onChange={(v) => set({ tags: v })} />;
    case "addComment":
      return (
        <>
          <label htmlFor={`${id}-comment`}>Comment</label>
          <textarea id={`${id}-comment`} rows={2} value={a.comment} onChange={(e) => set({ comment: e.target.value })} />
        </>
      );
    case "runPlaybook":
      return (
        <>
          <Field id={`${id}-url`} text="Playbook URL (https)" value={a.url} onChange={(v) => set({ url: v })} type="url" />
          <Field
            id={`${id}-secret`}
            text={a.secretSet ? "Signing secret (a secret is kept; leave empty to keep it)" : "Signing secret (16 to 256 characters)"}
            value={a.secret}
            onChange={(v) => set({ secret: v })}
            type="password"
          />
        </>
      );
    case "teams":
    case "slack":
      return <Field id={`${id}-url`} text="Incoming webhook URL (https)" value={a.url} onChange={(v) => set({ url: v })} type="url" />;
    case "email":
      return (
        <>
          <Field id={`${id}-to`} text="To (comma-separated addresses)" value={a.to} onChange={(v) => set({ to: v })} />
          <Field id={`${id}-subject`} text="Subject (optional)" value={a.subject} onChange={(v) => set({ subject: v })} />
        </>
      );
  }
}

function ActionRow(props: {
  a: ActionDraft;
  n: number;
  count: number;
  onChange: (a: ActionDraft) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  const { a, n, count, onChange, onMove, onRemove } = props;
  const id = `act-${a.key}`;
  return (
    <li>
      <fieldset className="rule-row">
        <legend>Action {n}</legend>
        <label htmlFor={`${id}-type`}>Type</label>
        <select id={`${id}-type`} value={a.kind} onChange={(e) => onChange({ ...newAction(e.target.value as ActionKind), key: a.key })}>
          {ACTION_KINDS.map((k) => (
            <option key={k} value={k}>
              {ACTION_LABELS[k]}
            </option>
          ))}
        </select>
        <ActionFields a={a} set={(p) => onChange({ ...a, ...p })} />
        <div className="inline wrap">
          <button type="button" className="secondary" disabled={n === 1} onClick={() => onMove(-1)}>
            Move action {n} up
          </button>
          <button type="button" className="secondary" disabled={n === count} onClick={() => onMove(1)}>
            Move action {n} down
          </button>
          <button type="button" className="secondary" disabled={count === 1} onClick={onRemove}>
            Remove action {n}
          </button>
        </div>
      </fieldset>
    </li>
  );
}

function DryRunPanel({ draft }: { draft: RuleDraft }) {
  const [incidentId, setIncidentId] = useState("");
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function run() {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api<DryRun>("/triage/automation/dryRun", { method: "POST", body: { rule: ruleOf(draft), incidentId: incidentId.trim() } }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="panel dry-run" aria-labelledby="dry-run-title">
      <h3 id="dry-run-title">Dry run</h3>
      <p className="muted">What this rule, as the form holds it, would do to an incident as it is now. Nothing is changed or sent.</p>
      <div className="inline wrap">
        <label htmlFor="dry-run-incident">Incident id</label>
        <input id="dry-run-incident" value={incidentId} onChange={(e) => setIncidentId(e.target.value)} inputMode="numeric" autoComplete="off" />
        <button type="button" onClick={() => void run()} disabled={busy || !incidentId.trim()}>
          Dry run
        </button>
      </div>
      <ErrorMessage error={error} />
      {result && (
        <div data-testid="dry-run-result" role="status">
          <p>
            <strong>{result.skipped ? `Would not run: ${result.skipped}` : result.matched ? "The conditions hold." : "The conditions do not hold."}</strong>
          </p>
          {result.conditions.length > 0 && (
            <ul className="dry-run-conditions" aria-label="Conditions">
              {result.conditions.map((c, i) => (
                <li key={i}>
                  {c.holds ? "Holds" : "Does not hold"}: {PROPERTY_LABELS[c.property as keyof typeof PROPERTY_LABELS] ?? c.property}{" "}
                  {OPERATOR_LABELS[c.operator as keyof typeof OPERATOR_LABELS] ?? c.operator} {c.values.join(" or ")}{" "}
                  <span className="muted">(actual: {c.actual.length ? c.actual.join(", ") : "none"})</span>
                </li>
              ))}
            </ul>
          )}
          {result.actions.length > 0 && (
            <ol className="dry-run-actions" aria-label="Planned actions">
              {result.actions.map((a, i) => (
                <li key={i}>
                  {a.description}
                  {a.changes.length > 0 && (
                    <ul>
                      {a.changes.map((ch, j) => (
                        <li key={j} className="small">
                          <code>{ch.property}</code>: {JSON.stringify(ch.before)} → {JSON.stringify(ch.after)}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}

function RuleEditor({ rule, onSaved, onCancel }: { rule: Rule | null; onSaved: (r: Rule) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState<RuleDraft>(() => (rule ? draftOf(rule) : emptyDraft()));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (p: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...p }));
  const setCondition = (i: number, c: ConditionDraft | null) =>
    setDraft((d) => ({ ...d, conditions: c ? d.conditions.map((x, j) => (j === i ? c : x)) : d.conditions.filter((_, j) => j !== i) }));
  const setAction = (i: number, a: ActionDraft | null) =>
    setDraft((d) => ({ ...d, actions: a ? d.actions.map((x, j) => (j === i ? a : x)) : d.actions.filter((_, j) => j !== i) }));
  const move = (i: number, by: number) =>
    setDraft((d) => {
      const actions = [...d.actions];
      const [a] = actions.splice(i, 1);
      actions.splice(i + by, 0, a!);
      return { ...d, actions };
    });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = ruleOf(draft);
      onSaved(rule ? await api<Rule>(`${RULES}/${rule.id}`, { method: "PATCH", body }) : await api<Rule>(RULES, { method: "POST", body }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const title = rule ? `Edit rule ${rule.displayName}` : "New rule";
  return (
    <section className="panel rule-editor" aria-labelledby="rule-editor-title">
      <h3 id="rule-editor-title">{title}</h3>
      <form onSubmit={submit} className="stack-sm" aria-labelledby="rule-editor-title">
        <label htmlFor="rule-name">Name</label>
        <input id="rule-name" value={draft.displayName} onChange={(e) => set({ displayName: e.target.value })} required autoComplete="off" />
        <div className="rule-grid">
          <div className="stack-sm">
            <label htmlFor="rule-order">Order (1 to 1000; lowest runs first)</label>
            <input id="rule-order" type="number" value={draft.order} onChange={(e) => set({ order: e.target.value })} />
          </div>
          <div className="stack-sm">
            <label htmlFor="rule-trigger">When</label>
            <select id="rule-trigger" value={draft.trigger} onChange={(e) => set({ trigger: e.target.value as RuleDraft["trigger"] })}>
              {TRIGGERS.map((t) => (
                <option key={t} value={t}>
                  {TRIGGER_LABELS[t]}
                </option>
              ))}
            </select>
          </div>
          <div className="stack-sm">
            <label htmlFor="rule-expiration">Expires (optional)</label>
            <input id="rule-expiration" type="datetime-local" value={draft.expiration} onChange={(e) => set({ expiration: e.target.value })} />
          </div>
        </div>
        <label className="check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Enabled
        </label>

        <h4>Conditions</h4>
        <label htmlFor="rule-match">Match</label>
        <select id="rule-match" value={draft.match} onChange={(e) => set({ match: e.target.value as RuleDraft["match"] })}>
          <option value="all">All conditions</option>
          <option value="any">Any condition</option>
        </select>
        {draft.conditions.length === 0 && <p className="muted">No conditions: the rule runs for every change of its trigger.</p>}
        <ol className="rule-rows">
          {draft.conditions.map((c, i) => (
            <ConditionRow key={c.key} c={c} n={i + 1} onChange={(x) => setCondition(i, x)} onRemove={() => setCondition(i, null)} />
          ))}
        </ol>
        <button type="button" className="secondary" onClick={() => set({ conditions: [...draft.conditions, newCondition()] })}>
          Add condition
        </button>

        <h4>Actions, in order</h4>
        <ol className="rule-rows">
          {draft.actions.map((a, i) => (
            <ActionRow
              key={a.key}
              a={a}
              n={i + 1}
              count={draft.actions.length}
              onChange={(x) => setAction(i, x)}
              onMove={(by) => move(i, by)}
              onRemove={() => setAction(i, null)}
            />
          ))}
        </ol>
        <button type="button" className="secondary" onClick={() => set({ actions: [...draft.actions, newAction()] })}>
          Add action
        </button>
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {rule ? "Save rule" : "Create rule"}
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
      <DryRunPanel draft={draft} />
    </section>
  );
}

function RuleRow({ rule, onEdit, onChanged, onDelete }: { rule: Rule; onEdit: () => void; onChanged: (r: Rule) => void; onDelete: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function toggle(enabled: boolean) {
    setBusy(true);
    setError(null);
    try {
      onChanged(await api<Rule>(`${RULES}/${rule.id}`, { method: "PATCH", body: { enabled } }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const expired = rule.expirationDateTime !== null && Date.parse(rule.expirationDateTime) <= Date.now();
  return (
    <tr data-rule-id={rule.id}>
      <td className="num">{rule.order}</td>
      <th scope="row">{rule.displayName}</th>
      <td>
        <label className="check">
          <input type="checkbox" checked={rule.enabled} disabled={busy} onChange={(e) => void toggle(e.target.checked)} />
          <span className="sr-only">{rule.displayName} </span>Enabled
        </label>
        <ErrorMessage error={error} />
      </td>
      <td>{TRIGGER_LABELS[rule.trigger]}</td>
      <td className="small">{conditionSummary(rule)}</td>
      <td className="small">{rule.actions.map(actionSummary).join("; ")}</td>
      <td>
        {rule.expirationDateTime ? <Time iso={rule.expirationDateTime} /> : <span className="muted">Never</span>}
        {expired && <span className="badge warn">Expired</span>}
      </td>
      <td>
        <div className="inline">
          <button type="button" className="secondary" onClick={onEdit} aria-label={`Edit ${rule.displayName}`}>
            Edit
          </button>
          <button type="button" className="danger" onClick={onDelete} aria-label={`Delete ${rule.displayName}`}>
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

const byOrder = (a: Rule, b: Rule) => a.order - b.order || a.createdDateTime.localeCompare(b.createdDateTime);

export function AdminAutomation() {
  usePageTitle("Automation rules");
  const state = useAsync((signal) => api<ValueList<Rule>>(RULES, { signal }).then((r) => r.value), []);
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<unknown>(null);
  const rules = state.data;
  const put = (r: Rule) => rules && state.setData([...rules.filter((x) => x.id !== r.id), r].sort(byOrder));

  async function remove(rule: Rule) {
    setError(null);
    try {
      await api(`${RULES}/${rule.id}`, { method: "DELETE" });
      if (rules) state.setData(rules.filter((x) => x.id !== rule.id));
      setNotice(`${rule.displayName} deleted.`);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div className="admin">
      <h1>Administration</h1>
      <AdminNav />
      <h2>Automation rules</h2>
      <p className="muted">
        When an incident is created or updated, or an alert is created, each enabled rule whose conditions hold runs its actions in order. Rules run lowest
        order first.
      </p>
      {notice && <Notice text={notice} />}
      <ErrorMessage error={state.error ?? error} />
      {!rules && !state.error && <Loading what="Loading automation rules" />}
      {rules && (
        <>
          {editing === null && (
            <button type="button" onClick={() => setEditing("new")}>
              New rule
            </button>
          )}
          {editing !== null && (
            <RuleEditor
              key={editing === "new" ? "new" : editing.id}
              rule={editing === "new" ? null : editing}
              onCancel={() => setEditing(null)}
              onSaved={(r) => {
                put(r);
                setEditing(null);
                setNotice(`${r.displayName} saved.`);
              }}
            />
          )}
          <div className="table-wrap rules-table">
            <table>
              <caption className="sr-only">Automation rules, in the order they run</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Order
                  </th>
                  <th scope="col">Name</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Conditions</th>
                  <th scope="col">Actions</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="sr-only">Manage</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rules.length === 0 && (
                  <tr>
                    <td colSpan={8} className="empty">
                      No automation rules yet.
                    </td>
                  </tr>
                )}
                {rules.map((r) => (
                  <RuleRow key={r.id} rule={r} onEdit={() => setEditing(r)} onChanged={put} onDelete={() => setDeleting(r)} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <Confirm
        open={deleting !== null}
        title={`Delete ${deleting?.displayName ?? "the rule"}?`}
        body="The rule no longer runs for changes from now on."
        confirmLabel="Delete"
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          const r = deleting;
          setDeleting(null);
          if (r) void remove(r);
        }}
      />
    </div>
  );
}
