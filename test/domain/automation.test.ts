import { describe, expect, it } from "vitest";
import { evaluateConditions, conditionHolds } from "../../src/domain/automation/match.js";
import { alertFacts, incidentFacts, type Facts } from "../../src/domain/automation/subject.js";
import { planActions } from "../../src/domain/automation/act.js";
import { checkRuleInput, whyNotRunning } from "../../src/domain/automation/rule-input.js";
import { emailBody, slackBody, teamsBody, playbookBody, type MessageContext } from "../../src/domain/automation/messages.js";
import { GraphError } from "../../src/errors/graph-error.js";
import type { Condition } from "../../src/schema/automation.js";

const alertDoc = {
  id: "da1",
  title: "LSASS access",
  severity: "high",
  status: "new",
  detectionSource: "microsoftDefenderForEndpoint",
  serviceSource: "microsoftDefenderForEndpoint",
  mitreTechniques: ["T1003.001", "T1055"],
  systemTags: ["Credential"],
  assignedTo: null,
  evidence: [
    { "@odata.type": "#microsoft.graph.security.deviceEvidence", mdeDeviceId: "ab12", deviceDnsName: "ws1.contoso.com" },
    {
      "@odata.type": "#microsoft.graph.security.userEvidence",
      userAccount: { userPrincipalName: "Jane@Contoso.com", accountName: "jane", domainName: "CONTOSO" },
    },
    { "@odata.type": "#microsoft.graph.security.ipEvidence", ipAddress: "203.0.113.9" },
  ],
};
const incidentDoc = {
  id: "7",
  displayName: "Credential theft on ws1",
  severity: "medium",
  status: "active",
  customTags: ["vip"],
  systemTags: [],
  assignedTo: "amy@contoso.com",
};

describe("facts", () => {
  it("an incident's facts come from it and from its alerts", () => {
    const f = incidentFacts(incidentDoc, [alertDoc, { ...alertDoc, detectionSource: "antivirus", mitreTechniques: ["T1003.001"], evidence: [] }]);
    expect(f).toEqual({
      severity: ["medium"],
      status: ["active"],
      title: ["Credential theft on ws1"],
      detectionSource: ["microsoftDefenderForEndpoint", "antivirus"],
      serviceSource: ["microsoftDefenderForEndpoint"],
      tags: ["vip"],
      assignedTo: ["amy@contoso.com"],
      mitreTechniques: ["T1003.001", "T1055"],
      account: ["jane@contoso.com"],
      device: ["ab12"],
      ip: ["203.0.113.9"],
      slaBreach: [],
    });
    // For the slaBreached trigger, the clock breached is a fact too.
    expect(incidentFacts(incidentDoc, [], "firstAction").slaBreach).toEqual(["firstAction"]);
  });
  it("an alert's facts are its own; an alert's tags are its system tags", () => {
    const f = alertFacts(alertDoc);
    expect(f.title).toEqual(["LSASS access"]);
    expect(f.tags).toEqual(["Credential"]);
    expect(f.assignedTo).toEqual([]);
  });
});

describe("conditions", () => {
  const facts: Facts = alertFacts(alertDoc);
  const c = (property: Condition["property"], operator: Condition["operator"], values?: string[]): boolean =>
    conditionHolds({ property, operator, ...(values ? { values } : {}) }, facts).holds;

  it("every operator, without regard to case", () => {
    expect(c("severity", "equals", ["HIGH"])).toBe(true);
    expect(c("severity", "equals", ["low", "medium"])).toBe(false);
    expect(c("severity", "notEquals", ["low", "medium"])).toBe(true);
    expect(c("severity", "notEquals", ["low", "high"])).toBe(false);
    expect(c("title", "contains", ["lsass"])).toBe(true);
    expect(c("title", "notContains", ["lsass"])).toBe(false);
    expect(c("mitreTechniques", "startsWith", ["t1003"])).toBe(true);
    expect(c("mitreTechniques", "notStartsWith", ["T1003"])).toBe(false);
    expect(c("mitreTechniques", "notStartsWith", ["T1110"])).toBe(true);
    expect(c("account", "endsWith", ["@contoso.com"])).toBe(true);
    expect(c("account", "notEndsWith", ["@fabrikam.com"])).toBe(true);
    expect(c("assignedTo", "isEmpty")).toBe(true);
    expect(c("assignedTo", "isNotEmpty")).toBe(false);
    expect(c("device", "equals", ["AB12"])).toBe(true);
    expect(c("ip", "equals", ["203.0.113.9"])).toBe(true);
    expect(c("detectionSource", "equals", ["microsoftDefenderForEndpoint"])).toBe(true);
    expect(c("serviceSource", "equals", ["microsoftDefenderForOffice365"])).toBe(false);
    expect(c("status", "equals", ["new"])).toBe(true);
    expect(c("tags", "contains", ["cred"])).toBe(true);
  });

  it("a negative operator holds for a property without values; a positive one does not", () => {
    expect(c("assignedTo", "notEquals", ["x"])).toBe(true);
    expect(c("assignedTo", "equals", ["x"])).toBe(false);
  });

  it("all and any; no conditions always hold", () => {
    const yes: Condition = { property: "severity", operator: "equals", values: ["high"] };
    const no: Condition = { property: "severity", operator: "equals", values: ["low"] };
    expect(evaluateConditions({ match: "all", items: [yes, no] }, facts).matched).toBe(false);
    expect(evaluateConditions({ match: "any", items: [yes, no] }, facts).matched).toBe(true);
    expect(evaluateConditions({ match: "any", items: [no] }, facts).matched).toBe(false);
    expect(evaluateConditions({ match: "all", items: [] }, facts).matched).toBe(true);
  });
});

describe("actions", () => {
  it("each action in order, each seeing the ones before it", () => {
    const plan = planActions(
      [
        { type: "addTags", tags: ["a", "b", "vip"] },
        { type: "removeTags", tags: ["vip", "b"] },
        { type: "assign", assignedTo: null },
        { type: "changeStatus", status: "resolved" },
        { type: "classify", classification: "falsePositive", determination: "notMalicious" },
        { type: "addComment", comment: "one" },
        { type: "addComment", comment: "two" },
        { type: "runPlaybook", url: "https://pb.example/x", secret: "s".repeat(16) },
        { type: "notify", channel: "teams", url: "https://teams.example/x" },
        { type: "notify", channel: "slack", url: "https://slack.example/x" },
        { type: "notify", channel: "email", to: ["soc@contoso.com"] },
      ],
      incidentDoc,
    );
    expect(plan.patch).toEqual({ customTags: ["a"], assignedTo: null, status: "resolved", classification: "falsePositive", determination: "notMalicious" });
    expect(plan.comments).toEqual(["one", "two"]);
    expect(plan.outbound.map((o) => o.kind)).toEqual(["playbook", "teams", "slack", "email"]);
    expect(plan.steps[0]!.changes).toEqual([{ property: "customTags", before: ["vip"], after: ["vip", "a", "b"] }]);
    expect(plan.steps[1]!.changes).toEqual([{ property: "customTags", before: ["vip", "a", "b"], after: ["a"] }]);
  });

  it("an action that changes nothing records no change; without an incident only what is sent is planned", () => {
    const plan = planActions([{ type: "assign", assignedTo: "amy@contoso.com" }], incidentDoc);
    expect(plan.patch).toEqual({});
    expect(plan.steps[0]!.changes).toEqual([]);
    const none = planActions(
      [
        { type: "addTags", tags: ["x"] },
        { type: "notify", channel: "slack", url: "https://s.example" },
      ],
      null,
    );
    expect(none.patch).toEqual({});
    expect(none.outbound).toHaveLength(1);
  });
});

describe("rule input", () => {
  const base = { displayName: "r", trigger: "incidentCreated", actions: [{ type: "addComment", comment: "c" }] };
  const refused = (body: unknown) => {
    try {
      checkRuleInput(body);
    } catch (e) {
      expect(e).toBeInstanceOf(GraphError);
      return (e as GraphError).message;
    }
    throw new Error("accepted");
  };
  it("names what is wrong", () => {
    expect(refused({ ...base, actions: [{ type: "explode" }] })).toMatch(/'type' must be one of/);
    expect(refused({ ...base, actions: [{ type: "notify", channel: "teams" }] })).toMatch(/Action 1 \(notify\)/);
    expect(refused({ ...base, conditions: { match: "all", items: [{ property: "ip", operator: "isEmpty", values: ["x"] }] } })).toMatch(/takes no values/);
    expect(refused([])).toMatch(/JSON object/);
  });
  it("lends a kept secret to a playbook sent back without one", () => {
    const rule = checkRuleInput({ ...base, actions: [{ type: "runPlaybook", url: "https://pb.example", secretSet: true }] }, [
      { type: "runPlaybook", url: "https://pb.example", secret: "kept-secret-0123456789" },
    ]);
    expect(rule.actions[0]).toEqual({ type: "runPlaybook", url: "https://pb.example", secret: "kept-secret-0123456789" });
  });
  it("disabled and expired rules do not run", () => {
    expect(whyNotRunning({ enabled: false, expirationDateTime: null }, "2026-01-01T00:00:00Z")).toMatch(/disabled/);
    expect(whyNotRunning({ enabled: true, expirationDateTime: "2025-01-01T00:00:00Z" }, "2026-01-01T00:00:00Z")).toMatch(/expired/);
    expect(whyNotRunning({ enabled: true, expirationDateTime: "2027-01-01T00:00:00Z" }, "2026-01-01T00:00:00Z")).toBeNull();
  });
});

describe("messages", () => {
  const ctx: MessageContext = {
    tenantId: "t",
    rule: { id: "r1", displayName: "Rule <one>" },
    trigger: "incidentCreated",
    incident: { ...incidentDoc, incidentWebUrl: "https://triage.example/incidents/7" },
    alert: null,
    at: "2026-11-01T00:00:00Z",
  };
  it("Teams gets an Adaptive Card, Slack blocks with escaped text, e-mail a subject without line breaks", () => {
    const teams = JSON.parse(teamsBody(ctx));
    expect(teams.attachments[0].content.actions[0]).toEqual({ type: "Action.OpenUrl", title: "Open", url: "https://triage.example/incidents/7" });
    const slack = JSON.parse(slackBody(ctx));
    expect(JSON.stringify(slack.blocks)).toContain("Rule &lt;one&gt;");
    const mail = emailBody(ctx, "line\r\nBcc: x@evil.example");
    expect(mail.subject).toBe("line Bcc: x@evil.example");
    expect(mail.text).toContain("Incident 7: Credential theft on ws1");
    expect(JSON.parse(playbookBody(ctx))).toMatchObject({ tenantId: "t", rule: { id: "r1" }, incident: { id: "7" } });
  });
});
