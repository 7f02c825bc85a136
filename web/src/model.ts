/** Graph's security types as the web app uses them, and how to show them. */

export interface Comment {
  comment: string | null;
  createdByDisplayName: string | null;
  createdDateTime: string;
}

export interface Evidence {
  "@odata.type": string;
  [key: string]: unknown;
}

export interface Alert {
  id: string;
  incidentId: string | null;
  title: string | null;
  description: string | null;
  severity: string;
  status: string;
  classification: string | null;
  determination: string | null;
  serviceSource: string;
  detectionSource: string | null;
  productName: string | null;
  category: string | null;
  categories: string[] | null;
  mitreTechniques: string[] | null;
  recommendedActions: string | null;
  assignedTo: string | null;
  createdDateTime: string;
  lastUpdateDateTime: string;
  firstActivityDateTime: string | null;
  lastActivityDateTime: string | null;
  resolvedDateTime: string | null;
  comments: Comment[];
  evidence: Evidence[];
}

export interface Incident {
  id: string;
  status: string;
  displayName: string | null;
  redirectIncidentId: string | null;
  createdDateTime: string;
  lastUpdateDateTime: string;
  assignedTo: string | null;
  classification: string | null;
  determination: string | null;
  severity: string;
  customTags: string[] | null;
  systemTags: string[] | null;
  description: string | null;
  summary: string | null;
  lastModifiedBy: string | null;
  resolvingComment: string | null;
  priorityScore: number | null;
  comments: Comment[];
  alerts?: Alert[];
  /** Where the rest of the alerts are, when the incident has more than the server serves inline. */
  "alerts@odata.nextLink"?: string;
}

export const SEVERITIES = ["high", "medium", "low", "informational", "unknown"] as const;
/** What PATCH may set; `redirected` and `awaitingAction` only the service sets. */
export const SETTABLE_STATUSES = ["active", "inProgress", "resolved"] as const;
export const STATUSES = ["active", "inProgress", "awaitingAction", "resolved", "redirected"] as const;
export const CLASSIFICATIONS = ["unknown", "truePositive", "informationalExpectedActivity", "falsePositive"] as const;

/** Defender's determinations for each classification. */
export const DETERMINATIONS: Record<string, string[]> = {
  unknown: ["unknown"],
  truePositive: ["multiStagedAttack", "maliciousUserActivity", "compromisedAccount", "malware", "phishing", "unwantedSoftware", "apt", "other"],
  informationalExpectedActivity: ["securityTesting", "lineOfBusinessApplication", "confirmedActivity", "securityPersonnel", "other"],
  falsePositive: ["notMalicious", "notEnoughDataToValidate", "other"],
};
export const ALL_DETERMINATIONS = [
  "unknown", "apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "other", "multiStagedAttack", "compromisedAccount",
  "phishing", "maliciousUserActivity", "notMalicious", "notEnoughDataToValidate", "confirmedActivity", "lineOfBusinessApplication",
];

export const DETECTION_SOURCES = [
  "microsoftDefenderForEndpoint", "antivirus", "smartScreen", "customTi", "microsoftDefenderForOffice365", "automatedInvestigation",
  "microsoftThreatExperts", "customDetection", "microsoftDefenderForIdentity", "cloudAppSecurity", "microsoft365Defender",
  "azureAdIdentityProtection", "manual", "microsoftDataLossPrevention", "appGovernancePolicy", "appGovernanceDetection",
  "microsoftDefenderForCloud", "microsoftSentinel",
];

const WORDS: Record<string, string> = {
  inProgress: "In progress",
  awaitingAction: "Awaiting action",
  truePositive: "True positive",
  falsePositive: "False positive",
  informationalExpectedActivity: "Informational, expected activity",
  multiStagedAttack: "Multi-staged attack",
  maliciousUserActivity: "Malicious user activity",
  compromisedAccount: "Compromised account",
  unwantedSoftware: "Unwanted software",
  apt: "APT",
  securityTesting: "Security testing",
  lineOfBusinessApplication: "Line-of-business application",
  confirmedActivity: "Confirmed activity",
  securityPersonnel: "Security personnel",
  notMalicious: "Not malicious",
  notEnoughDataToValidate: "Not enough data to validate",
  microsoftDefenderForEndpoint: "Defender for Endpoint",
  microsoftDefenderForOffice365: "Defender for Office 365",
  microsoftDefenderForIdentity: "Defender for Identity",
  microsoftDefenderForCloudApps: "Defender for Cloud Apps",
  microsoftDefenderForCloud: "Defender for Cloud",
  microsoft365Defender: "Microsoft 365 Defender",
  microsoftThreatExperts: "Microsoft Threat Experts",
  azureAdIdentityProtection: "Entra ID Protection",
  microsoftDataLossPrevention: "Data loss prevention",
  dataLossPrevention: "Data loss prevention",
  cloudAppSecurity: "Cloud App Security",
  customTi: "Custom TI",
  smartScreen: "SmartScreen",
  microsoftSentinel: "Microsoft Sentinel",
  microsoftAppGovernance: "App governance",
  appGovernancePolicy: "App governance policy",
  appGovernanceDetection: "App governance detection",
};

/** camelCase enum member → words ("inProgress" → "In progress"). */
export function label(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const known = WORDS[value];
  if (known) return known;
  const words = value.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ── evidence ────────────────────────────────────────────────────────────────────────────────

export type EvidenceGroup = "Devices" | "Accounts" | "IP addresses" | "Files" | "Mailboxes" | "URLs" | "Processes" | "Other";
export const EVIDENCE_GROUPS: EvidenceGroup[] = ["Devices", "Accounts", "IP addresses", "Files", "Mailboxes", "URLs", "Processes", "Other"];

export interface EvidenceItem {
  group: EvidenceGroup;
  /** What identifies it (a device name, a UPN, an address…). */
  name: string;
  detail: string;
  verdict: string | null;
  type: string;
}

function s(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

export function shortType(e: Evidence): string {
  return String(e["@odata.type"] ?? "").replace(/^#?microsoft\.graph\.security\./, "");
}

export function describeEvidence(e: Evidence): EvidenceItem {
  const type = shortType(e);
  const verdict = typeof e.verdict === "string" ? e.verdict : null;
  const base = { verdict, type };
  switch (type) {
    case "deviceEvidence":
      return { ...base, group: "Devices", name: s(e.deviceDnsName) || s(e.hostName) || s(e.mdeDeviceId), detail: [s(e.osPlatform), s(e.rbacGroupName), e.riskScore ? `risk ${s(e.riskScore)}` : ""].filter(Boolean).join(" · ") };
    case "userEvidence": {
      const a = obj(e.userAccount);
      return { ...base, group: "Accounts", name: s(a.userPrincipalName) || [s(a.domainName), s(a.accountName)].filter(Boolean).join("\\"), detail: s(a.displayName) };
    }
    case "ipEvidence":
      return { ...base, group: "IP addresses", name: s(e.ipAddress), detail: [s(e.countryLetterCode), s(obj(e.location).city)].filter(Boolean).join(" · ") };
    case "fileEvidence": {
      const f = obj(e.fileDetails);
      return { ...base, group: "Files", name: s(f.fileName) || s(f.sha256), detail: [s(f.filePath), f.sha256 ? `SHA-256 ${s(f.sha256)}` : ""].filter(Boolean).join(" · ") };
    }
    case "fileHashEvidence":
      return { ...base, group: "Files", name: s(e.value), detail: s(e.algorithm) };
    case "processEvidence": {
      const f = obj(e.imageFile);
      return { ...base, group: "Processes", name: s(f.fileName) || `PID ${s(e.processId)}`, detail: s(e.processCommandLine) };
    }
    case "mailboxEvidence":
      return { ...base, group: "Mailboxes", name: s(e.primaryAddress) || s(e.upn), detail: s(e.displayName) };
    case "analyzedMessageEvidence":
      return { ...base, group: "Mailboxes", name: s(e.recipientEmailAddress) || s(e.subject), detail: [s(e.subject), s(obj(e.p1Sender).emailAddress)].filter(Boolean).join(" · from ") };
    case "urlEvidence":
      return { ...base, group: "URLs", name: s(e.url), detail: "" };
    case "cloudApplicationEvidence":
      return { ...base, group: "Other", name: s(e.displayName) || s(e.appId), detail: "Cloud application" };
    case "oauthApplicationEvidence":
      return { ...base, group: "Other", name: s(e.displayName) || s(e.appId), detail: "OAuth application" };
    case "registryKeyEvidence":
      return { ...base, group: "Other", name: s(e.registryKey), detail: s(e.registryHive) };
    case "registryValueEvidence":
      return { ...base, group: "Other", name: `${s(e.registryKey)}\\${s(e.registryValueName)}`, detail: s(e.registryValue) };
    default: {
      const name = s(e.displayName) || s(e.name) || s(e.url) || s(e.ipAddress) || type;
      return { ...base, group: "Other", name, detail: label(type.replace(/Evidence$/, "")) };
    }
  }
}

/** Entity keys of the correlation ("device:…", "account:…") in words. */
export function entityLabel(key: string): { kind: string; value: string } {
  const i = key.indexOf(":");
  const kind = i < 0 ? "entity" : key.slice(0, i);
  const names: Record<string, string> = { device: "Device", account: "Account", ip: "IP address", fileHash: "File hash", mailbox: "Mailbox", url: "URL" };
  return { kind: names[kind] ?? label(kind), value: i < 0 ? key : key.slice(i + 1) };
}
