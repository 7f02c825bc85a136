/**
 * What a rule sends, built from the incident (and alert) as the rule saw them: the playbook's JSON,
 * a Microsoft Teams message (an Adaptive Card, which Teams' incoming webhooks and Workflows accept),
 * a Slack incoming-webhook message, and an e-mail. Pure; signing and sending happen later.
 */
import type { Trigger } from "../../schema/automation.js";

export interface MessageContext {
  tenantId: string;
  rule: { id: string; displayName: string };
  trigger: Trigger;
  /** The incident as the rule left it, or null when the alert is in no incident. */
  incident: Record<string, unknown> | null;
  /** The alert, for the alertCreated trigger. */
  alert: Record<string, unknown> | null;
  /** When the rule ran. */
  at: string;
  /** For the slaBreached trigger: the clock breached (firstAction or resolve). */
  slaBreach?: string | null;
}

function text(v: unknown, fallback = "—"): string {
  return typeof v === "string" && v !== "" ? v : fallback;
}

/** The few facts every message shows. */
function summary(c: MessageContext): { heading: string; facts: [string, string][]; link: string | null } {
  const i = c.incident;
  const a = c.alert;
  const what = i ? `Incident ${text(i.id)}: ${text(i.displayName)}` : `Alert ${text(a?.id)}: ${text(a?.title)}`;
  const facts: [string, string][] = [
    ["Severity", text(i?.severity ?? a?.severity)],
    ["Status", text(i?.status ?? a?.status)],
    ["Assigned to", text(i?.assignedTo ?? a?.assignedTo, "unassigned")],
    ["Rule", c.rule.displayName],
  ];
  if (a && i) facts.splice(0, 0, ["Alert", text(a.title)]);
  const url = i?.incidentWebUrl ?? a?.alertWebUrl;
  return { heading: what, facts, link: typeof url === "string" && /^https?:\/\//.test(url) ? url : null };
}

/** The playbook's request body. */
export function playbookBody(c: MessageContext): string {
  return JSON.stringify({
    tenantId: c.tenantId,
    rule: c.rule,
    trigger: c.trigger,
    firedDateTime: c.at,
    ...(c.slaBreach ? { slaBreach: c.slaBreach } : {}),
    incident: c.incident,
    alert: c.alert,
  });
}

/** A Teams message holding one Adaptive Card. */
export function teamsBody(c: MessageContext): string {
  const s = summary(c);
  const card: Record<string, unknown> = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    body: [
      { type: "TextBlock", text: s.heading, weight: "Bolder", size: "Medium", wrap: true },
      { type: "FactSet", facts: s.facts.map(([title, value]) => ({ title, value })) },
    ],
  };
  if (s.link) card.actions = [{ type: "Action.OpenUrl", title: "Open", url: s.link }];
  return JSON.stringify({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }] });
}

/** A Slack incoming-webhook message: a text fallback and blocks. */
export function slackBody(c: MessageContext): string {
  const s = summary(c);
  const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${escape(s.heading)}*` } },
    { type: "section", fields: s.facts.map(([k, v]) => ({ type: "mrkdwn", text: `*${escape(k)}*\n${escape(v)}` })) },
  ];
  if (s.link) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open" }, url: s.link }] });
  return JSON.stringify({ text: s.heading, blocks });
}

/** An e-mail's subject and plain text. */
export function emailBody(c: MessageContext, subject: string | undefined): { subject: string; text: string } {
  const s = summary(c);
  const lines = [s.heading, "", ...s.facts.map(([k, v]) => `${k}: ${v}`)];
  if (s.link) lines.push("", s.link);
  lines.push("", `Sent by the automation rule "${c.rule.displayName}" of Triage.`);
  return { subject: (subject ?? `[Triage] ${s.heading}`).replace(/[\r\n]+/g, " ").slice(0, 998), text: lines.join("\n") };
}
