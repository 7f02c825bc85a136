/**
 * Graph's evolvable enums, in CSDL declaration order. Members declared after `unknownFutureValue`
 * are "gated": a client sees them only when it sends `Prefer: include-unknown-enum-members`.
 * Input is accepted case-insensitively, gated members included, plus documented legacy aliases.
 */
export interface GraphEnum<M extends string = string> {
  readonly name: string;
  readonly members: readonly M[];
  /** Members after the `unknownFutureValue` sentinel. */
  readonly gated: ReadonlySet<M>;
  /** Lower-cased input spelling → member. */
  readonly lookup: ReadonlyMap<string, M>;
}

export function graphEnum<const M extends string>(name: string, members: readonly M[], aliases: Record<string, M> = {}): GraphEnum<M> {
  const sentinel = members.indexOf("unknownFutureValue" as M);
  const gated = new Set(sentinel < 0 ? [] : members.slice(sentinel + 1));
  const lookup = new Map<string, M>();
  for (const m of members) lookup.set(m.toLowerCase(), m);
  for (const [alias, m] of Object.entries(aliases)) lookup.set(alias.toLowerCase(), m);
  return { name, members, gated, lookup };
}

/** The member for an input spelling, or undefined when it is not a member. */
export function parseEnum<M extends string>(e: GraphEnum<M>, raw: string): M | undefined {
  return e.lookup.get(raw.toLowerCase());
}

/** The value a client sees: gated members collapse to `unknownFutureValue` unless it opted in. */
export function renderEnum<M extends string>(e: GraphEnum<M>, value: M, includeUnknown: boolean): M {
  if (!includeUnknown && e.gated.has(value)) return "unknownFutureValue" as M;
  return value;
}

export const incidentStatus = graphEnum("incidentStatus", ["active", "resolved", "inProgress", "redirected", "unknownFutureValue", "awaitingAction"]);

export const alertSeverity = graphEnum("alertSeverity", ["unknown", "informational", "low", "medium", "high", "unknownFutureValue"]);

export const alertClassification = graphEnum("alertClassification", [
  "unknown",
  "falsePositive",
  "truePositive",
  "informationalExpectedActivity",
  "unknownFutureValue",
]);

/** Wire names per the CSDL; the resource pages' older names are accepted as input aliases. */
export const alertDetermination = graphEnum(
  "alertDetermination",
  [
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
    "unknownFutureValue",
  ],
  {
    compromisedUser: "compromisedAccount",
    clean: "notMalicious",
    insufficientData: "notEnoughDataToValidate",
    confirmedUserActivity: "confirmedActivity",
  },
);

export const alertStatus = graphEnum("alertStatus", ["unknown", "new", "inProgress", "resolved", "unknownFutureValue"]);

export const serviceSource = graphEnum("serviceSource", [
  "unknown",
  "microsoftDefenderForEndpoint",
  "microsoftDefenderForIdentity",
  "microsoftDefenderForCloudApps",
  "microsoftDefenderForOffice365",
  "microsoft365Defender",
  "azureAdIdentityProtection",
  "microsoftAppGovernance",
  "dataLossPrevention",
  "unknownFutureValue",
  "microsoftDefenderForCloud",
  "microsoftSentinel",
  "microsoftInsiderRiskManagement",
  "microsoftThreatIntelligence",
  "microsoftSecurityForAI",
]);

export const detectionSource = graphEnum("detectionSource", [
  "unknown",
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
  "unknownFutureValue",
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
  "nrtAlerts",
  "scheduledAlerts",
  "microsoftDefenderThreatIntelligenceAnalytics",
  "builtInMl",
  "microsoftInsiderRiskManagement",
  "microsoftThreatIntelligence",
  "microsoftDefenderForAIServices",
  "securityCopilot",
  "microsoftSentinel",
]);

export const investigationState = graphEnum("investigationState", [
  "unknown",
  "terminated",
  "successfullyRemediated",
  "benign",
  "failed",
  "partiallyRemediated",
  "running",
  "pendingApproval",
  "pendingResource",
  "queued",
  "innerFailure",
  "preexistingAlert",
  "unsupportedOs",
  "unsupportedAlertType",
  "suppressedAlert",
  "partiallyInvestigated",
  "terminatedByUser",
  "terminatedBySystem",
  "unknownFutureValue",
]);

export const evidenceVerdict = graphEnum("evidenceVerdict", ["unknown", "suspicious", "malicious", "noThreatsFound", "unknownFutureValue"]);

export const evidenceRemediationStatus = graphEnum("evidenceRemediationStatus", [
  "none",
  "remediated",
  "prevented",
  "blocked",
  "notFound",
  "unknownFutureValue",
  "active",
  "pendingApproval",
  "declined",
  "unremediated",
  "running",
  "partiallyRemediated",
]);

export const evidenceRole = graphEnum("evidenceRole", [
  "unknown",
  "contextual",
  "scanned",
  "source",
  "destination",
  "created",
  "added",
  "compromised",
  "edited",
  "attacked",
  "attacker",
  "commandAndControl",
  "loaded",
  "suspicious",
  "policyViolator",
  "unknownFutureValue",
]);

export const detectionStatus = graphEnum("detectionStatus", ["detected", "blocked", "prevented", "unknownFutureValue"]);

export const deviceHealthStatus = graphEnum("deviceHealthStatus", [
  "active",
  "inactive",
  "impairedCommunication",
  "noSensorData",
  "noSensorDataImpairedCommunication",
  "unknown",
  "unknownFutureValue",
]);

export const deviceRiskScore = graphEnum("deviceRiskScore", ["none", "informational", "low", "medium", "high", "unknownFutureValue"]);

export const onboardingStatus = graphEnum("onboardingStatus", ["insufficientInfo", "onboarded", "canBeOnboarded", "unsupported", "unknownFutureValue"]);

export const defenderAvStatus = graphEnum("defenderAvStatus", [
  "notReporting",
  "disabled",
  "notUpdated",
  "updated",
  "unknown",
  "notSupported",
  "unknownFutureValue",
]);

export const vmCloudProvider = graphEnum("vmCloudProvider", ["unknown", "azure", "unknownFutureValue"]);

/** Graph's correlationReason flags vocabulary; Triage records it on every correlation and merge. */
export const correlationReason = graphEnum("correlationReason", [
  "repeatedAlertOccurrence",
  "sameGeography",
  "similarArtifacts",
  "sameTargetedAsset",
  "sameNetworkSegment",
  "eventSequence",
  "timeFrame",
  "sameThreatSource",
  "similarTTPsOrBehavior",
  "sameActor",
  "sameCampaign",
  "sharedIndicators",
  "sameAsset",
  "networkProximity",
  "eventCasualSequence",
  "temporalProximity",
  "lateralMovementPath",
  "unknownFutureValue",
]);

export type IncidentStatus = (typeof incidentStatus.members)[number];
export type AlertSeverity = (typeof alertSeverity.members)[number];
export type AlertClassification = (typeof alertClassification.members)[number];
export type AlertDetermination = (typeof alertDetermination.members)[number];
export type AlertStatus = (typeof alertStatus.members)[number];
export type CorrelationReason = (typeof correlationReason.members)[number];
