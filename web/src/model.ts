import type { IncidentSla } from "../../src/schema/sla.js";
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
  /** Triage's SLA annotation (lenient profile, when the tenant has an SLA policy; docs/sla.md). */
  "@triage.sla"?: IncidentSla;
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
  "unknown",
  "apt",
  "malware",
  "securityPersonnel",
  "securityTesting",
  "unwantedSoftware",
  "other",
  "multiStagedAttack",
  "compromisedAccount",
  "phishing",
  "maliciousUserActivity",
  "notMalicious",
  "notEnoughDataToValidate",
  "confirmedActivity",
  "lineOfBusinessApplication",
];

/** Graph's detectionSource members, Defender's own first, then Defender for Cloud's plans, then Sentinel's. */
export const DETECTION_SOURCES = [
  "microsoftDefenderForEndpoint",
  "antivirus",
  "smartScreen",
  "customTi",
  "microsoftDefenderForOffice365",
  "automatedInvestigation",
  "microsoftThreatExperts",
  "customDetection",
  "microsoftDefenderForIdentity",
  "cloudAppSecurity",
  "microsoft365Defender",
  "azureAdIdentityProtection",
  "manual",
  "microsoftDataLossPrevention",
  "appGovernancePolicy",
  "appGovernanceDetection",
  "microsoftInsiderRiskManagement",
  "microsoftThreatIntelligence",
  "microsoftDefenderThreatIntelligenceAnalytics",
  "microsoftDefenderForAIServices",
  "securityCopilot",
  "microsoftDefenderForCloud",
  "microsoftDefenderForIoT",
  "microsoftDefenderForServers",
  "microsoftDefenderForStorage",
  "microsoftDefenderForDNS",
  "microsoftDefenderForDatabases",
  "microsoftDefenderForContainers",
  "microsoftDefenderForNetwork",
  "microsoftDefenderForAppService",
  "microsoftDefenderForKeyVault",
  "microsoftDefenderForResourceManager",
  "microsoftDefenderForApiManagement",
  "microsoftSentinel",
  "nrtAlerts",
  "scheduledAlerts",
  "builtInMl",
  "unknown",
];

/** Labels for enum members whose words the camelCase split below would get wrong or lose. */
export const LABELS: Readonly<Record<string, string>> = {
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
  unknownFutureValue: "Unknown future value",
  // serviceSource and detectionSource: the products' own names.
  microsoftDefenderForEndpoint: "Microsoft Defender for Endpoint",
  microsoftDefenderForOffice365: "Microsoft Defender for Office 365",
  microsoftDefenderForIdentity: "Microsoft Defender for Identity",
  microsoftDefenderForCloudApps: "Microsoft Defender for Cloud Apps",
  microsoftDefenderForCloud: "Microsoft Defender for Cloud",
  microsoftDefenderForIoT: "Microsoft Defender for IoT",
  microsoftDefenderForServers: "Microsoft Defender for Servers",
  microsoftDefenderForStorage: "Microsoft Defender for Storage",
  microsoftDefenderForDNS: "Microsoft Defender for DNS",
  microsoftDefenderForDatabases: "Microsoft Defender for Databases",
  microsoftDefenderForContainers: "Microsoft Defender for Containers",
  microsoftDefenderForNetwork: "Microsoft Defender for Network",
  microsoftDefenderForAppService: "Microsoft Defender for App Service",
  microsoftDefenderForKeyVault: "Microsoft Defender for Key Vault",
  microsoftDefenderForResourceManager: "Microsoft Defender for Resource Manager",
  microsoftDefenderForApiManagement: "Microsoft Defender for API Management",
  microsoftDefenderForAIServices: "Microsoft Defender for AI Services",
  microsoftDefenderThreatIntelligenceAnalytics: "Microsoft Defender Threat Intelligence Analytics",
  microsoft365Defender: "Microsoft 365 Defender",
  microsoftThreatExperts: "Microsoft Threat Experts",
  microsoftThreatIntelligence: "Microsoft Threat Intelligence",
  microsoftInsiderRiskManagement: "Microsoft Insider Risk Management",
  microsoftSecurityForAI: "Microsoft Security for AI",
  microsoftSentinel: "Microsoft Sentinel",
  azureAdIdentityProtection: "Microsoft Entra ID Protection",
  microsoftDataLossPrevention: "Microsoft Data Loss Prevention",
  dataLossPrevention: "Data Loss Prevention",
  cloudAppSecurity: "Microsoft Cloud App Security",
  microsoftAppGovernance: "Microsoft App Governance",
  appGovernancePolicy: "App governance policy",
  appGovernanceDetection: "App governance detection",
  automatedInvestigation: "Automated investigation",
  customDetection: "Custom detection",
  customTi: "Custom threat intelligence",
  smartScreen: "SmartScreen",
  securityCopilot: "Security Copilot",
  nrtAlerts: "Near-real-time rule",
  scheduledAlerts: "Scheduled rule",
  builtInMl: "Built-in machine learning",
};

/** camelCase enum member → words ("inProgress" → "In progress"). */
export function label(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const known = LABELS[value];
  if (known) return known;
  const words = value.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Server text with enum members in it ("detected by microsoftDefenderForEndpoint"): each member in words. */
export function labelCodes(text: string): string {
  return text.replace(/\b[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b/g, (code) => LABELS[code] ?? code);
}

/** Properties whose values are enum members: the audit trail shows their labels. */
const ENUM_PROPERTIES = new Set(["status", "severity", "classification", "determination", "detectionSource", "serviceSource"]);

export function isEnumProperty(property: string): boolean {
  return ENUM_PROPERTIES.has(property);
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
      return {
        ...base,
        group: "Devices",
        name: s(e.deviceDnsName) || s(e.hostName) || s(e.mdeDeviceId),
        detail: [s(e.osPlatform), s(e.rbacGroupName), e.riskScore ? `risk ${s(e.riskScore)}` : ""].filter(Boolean).join(" · "),
      };
    case "userEvidence": {
      const a = obj(e.userAccount);
      return {
        ...base,
        group: "Accounts",
        name: s(a.userPrincipalName) || [s(a.domainName), s(a.accountName)].filter(Boolean).join("\\"),
        detail: s(a.displayName),
      };
    }
    case "ipEvidence":
      return { ...base, group: "IP addresses", name: s(e.ipAddress), detail: [s(e.countryLetterCode), s(obj(e.location).city)].filter(Boolean).join(" · ") };
    case "fileEvidence": {
      const f = obj(e.fileDetails);
      return {
        ...base,
        group: "Files",
        name: s(f.fileName) || s(f.sha256),
        detail: [s(f.filePath), f.sha256 ? `SHA-256 ${s(f.sha256)}` : ""].filter(Boolean).join(" · "),
      };
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
      return {
        ...base,
        group: "Mailboxes",
        name: s(e.recipientEmailAddress) || s(e.subject),
        detail: [s(e.subject), s(obj(e.p1Sender).emailAddress)].filter(Boolean).join(" · from "),
      };
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
