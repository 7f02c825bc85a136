import { describe, expect, it } from "vitest";
// The date-time format, as the server registers it before it checks a body.
import "../../src/schema/formats.js";
import { checkRuleInput } from "../../src/domain/automation/rule-input.js";
import { CONDITION_OPERATORS, CONDITION_PROPERTIES, TRIGGERS, type Rule } from "../../src/schema/automation.js";
import {
  ACTION_KINDS,
  draftOf,
  emptyDraft,
  list,
  newAction,
  OPERATORS,
  PROPERTIES,
  ruleOf,
  toLocalInput,
  TRIGGERS as WEB_TRIGGERS,
  type ActionDraft,
} from "../../web/src/automation.js";

/** The automation page's form model against the rule schema the API checks bodies with. */

const saved: Rule = {
  id: "r1",
  displayName: "Ransomware on servers",
  order: 10,
  enabled: false,
  expirationDateTime: "2027-01-31T23:00:00.000Z",
  trigger: "incidentUpdated",
  conditions: {
    match: "any",
    items: [
      { property: "severity", operator: "equals", values: ["high", "medium"] },
      { property: "assignedTo", operator: "isEmpty" },
      { property: "mitreTechniques", operator: "startsWith", values: ["T1486"] },
    ],
  },
  actions: [
    { type: "assign", assignedTo: "ir@contoso.com" },
    { type: "assign", assignedTo: null },
    { type: "changeStatus", status: "inProgress" },
    { type: "classify", classification: "truePositive", determination: "malware" },
    { type: "classify", classification: "falsePositive" },
    { type: "addTags", tags: ["a", "b"] },
    { type: "removeTags", tags: ["c"] },
    { type: "addComment", comment: "Escalated, by automation." },
    { type: "runPlaybook", url: "https://playbooks.contoso.com/x", secretSet: true },
    { type: "notify", channel: "teams", url: "https://contoso.webhook.office.com/x" },
    { type: "notify", channel: "slack", url: "https://hooks.slack.com/services/x" },
    { type: "notify", channel: "email", to: ["soc@contoso.com", "ir@contoso.com"], subject: "Ransomware" },
  ],
  createdDateTime: "2026-11-01T10:00:00.000Z",
  createdBy: "Ada",
  lastModifiedDateTime: "2026-11-01T10:00:00.000Z",
  lastModifiedBy: "Ada",
};

describe("the automation page's rule form", () => {
  it("offers exactly the schema's triggers, condition properties and operators", () => {
    expect([...WEB_TRIGGERS]).toEqual([...TRIGGERS]);
    expect([...PROPERTIES]).toEqual([...CONDITION_PROPERTIES]);
    expect([...OPERATORS]).toEqual([...CONDITION_OPERATORS]);
  });

  it("sends back a saved rule as it was read, without the write-only secret, in the shape the API accepts", () => {
    const body = ruleOf(draftOf(saved));
    // What the API checks a PATCH with (it throws the 400 the page would show): the playbook sent
    // without its secret keeps the one kept for its url.
    const kept = "kept-secret-0123456789";
    const previous = saved.actions.map((a) => (a.type === "runPlaybook" ? { type: a.type, url: a.url, secret: kept } : a));
    expect(checkRuleInput(body, previous).actions[8]).toEqual({ type: "runPlaybook", url: "https://playbooks.contoso.com/x", secret: kept });
    const { id: _id, createdDateTime: _c, createdBy: _b, lastModifiedDateTime: _m, lastModifiedBy: _l, ...input } = saved;
    expect(body).toEqual({
      ...input,
      actions: input.actions.map((a) => (a.type === "runPlaybook" ? { type: a.type, url: a.url } : a)),
    });
  });

  it("makes a schema-valid action of every kind the form offers", () => {
    const filled: Record<(typeof ACTION_KINDS)[number], Partial<ActionDraft>> = {
      assign: { assignedTo: " y@contoso.com " },
      changeStatus: { status: "resolved" },
      classify: { classification: "informationalExpectedActivity", determination: "securityTesting" },
      addTags: { tags: "x, ,y ," },
      removeTags: { tags: "x" },
      addComment: { comment: "c" },
      runPlaybook: { url: "https://p.contoso.com", secret: "0123456789abcdef" },
      teams: { url: "https://t.contoso.com" },
      slack: { url: "https://s.contoso.com" },
      email: { to: "a@contoso.com", subject: " " },
    };
    const draft = { ...emptyDraft(), displayName: "Every kind", actions: ACTION_KINDS.map((k) => ({ ...newAction(k), ...filled[k] })) };
    const body = ruleOf(draft);
    expect(checkRuleInput(body)).toEqual(body);
    expect(body.actions[0]).toEqual({ type: "assign", assignedTo: "y@contoso.com" });
    expect(body.actions[3]).toEqual({ type: "addTags", tags: ["x", "y"] });
    expect(body.actions[6]).toEqual({ type: "runPlaybook", url: "https://p.contoso.com", secret: "0123456789abcdef" });
    expect(body.actions[9]).toEqual({ type: "notify", channel: "email", to: ["a@contoso.com"] });
    // A new rule: no conditions, enabled, default order and no expiry.
    expect(body).toMatchObject({ order: 1000, enabled: true, expirationDateTime: null, conditions: { match: "all", items: [] } });
  });

  it("splits lists on commas and keeps an expiry to the minute in the browser's time zone", () => {
    expect(list(" a ,b,, c ")).toEqual(["a", "b", "c"]);
    expect(toLocalInput(null)).toBe("");
    const local = toLocalInput("2027-01-31T23:00:00.000Z");
    expect(new Date(local).toISOString()).toBe("2027-01-31T23:00:00.000Z");
  });
});
