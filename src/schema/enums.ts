/**
 * Graph's evolvable enums, in CSDL declaration order. Members declared after `unknownFutureValue`
 * are "gated": a client sees them only when it sends `Prefer: include-unknown-enum-members`.
 * Input is accepted case-insensitively, gated members included, plus documented legacy aliases (lenient
 * profile only).
 */
export interface GraphEnum<M extends string = string> {
  readonly name: string;
  readonly members: readonly M[];
  /** Members after the `unknownFutureValue` sentinel. */
  readonly gated: ReadonlySet<M>;
  /** Lower-cased input spelling → member: the members and the legacy aliases. */
  readonly lookup: ReadonlyMap<string, M>;
  /** Lower-cased member name → member: the CSDL's members only, no alias (the strict profile's input). */
  readonly memberLookup: ReadonlyMap<string, M>;
  /** Each member's numeric value as Graph's CSDL declares it (`$metadata`). */
  readonly values: ReadonlyMap<M, number>;
  /** A flags enum (CSDL `IsFlags`): a value is a comma-separated combination of members. */
  readonly flags: boolean;
  /** CSDL `UnderlyingType` when it is not the default `Edm.Int32`. */
  readonly underlyingType?: string;
}

export interface GraphEnumOptions {
  flags?: boolean;
  underlyingType?: string;
}

/**
 * An enum in CSDL declaration order. `members` is either the member names (their values then count
 * from 0, as CSDL's default) or each member with its declared value.
 */
export function graphEnum<const M extends string>(
  name: string,
  members: readonly M[] | Readonly<Record<M, number>>,
  aliases: Record<string, NoInfer<M>> = {},
  options: GraphEnumOptions = {},
): GraphEnum<M> {
  const entries: [M, number][] = Array.isArray(members)
    ? (members as readonly M[]).map((m, i): [M, number] => [m, i])
    : (Object.entries(members) as [M, number][]);
  const names = entries.map(([m]) => m);
  const sentinel = names.indexOf("unknownFutureValue" as M);
  const gated = new Set(sentinel < 0 ? [] : names.slice(sentinel + 1));
  const memberLookup = new Map<string, M>();
  for (const m of names) memberLookup.set(m.toLowerCase(), m);
  const lookup = new Map(memberLookup);
  for (const [alias, m] of Object.entries(aliases)) lookup.set(alias.toLowerCase(), m);
  return {
    name,
    members: names,
    gated,
    lookup,
    memberLookup,
    values: new Map(entries),
    flags: options.flags ?? false,
    ...(options.underlyingType ? { underlyingType: options.underlyingType } : {}),
  };
}

/**
 * The member for an input spelling, or undefined when it is not a member. With `membersOnly` (the
 * strict profile) only the CSDL's member names are read; the legacy aliases are not members.
 */
export function parseEnum<M extends string>(e: GraphEnum<M>, raw: string, membersOnly = false): M | undefined {
  return (membersOnly ? e.memberLookup : e.lookup).get(raw.toLowerCase());
}

/** The value a client sees: gated members collapse to `unknownFutureValue` unless it opted in. */
export function renderEnum<M extends string>(e: GraphEnum<M>, value: M, includeUnknown: boolean): M {
  if (!includeUnknown && e.gated.has(value)) return "unknownFutureValue" as M;
  return value;
}

export const incidentStatus = graphEnum("incidentStatus", {
  active: 1,
  resolved: 2,
  inProgress: 4,
  redirected: 64,
  unknownFutureValue: 127,
  awaitingAction: 128,
});

export const alertSeverity = graphEnum("alertSeverity", { unknown: 0, informational: 32, low: 64, medium: 128, high: 256, unknownFutureValue: 511 });

export const alertClassification = graphEnum(
  "alertClassification",
  { unknown: 0, falsePositive: 10, truePositive: 20, informationalExpectedActivity: 30, unknownFutureValue: 39 },
  {},
  { underlyingType: "Edm.Byte" },
);

/**
 * Wire names per the CSDL; the resource pages' older names are accepted as input aliases by the lenient
 * profile. The strict profile accepts the CSDL's members only (graph-security-contract-addendum §8.3).
 */
export const alertDetermination = graphEnum(
  "alertDetermination",
  {
    unknown: 0,
    apt: 10,
    malware: 20,
    securityPersonnel: 30,
    securityTesting: 40,
    unwantedSoftware: 50,
    other: 60,
    multiStagedAttack: 70,
    compromisedAccount: 80,
    phishing: 90,
    maliciousUserActivity: 100,
    notMalicious: 110,
    notEnoughDataToValidate: 120,
    confirmedActivity: 130,
    lineOfBusinessApplication: 140,
    unknownFutureValue: 149,
  },
  {
    compromisedUser: "compromisedAccount",
    clean: "notMalicious",
    insufficientData: "notEnoughDataToValidate",
    confirmedUserActivity: "confirmedActivity",
  },
);

export const alertStatus = graphEnum("alertStatus", { unknown: 0, new: 2, inProgress: 4, resolved: 8, unknownFutureValue: 31 });

export const serviceSource = graphEnum("serviceSource", {
  unknown: 0,
  microsoftDefenderForEndpoint: 1,
  microsoftDefenderForIdentity: 2,
  microsoftDefenderForCloudApps: 4,
  microsoftDefenderForOffice365: 8,
  microsoft365Defender: 16,
  azureAdIdentityProtection: 32,
  microsoftAppGovernance: 64,
  dataLossPrevention: 128,
  unknownFutureValue: 255,
  microsoftDefenderForCloud: 256,
  microsoftSentinel: 512,
  microsoftInsiderRiskManagement: 1024,
  microsoftThreatIntelligence: 2048,
  microsoftSecurityForAI: 4096,
});

export const detectionSource = graphEnum("detectionSource", {
  unknown: 0,
  microsoftDefenderForEndpoint: 1,
  antivirus: 2,
  smartScreen: 4,
  customTi: 8,
  microsoftDefenderForOffice365: 512,
  automatedInvestigation: 1024,
  microsoftThreatExperts: 2048,
  customDetection: 4096,
  microsoftDefenderForIdentity: 8192,
  cloudAppSecurity: 16384,
  microsoft365Defender: 32768,
  azureAdIdentityProtection: 65536,
  manual: 262144,
  microsoftDataLossPrevention: 524288,
  appGovernancePolicy: 1048576,
  appGovernanceDetection: 2097152,
  unknownFutureValue: 4194303,
  microsoftDefenderForCloud: 4194304,
  microsoftDefenderForIoT: 1073741833,
  microsoftDefenderForServers: 1073741834,
  microsoftDefenderForStorage: 1073741835,
  microsoftDefenderForDNS: 1073741836,
  microsoftDefenderForDatabases: 1073741837,
  microsoftDefenderForContainers: 1073741838,
  microsoftDefenderForNetwork: 1073741839,
  microsoftDefenderForAppService: 1073741840,
  microsoftDefenderForKeyVault: 1073741841,
  microsoftDefenderForResourceManager: 1073741842,
  microsoftDefenderForApiManagement: 1073741843,
  nrtAlerts: 1073741844,
  scheduledAlerts: 1073741845,
  microsoftDefenderThreatIntelligenceAnalytics: 1073741846,
  builtInMl: 1073741847,
  microsoftInsiderRiskManagement: 1073741848,
  microsoftThreatIntelligence: 1073741849,
  microsoftDefenderForAIServices: 1073741850,
  securityCopilot: 1073741851,
  microsoftSentinel: 268435456,
});

export const investigationState = graphEnum(
  "investigationState",
  {
    unknown: 0,
    terminated: 1,
    successfullyRemediated: 2,
    benign: 4,
    failed: 8,
    partiallyRemediated: 16,
    running: 32,
    pendingApproval: 64,
    pendingResource: 128,
    queued: 512,
    innerFailure: 1024,
    preexistingAlert: 2048,
    unsupportedOs: 4056,
    unsupportedAlertType: 8192,
    suppressedAlert: 16384,
    partiallyInvestigated: 32768,
    terminatedByUser: 65536,
    terminatedBySystem: 131072,
    unknownFutureValue: 262144,
  },
  {},
  { underlyingType: "Edm.Int64" },
);

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

export const evidenceRole = graphEnum("evidenceRole", {
  unknown: 0,
  contextual: 1,
  scanned: 2,
  source: 3,
  destination: 4,
  created: 5,
  added: 6,
  compromised: 7,
  edited: 8,
  attacked: 9,
  attacker: 10,
  commandAndControl: 11,
  loaded: 12,
  suspicious: 13,
  policyViolator: 14,
  unknownFutureValue: 31,
});

export const detectionStatus = graphEnum("detectionStatus", { detected: 0, blocked: 1, prevented: 2, unknownFutureValue: 31 });

export const deviceHealthStatus = graphEnum("deviceHealthStatus", {
  active: 0,
  inactive: 1,
  impairedCommunication: 2,
  noSensorData: 3,
  noSensorDataImpairedCommunication: 4,
  unknown: 5,
  unknownFutureValue: 31,
});

export const deviceRiskScore = graphEnum("deviceRiskScore", { none: 0, informational: 5, low: 10, medium: 20, high: 30, unknownFutureValue: 31 });

export const onboardingStatus = graphEnum("onboardingStatus", { insufficientInfo: 0, onboarded: 1, canBeOnboarded: 2, unsupported: 3, unknownFutureValue: 31 });

export const defenderAvStatus = graphEnum("defenderAvStatus", {
  notReporting: 0,
  disabled: 1,
  notUpdated: 2,
  updated: 3,
  unknown: 4,
  notSupported: 1000,
  unknownFutureValue: 1023,
});

export const vmCloudProvider = graphEnum("vmCloudProvider", { unknown: 0, azure: 1, unknownFutureValue: 15 });

/** Graph's correlationReason flags vocabulary; Triage records it on every correlation and merge. */
export const correlationReason = graphEnum(
  "correlationReason",
  {
    repeatedAlertOccurrence: 1,
    sameGeography: 2,
    similarArtifacts: 4,
    sameTargetedAsset: 8,
    sameNetworkSegment: 16,
    eventSequence: 32,
    timeFrame: 64,
    sameThreatSource: 128,
    similarTTPsOrBehavior: 256,
    sameActor: 512,
    sameCampaign: 1024,
    sharedIndicators: 2048,
    sameAsset: 4096,
    networkProximity: 8192,
    eventCasualSequence: 16384,
    temporalProximity: 32768,
    lateralMovementPath: 65536,
    unknownFutureValue: 131072,
  },
  {},
  { flags: true },
);

export type IncidentStatus = (typeof incidentStatus.members)[number];
export type AlertSeverity = (typeof alertSeverity.members)[number];
export type AlertClassification = (typeof alertClassification.members)[number];
export type AlertDetermination = (typeof alertDetermination.members)[number];
export type AlertStatus = (typeof alertStatus.members)[number];
export type CorrelationReason = (typeof correlationReason.members)[number];
