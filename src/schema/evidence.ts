/**
 * Alert evidence (`microsoft.graph.security.alertEvidence` and its subtypes), contract §5: the one
 * definition used for ingest validation, response rendering (enum gating) and `$filter` lambdas.
 *
 * Conventions in these schemas:
 * - Every enum-typed property is a `Type.String({ graphEnum })`, so generic code can find enum fields by
 *   walking a schema (see `schemaGraphEnum`). The option holds the `GraphEnum` itself; if a schema has
 *   been cloned (which turns its Map/Set into plain objects) the enum is found again by name.
 * - Nullable properties are `Nullable(T)` = `T | null`; non-nullable ones with a CSDL-implied default
 *   carry a TypeBox `default` that `normalizeEvidence` fills in when the property is absent or null.
 * - Int64 and Int32 are JSON integers (`format: "int64" | "int32"`), DateTimeOffset is a string with
 *   `format: "date-time"`, Guid a string with `format: "uuid"`.
 * - Objects allow additional properties: Graph adds fields over time and we keep what we are given.
 */
import { KindGuard, Type, type TObject, type TProperties, type TSchema } from "@sinclair/typebox";
import {
  defenderAvStatus,
  detectionStatus,
  deviceHealthStatus,
  deviceRiskScore,
  evidenceRemediationStatus,
  evidenceRole,
  evidenceVerdict,
  graphEnum,
  onboardingStatus,
  parseEnum,
  vmCloudProvider,
  type GraphEnum,
} from "./enums.js";
import { checkInstant } from "./date-time.js";
import { Dictionary } from "./meta.js";

// ---------------------------------------------------------------------------------------------------
// Enums used only by evidence that are not (yet) in enums.ts

/** `networkConnectionEvidence.protocol` (CSDL `protocolType`). */
export const protocolType = graphEnum("protocolType", ["tcp", "udp", "unknownFutureValue"]);

/** `fileHashEvidence.algorithm` (CSDL `fileHashAlgorithm`). */
export const fileHashAlgorithm = graphEnum("fileHashAlgorithm", ["unknown", "md5", "sha1", "sha256", "sha256ac", "unknownFutureValue"]);

// The enums of the other subtypes, with the values Graph's v1.0 CSDL declares.
export const aiAgentPlatform = graphEnum("aiAgentPlatform", { unknown: 0, azureAIFoundry: 10, copilotStudio: 20, copilot: 30, unknownFutureValue: 40 });
export const antispamTeamsDirection = graphEnum("antispamTeamsDirection", { unknown: 0, inbound: 1, outbound: 2, intraorg: 3, unknownFutureValue: 31 });
export const containerPortProtocol = graphEnum("containerPortProtocol", ["udp", "tcp", "sctp", "unknownFutureValue"]);
export const googleCloudLocationType = graphEnum("googleCloudLocationType", { unknown: 0, regional: 1, zonal: 2, global: 3, unknownFutureValue: 31 });
export const ioTDeviceImportanceType = graphEnum("ioTDeviceImportanceType", ["unknown", "low", "normal", "high", "unknownFutureValue"]);
export const kubernetesPlatform = graphEnum("kubernetesPlatform", ["unknown", "aks", "eks", "gke", "arc", "unknownFutureValue"]);
export const kubernetesServiceType = graphEnum("kubernetesServiceType", {
  unknown: 0,
  clusterIP: 1,
  externalName: 2,
  nodePort: 3,
  loadBalancer: 4,
  unknownFutureValue: 31,
});
export const mailboxConfigurationType = graphEnum("mailboxConfigurationType", {
  mailForwardingRule: 0,
  owaSettings: 1,
  ewsSettings: 2,
  mailDelegation: 3,
  userInboxRule: 4,
  unknownFutureValue: 31,
});
export const servicePrincipalType = graphEnum("servicePrincipalType", ["unknown", "application", "managedIdentity", "legacy", "unknownFutureValue"]);
export const teamsDeliveryLocation = graphEnum("teamsDeliveryLocation", { unknown: 0, teams: 1, quarantine: 2, failed: 3, unknownFutureValue: 31 });
export const teamsMessageDeliveryAction = graphEnum("teamsMessageDeliveryAction", {
  unknown: 0,
  deliveredAsSpam: 1,
  delivered: 2,
  blocked: 3,
  replaced: 4,
  unknownFutureValue: 31,
});

/** Every enum that evidence schemas reference, by name (used to re-resolve a cloned `graphEnum` option). */
const evidenceEnums: ReadonlyMap<string, GraphEnum> = new Map(
  [
    evidenceVerdict,
    evidenceRemediationStatus,
    evidenceRole,
    detectionStatus,
    deviceHealthStatus,
    deviceRiskScore,
    onboardingStatus,
    defenderAvStatus,
    vmCloudProvider,
    protocolType,
    fileHashAlgorithm,
    aiAgentPlatform,
    antispamTeamsDirection,
    containerPortProtocol,
    googleCloudLocationType,
    ioTDeviceImportanceType,
    kubernetesPlatform,
    kubernetesServiceType,
    mailboxConfigurationType,
    servicePrincipalType,
    teamsDeliveryLocation,
    teamsMessageDeliveryAction,
  ].map((e): [string, GraphEnum] => [e.name, e]),
);

// ---------------------------------------------------------------------------------------------------
// Schema helpers

/** `T | null`. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

const INT32 = { minimum: -2147483648, maximum: 2147483647 } as const;

const str = () => Type.Optional(Nullable(Type.String()));
const int64 = () => Type.Optional(Nullable(Type.Integer({ format: "int64" })));
const int32 = () => Type.Optional(Nullable(Type.Integer({ format: "int32", ...INT32 })));
const double = () => Type.Optional(Nullable(Type.Number({ format: "double" })));
const dateTime = () => Type.Optional(Nullable(Type.String({ format: "date-time" })));
const guid = () => Type.Optional(Nullable(Type.String({ format: "uuid" })));
const strings = () => Type.Optional(Nullable(Type.Array(Type.String())));
const enumString = <M extends string>(e: GraphEnum<M>, options: { default?: M } = {}) => Type.String({ graphEnum: e, ...options });
const nullableEnum = (e: GraphEnum) => Type.Optional(Nullable(enumString(e)));
const complex = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const complexList = <T extends TSchema>(schema: T) => Type.Optional(Nullable(Type.Array(schema)));
const bool = () => Type.Optional(Nullable(Type.Boolean()));
const dictionary = () => Type.Optional(Nullable(Dictionary()));

/** The enum an enum-typed string schema uses, or undefined for any other schema. */
export function schemaGraphEnum(schema: TSchema): GraphEnum | undefined {
  const option: unknown = (schema as { graphEnum?: unknown }).graphEnum;
  if (option === undefined || option === null || typeof option !== "object") return undefined;
  const e = option as GraphEnum;
  if (e.lookup instanceof Map && e.gated instanceof Set) return e;
  return typeof e.name === "string" ? evidenceEnums.get(e.name) : undefined;
}

/** The schema without its `| null` arm (the schema itself when it is not nullable). */
export function unwrapNullable(schema: TSchema): TSchema {
  if (!KindGuard.IsUnion(schema)) return schema;
  const arms = schema.anyOf.filter((s) => !KindGuard.IsNull(s));
  return arms.length === 1 && arms[0] !== undefined ? arms[0] : schema;
}

/** Whether the schema admits JSON `null`. */
export function isNullableSchema(schema: TSchema): boolean {
  return KindGuard.IsNull(schema) || (KindGuard.IsUnion(schema) && schema.anyOf.some((s) => KindGuard.IsNull(s)));
}

// ---------------------------------------------------------------------------------------------------
// Supporting complex types (§5.2)

export const resourceAccessEvent = Type.Object({
  accessDateTime: dateTime(),
  accountId: str(),
  ipAddress: str(),
  resourceIdentifier: str(),
});

export const userAccount = Type.Object({
  accountName: str(),
  domainName: str(),
  userSid: str(),
  azureAdUserId: str(),
  userPrincipalName: str(),
  displayName: str(),
  activeDirectoryObjectGuid: guid(),
  tenantId: str(),
  resourceAccessEvents: complexList(resourceAccessEvent),
});

export const fileDetails = Type.Object({
  fileName: str(),
  filePath: str(),
  filePublisher: str(),
  fileSize: int64(),
  issuer: str(),
  signer: str(),
  md5: str(),
  sha1: str(),
  sha256: str(),
  sha256Ac: str(),
});

export const geoLocation = Type.Object({
  city: str(),
  countryName: str(),
  latitude: double(),
  longitude: double(),
  state: str(),
});

export const loggedOnUser = Type.Object({
  accountName: str(),
  domainName: str(),
});

export const vmMetadata = Type.Object({
  vmId: str(),
  /** Non-nullable in the CSDL. */
  cloudProvider: enumString(vmCloudProvider, { default: "unknown" }),
  resourceId: str(),
  subscriptionId: str(),
});

export const stream = Type.Object({
  name: str(),
});

/** `p1Sender` / `p2Sender` of analyzedMessageEvidence. */
export const emailSender = Type.Object({
  displayName: str(),
  domainName: str(),
  emailAddress: str(),
});

// ---------------------------------------------------------------------------------------------------
// Base type (§5.1)

/** Properties every evidence subtype inherits from `alertEvidence`. */
export const alertEvidenceProperties = {
  /** Non-nullable; `normalizeEvidence` takes the caller's `defaultCreatedDateTime` when absent. */
  createdDateTime: Type.String({ format: "date-time" }),
  detailedRoles: strings(),
  remediationStatus: enumString(evidenceRemediationStatus, { default: "none" }),
  remediationStatusDetails: str(),
  roles: Type.Array(enumString(evidenceRole), { default: [] }),
  tags: strings(),
  verdict: enumString(evidenceVerdict, { default: "unknown" }),
} satisfies TProperties;

export const EVIDENCE_NAMESPACE = "microsoft.graph.security";
const QUALIFIED_PREFIX = `${EVIDENCE_NAMESPACE}.`;
const ODATA_TYPE_PREFIX = `#${QUALIFIED_PREFIX}`;

/** Any evidence element, known subtype or not: `@odata.type` plus the base properties. */
export const alertEvidence = Type.Object({
  "@odata.type": Type.String(),
  ...alertEvidenceProperties,
});

/** Each subtype's own properties (beyond the base ones), by name: nested evidence is resolved through it. */
const ownProperties = new Map<string, TProperties>([["alertEvidence", {}]]);

function subtype<P extends TProperties>(name: string, own: P) {
  ownProperties.set(name, own);
  return Type.Object({
    "@odata.type": Type.Literal(`${ODATA_TYPE_PREFIX}${name}`),
    ...alertEvidenceProperties,
    ...own,
  });
}

/**
 * A property whose value is itself evidence of the named type, as Graph nests it (a process's
 * `imageFile` is not one, a container's `pod` is): a placeholder resolved by name where it is used,
 * since evidence types nest one another in cycles (a pod lists its containers, each naming its pod).
 * Nested, the value's `@odata.type` may be left out; when it names another subtype, that one applies.
 */
function nestedEvidence(name: EvidenceSubtypeName | "alertEvidence") {
  return Type.Object({}, { additionalProperties: true, nestedEvidence: name, edm: `${EVIDENCE_NAMESPACE}.${name}` });
}
const nested = (name: EvidenceSubtypeName | "alertEvidence") => Type.Optional(Nullable(nestedEvidence(name)));
const nestedList = (name: EvidenceSubtypeName) => Type.Optional(Nullable(Type.Array(nestedEvidence(name))));

/** The evidence type a `nestedEvidence` placeholder names, or undefined for any other schema. */
export function nestedEvidenceName(schema: TSchema): string | undefined {
  const name: unknown = (schema as { nestedEvidence?: unknown }).nestedEvidence;
  return typeof name === "string" ? name : undefined;
}

const nestedSchemas = new Map<string, TObject>();

/**
 * The schema a nested evidence value is checked and rendered with: the type its own `@odata.type`
 * names when that is an evidence type, else the declared one; `@odata.type` optional.
 */
export function nestedEvidenceSchema(declared: string, value?: unknown): TObject {
  const given = isPlainObject(value) && typeof value["@odata.type"] === "string" ? evidenceShortName(value["@odata.type"]) : undefined;
  const name = given ?? declared;
  let schema = nestedSchemas.get(name);
  if (!schema) {
    schema = Type.Object({ "@odata.type": Type.Optional(Type.String()), ...alertEvidenceProperties, ...ownProperties.get(name) });
    nestedSchemas.set(name, schema);
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------------
// Subtypes with their own properties (§5.2 table)

const ipEvidenceOwn = {
  ipAddress: str(),
  countryLetterCode: str(),
  location: complex(geoLocation),
  stream: complex(stream),
} satisfies TProperties;

export const deviceEvidence = subtype("deviceEvidence", {
  mdeDeviceId: str(),
  azureAdDeviceId: str(),
  deviceDnsName: str(),
  hostName: str(),
  ntDomain: str(),
  dnsDomain: str(),
  osPlatform: str(),
  osBuild: int64(),
  version: str(),
  healthStatus: nullableEnum(deviceHealthStatus),
  riskScore: nullableEnum(deviceRiskScore),
  rbacGroupId: int32(),
  rbacGroupName: str(),
  onboardingStatus: nullableEnum(onboardingStatus),
  defenderAvStatus: nullableEnum(defenderAvStatus),
  firstSeenDateTime: dateTime(),
  lastIpAddress: str(),
  lastExternalIpAddress: str(),
  ipInterfaces: strings(),
  loggedOnUsers: complexList(loggedOnUser),
  vmMetadata: complex(vmMetadata),
  resourceAccessEvents: complexList(resourceAccessEvent),
});

export const userEvidence = subtype("userEvidence", {
  userAccount: complex(userAccount),
  stream: complex(stream),
});

export const ipEvidence = subtype("ipEvidence", ipEvidenceOwn);

export const urlEvidence = subtype("urlEvidence", {
  url: str(),
});

export const fileEvidence = subtype("fileEvidence", {
  fileDetails: complex(fileDetails),
  detectionStatus: nullableEnum(detectionStatus),
  mdeDeviceId: str(),
});

export const processEvidence = subtype("processEvidence", {
  processId: int64(),
  parentProcessId: int64(),
  processCommandLine: str(),
  processCreationDateTime: dateTime(),
  parentProcessCreationDateTime: dateTime(),
  imageFile: complex(fileDetails),
  parentProcessImageFile: complex(fileDetails),
  userAccount: complex(userAccount),
  detectionStatus: nullableEnum(detectionStatus),
  mdeDeviceId: str(),
});

export const mailboxEvidence = subtype("mailboxEvidence", {
  displayName: str(),
  primaryAddress: str(),
  upn: str(),
  userAccount: complex(userAccount),
});

export const analyzedMessageEvidence = subtype("analyzedMessageEvidence", {
  networkMessageId: str(),
  internetMessageId: str(),
  subject: str(),
  senderIp: str(),
  recipientEmailAddress: str(),
  p1Sender: complex(emailSender),
  p2Sender: complex(emailSender),
  receivedDateTime: dateTime(),
  /** Free text in the CSDL (documented values: delivered, deliveredAsSpam, junked, blocked, replaced). */
  deliveryAction: str(),
  deliveryLocation: str(),
  antiSpamDirection: str(),
  language: str(),
  attachmentsCount: int64(),
  urlCount: int64(),
  urls: strings(),
  threats: strings(),
  threatDetectionMethods: strings(),
  urn: str(),
});

export const mailClusterEvidence = subtype("mailClusterEvidence", {
  clusterBy: str(),
  clusterByValue: str(),
  emailCount: int64(),
  networkMessageIds: strings(),
  query: str(),
  urn: str(),
});

export const registryKeyEvidence = subtype("registryKeyEvidence", {
  registryHive: str(),
  registryKey: str(),
});

export const registryValueEvidence = subtype("registryValueEvidence", {
  registryHive: str(),
  registryKey: str(),
  registryValue: str(),
  registryValueName: str(),
  registryValueType: str(),
  mdeDeviceId: str(),
});

export const cloudApplicationEvidence = subtype("cloudApplicationEvidence", {
  appId: int64(),
  displayName: str(),
  instanceId: int64(),
  instanceName: str(),
  saasAppId: int64(),
  stream: complex(stream),
});

export const oauthApplicationEvidence = subtype("oauthApplicationEvidence", {
  appId: str(),
  displayName: str(),
  objectId: str(),
  publisher: str(),
});

export const securityGroupEvidence = subtype("securityGroupEvidence", {
  securityGroupId: str(),
  displayName: str(),
  distinguishedName: str(),
  friendlyName: str(),
  sid: str(),
  activeDirectoryObjectGuid: guid(),
});

export const azureResourceEvidence = subtype("azureResourceEvidence", {
  resourceId: str(),
  resourceName: str(),
  resourceType: str(),
});

export const networkConnectionEvidence = subtype("networkConnectionEvidence", {
  sourceAddress: nested("ipEvidence"),
  destinationAddress: nested("ipEvidence"),
  sourcePort: int32(),
  destinationPort: int32(),
  protocol: nullableEnum(protocolType),
});

export const dnsEvidence = subtype("dnsEvidence", {
  domainName: str(),
  dnsServerIp: nested("ipEvidence"),
  hostIpAddress: nested("ipEvidence"),
  ipAddresses: nestedList("ipEvidence"),
});

export const fileHashEvidence = subtype("fileHashEvidence", {
  /** Non-nullable in the CSDL. */
  algorithm: enumString(fileHashAlgorithm, { default: "unknown" }),
  value: str(),
});

// ---------------------------------------------------------------------------------------------------
// The other subtypes of Graph's v1.0 CSDL (cloud, containers, code hosting, Teams, …)

/** `blobEvidence.fileHashes` (CSDL `fileHash`). */
export const fileHash = Type.Object({
  /** Non-nullable in the CSDL. */
  algorithm: enumString(fileHashAlgorithm, { default: "unknown" }),
  value: str(),
});

/** `kubernetesServiceEvidence.servicePorts` (CSDL `kubernetesServicePort`). */
export const kubernetesServicePort = Type.Object({
  appProtocol: str(),
  name: str(),
  /** Non-nullable in the CSDL. */
  nodePort: Type.Integer({ format: "int32", ...INT32, default: 0 }),
  /** Non-nullable in the CSDL. */
  port: Type.Integer({ format: "int32", ...INT32, default: 0 }),
  protocol: nullableEnum(containerPortProtocol),
  targetPort: str(),
});

export const activeDirectoryDomainEvidence = subtype("activeDirectoryDomainEvidence", {
  activeDirectoryDomainName: str(),
  /** Non-nullable in the CSDL. */
  trustedDomains: Type.Array(nestedEvidence("activeDirectoryDomainEvidence"), { default: [] }),
});

export const aiAgentEvidence = subtype("aiAgentEvidence", {
  agentId: str(),
  agentName: str(),
  hostingPlatformType: nullableEnum(aiAgentPlatform),
  instructions: str(),
});

export const amazonResourceEvidence = subtype("amazonResourceEvidence", {
  amazonAccountId: str(),
  amazonResourceId: str(),
  resourceName: str(),
  resourceType: str(),
});

export const blobContainerEvidence = subtype("blobContainerEvidence", {
  name: str(),
  storageResource: nested("azureResourceEvidence"),
  url: str(),
});

export const blobEvidence = subtype("blobEvidence", {
  blobContainer: nested("blobContainerEvidence"),
  etag: str(),
  fileHashes: complexList(fileHash),
  name: str(),
  url: str(),
});

export const cloudLogonRequestEvidence = subtype("cloudLogonRequestEvidence", {
  requestId: str(),
});

export const cloudLogonSessionEvidence = subtype("cloudLogonSessionEvidence", {
  account: nested("userEvidence"),
  browser: str(),
  deviceName: str(),
  operatingSystem: str(),
  previousLogonDateTime: dateTime(),
  protocol: str(),
  sessionId: str(),
  startUtcDateTime: dateTime(),
  userAgent: str(),
});

export const containerEvidence = subtype("containerEvidence", {
  args: strings(),
  command: strings(),
  containerId: str(),
  image: nested("containerImageEvidence"),
  /** Non-nullable in the CSDL. */
  isPrivileged: Type.Boolean({ default: false }),
  name: str(),
  pod: nested("kubernetesPodEvidence"),
});

export const containerImageEvidence = subtype("containerImageEvidence", {
  digestImage: nested("containerImageEvidence"),
  imageId: str(),
  registry: nested("containerRegistryEvidence"),
});

export const containerRegistryEvidence = subtype("containerRegistryEvidence", {
  registry: str(),
});

export const gitHubOrganizationEvidence = subtype("gitHubOrganizationEvidence", {
  company: str(),
  displayName: str(),
  email: str(),
  login: str(),
  orgId: str(),
  webUrl: str(),
});

export const gitHubRepoEvidence = subtype("gitHubRepoEvidence", {
  baseUrl: str(),
  login: str(),
  owner: str(),
  ownerType: str(),
  repoId: str(),
});

export const gitHubUserEvidence = subtype("gitHubUserEvidence", {
  email: str(),
  login: str(),
  name: str(),
  userId: str(),
  webUrl: str(),
});

export const googleCloudResourceEvidence = subtype("googleCloudResourceEvidence", {
  fullResourceName: str(),
  location: str(),
  locationType: nullableEnum(googleCloudLocationType),
  projectId: str(),
  projectNumber: int64(),
  resourceName: str(),
  resourceType: str(),
});

export const hostLogonSessionEvidence = subtype("hostLogonSessionEvidence", {
  account: nested("userEvidence"),
  endUtcDateTime: dateTime(),
  host: nested("deviceEvidence"),
  sessionId: str(),
  startUtcDateTime: dateTime(),
});

export const ioTDeviceEvidence = subtype("ioTDeviceEvidence", {
  deviceId: str(),
  deviceName: str(),
  devicePageLink: str(),
  deviceSubType: str(),
  deviceType: str(),
  importance: nullableEnum(ioTDeviceImportanceType),
  ioTHub: nested("azureResourceEvidence"),
  ioTSecurityAgentId: str(),
  ipAddress: nested("ipEvidence"),
  isAuthorized: bool(),
  isProgramming: bool(),
  isScanner: bool(),
  macAddress: str(),
  manufacturer: str(),
  model: str(),
  nics: nestedList("nicEvidence"),
  operatingSystem: str(),
  owners: strings(),
  protocols: strings(),
  purdueLayer: str(),
  sensor: str(),
  serialNumber: str(),
  site: str(),
  source: str(),
  sourceRef: nested("urlEvidence"),
  zone: str(),
});

export const kubernetesClusterEvidence = subtype("kubernetesClusterEvidence", {
  /** Any evidence type: the cluster's resource in its cloud (azureResourceEvidence, amazonResourceEvidence, …). */
  cloudResource: nested("alertEvidence"),
  distribution: str(),
  name: str(),
  platform: nullableEnum(kubernetesPlatform),
  version: str(),
});

export const kubernetesControllerEvidence = subtype("kubernetesControllerEvidence", {
  labels: dictionary(),
  name: str(),
  namespace: nested("kubernetesNamespaceEvidence"),
  type: str(),
});

export const kubernetesNamespaceEvidence = subtype("kubernetesNamespaceEvidence", {
  cluster: nested("kubernetesClusterEvidence"),
  labels: dictionary(),
  name: str(),
});

export const kubernetesPodEvidence = subtype("kubernetesPodEvidence", {
  containers: nestedList("containerEvidence"),
  controller: nested("kubernetesControllerEvidence"),
  ephemeralContainers: nestedList("containerEvidence"),
  initContainers: nestedList("containerEvidence"),
  labels: dictionary(),
  name: str(),
  namespace: nested("kubernetesNamespaceEvidence"),
  podIp: nested("ipEvidence"),
  serviceAccount: nested("kubernetesServiceAccountEvidence"),
});

export const kubernetesSecretEvidence = subtype("kubernetesSecretEvidence", {
  name: str(),
  namespace: nested("kubernetesNamespaceEvidence"),
  secretType: str(),
});

export const kubernetesServiceAccountEvidence = subtype("kubernetesServiceAccountEvidence", {
  name: str(),
  namespace: nested("kubernetesNamespaceEvidence"),
});

export const kubernetesServiceEvidence = subtype("kubernetesServiceEvidence", {
  clusterIP: nested("ipEvidence"),
  externalIPs: nestedList("ipEvidence"),
  labels: dictionary(),
  name: str(),
  namespace: nested("kubernetesNamespaceEvidence"),
  selector: dictionary(),
  servicePorts: complexList(kubernetesServicePort),
  /** Non-nullable in the CSDL. */
  serviceType: enumString(kubernetesServiceType, { default: "unknown" }),
});

export const mailboxConfigurationEvidence = subtype("mailboxConfigurationEvidence", {
  configurationId: str(),
  configurationType: nullableEnum(mailboxConfigurationType),
  displayName: str(),
  externalDirectoryObjectId: guid(),
  mailboxPrimaryAddress: str(),
  upn: str(),
});

export const malwareEvidence = subtype("malwareEvidence", {
  category: str(),
  files: nestedList("fileEvidence"),
  name: str(),
  processes: nestedList("processEvidence"),
});

export const nicEvidence = subtype("nicEvidence", {
  ipAddress: nested("ipEvidence"),
  macAddress: str(),
  vlans: strings(),
});

export const sasTokenEvidence = subtype("sasTokenEvidence", {
  allowedIpAddresses: str(),
  allowedResourceTypes: strings(),
  allowedServices: strings(),
  expiryDateTime: dateTime(),
  permissions: strings(),
  protocol: str(),
  signatureHash: str(),
  signedWith: str(),
  startDateTime: dateTime(),
  storageResource: nested("azureResourceEvidence"),
});

export const servicePrincipalEvidence = subtype("servicePrincipalEvidence", {
  appId: str(),
  appOwnerTenantId: str(),
  servicePrincipalName: str(),
  servicePrincipalObjectId: str(),
  servicePrincipalType: nullableEnum(servicePrincipalType),
  tenantId: str(),
});

export const submissionMailEvidence = subtype("submissionMailEvidence", {
  networkMessageId: str(),
  recipient: str(),
  reportType: str(),
  sender: str(),
  senderIp: str(),
  subject: str(),
  submissionDateTime: dateTime(),
  submissionId: str(),
  submitter: str(),
});

export const teamsMessageEvidence = subtype("teamsMessageEvidence", {
  campaignId: str(),
  channelId: str(),
  deliveryAction: nullableEnum(teamsMessageDeliveryAction),
  deliveryLocation: nullableEnum(teamsDeliveryLocation),
  files: nestedList("fileEvidence"),
  groupId: str(),
  isExternal: bool(),
  isOwned: bool(),
  lastModifiedDateTime: dateTime(),
  messageDirection: nullableEnum(antispamTeamsDirection),
  messageId: str(),
  owningTenantId: guid(),
  parentMessageId: str(),
  receivedDateTime: dateTime(),
  recipients: strings(),
  senderFromAddress: str(),
  senderIP: str(),
  sourceAppName: str(),
  sourceId: str(),
  subject: str(),
  suspiciousRecipients: strings(),
  threadId: str(),
  threadType: str(),
  urls: nestedList("urlEvidence"),
});

/** Every subtype's schema; the type makes sure none of the 48 is missing. */
const subtypeSchemas: Record<EvidenceSubtypeName, TObject> = {
  deviceEvidence,
  userEvidence,
  ipEvidence,
  urlEvidence,
  fileEvidence,
  processEvidence,
  mailboxEvidence,
  analyzedMessageEvidence,
  mailClusterEvidence,
  registryKeyEvidence,
  registryValueEvidence,
  cloudApplicationEvidence,
  oauthApplicationEvidence,
  securityGroupEvidence,
  azureResourceEvidence,
  networkConnectionEvidence,
  dnsEvidence,
  fileHashEvidence,
  activeDirectoryDomainEvidence,
  aiAgentEvidence,
  amazonResourceEvidence,
  blobContainerEvidence,
  blobEvidence,
  cloudLogonRequestEvidence,
  cloudLogonSessionEvidence,
  containerEvidence,
  containerImageEvidence,
  containerRegistryEvidence,
  gitHubOrganizationEvidence,
  gitHubRepoEvidence,
  gitHubUserEvidence,
  googleCloudResourceEvidence,
  hostLogonSessionEvidence,
  ioTDeviceEvidence,
  kubernetesClusterEvidence,
  kubernetesControllerEvidence,
  kubernetesNamespaceEvidence,
  kubernetesPodEvidence,
  kubernetesSecretEvidence,
  kubernetesServiceAccountEvidence,
  kubernetesServiceEvidence,
  mailboxConfigurationEvidence,
  malwareEvidence,
  nicEvidence,
  sasTokenEvidence,
  servicePrincipalEvidence,
  submissionMailEvidence,
  teamsMessageEvidence,
};

/** All 48 v1.0 subtype names (§5.2 "The full v1.0 set"). Mind the casing of ioT…, gitHub…, oauth…. */
export const evidenceSubtypeNames = [
  "activeDirectoryDomainEvidence",
  "aiAgentEvidence",
  "amazonResourceEvidence",
  "analyzedMessageEvidence",
  "azureResourceEvidence",
  "blobContainerEvidence",
  "blobEvidence",
  "cloudApplicationEvidence",
  "cloudLogonRequestEvidence",
  "cloudLogonSessionEvidence",
  "containerEvidence",
  "containerImageEvidence",
  "containerRegistryEvidence",
  "deviceEvidence",
  "dnsEvidence",
  "fileEvidence",
  "fileHashEvidence",
  "gitHubOrganizationEvidence",
  "gitHubRepoEvidence",
  "gitHubUserEvidence",
  "googleCloudResourceEvidence",
  "hostLogonSessionEvidence",
  "ioTDeviceEvidence",
  "ipEvidence",
  "kubernetesClusterEvidence",
  "kubernetesControllerEvidence",
  "kubernetesNamespaceEvidence",
  "kubernetesPodEvidence",
  "kubernetesSecretEvidence",
  "kubernetesServiceAccountEvidence",
  "kubernetesServiceEvidence",
  "mailboxConfigurationEvidence",
  "mailboxEvidence",
  "mailClusterEvidence",
  "malwareEvidence",
  "networkConnectionEvidence",
  "nicEvidence",
  "oauthApplicationEvidence",
  "processEvidence",
  "registryKeyEvidence",
  "registryValueEvidence",
  "sasTokenEvidence",
  "securityGroupEvidence",
  "servicePrincipalEvidence",
  "submissionMailEvidence",
  "teamsMessageEvidence",
  "urlEvidence",
  "userEvidence",
] as const;

export type EvidenceSubtypeName = (typeof evidenceSubtypeNames)[number];

/**
 * Every v1.0 subtype's schema by short name, with the properties Graph's v1.0 CSDL declares for it
 * (properties beyond those are kept as given).
 */
export const evidenceSubtypes: ReadonlyMap<string, TObject> = new Map(evidenceSubtypeNames.map((name): [string, TObject] => [name, subtypeSchemas[name]]));

const subtypeByLowerName: ReadonlyMap<string, EvidenceSubtypeName> = new Map(
  evidenceSubtypeNames.map((n): [string, EvidenceSubtypeName] => [n.toLowerCase(), n]),
);

// ---------------------------------------------------------------------------------------------------
// Type names

/**
 * The short subtype name for `#microsoft.graph.security.deviceEvidence`,
 * `microsoft.graph.security.deviceEvidence` or `deviceEvidence` (matched case-insensitively, answered in
 * the CSDL's casing); undefined when it is not one of the 48.
 */
export function evidenceShortName(typeName: string): EvidenceSubtypeName | undefined {
  let name = typeName.trim();
  if (name.startsWith("#")) name = name.slice(1);
  if (name.toLowerCase().startsWith(QUALIFIED_PREFIX.toLowerCase())) name = name.slice(QUALIFIED_PREFIX.length);
  if (name.includes(".")) return undefined;
  return subtypeByLowerName.get(name.toLowerCase());
}

/** `deviceEvidence` → `#microsoft.graph.security.deviceEvidence` (the `@odata.type` value). */
export function evidenceODataType(shortName: string): string {
  return `${ODATA_TYPE_PREFIX}${shortName}`;
}

/** `deviceEvidence` → `microsoft.graph.security.deviceEvidence` (the type-cast segment in `$filter`). */
export function evidenceQualifiedName(shortName: string): string {
  return `${QUALIFIED_PREFIX}${shortName}`;
}

/** The subtype schema for a name in any of the three forms, or undefined when unknown. */
export function evidenceSubtypeSchema(typeName: string): TObject | undefined {
  const short = evidenceShortName(typeName);
  return short === undefined ? undefined : evidenceSubtypes.get(short);
}

// ---------------------------------------------------------------------------------------------------
// Normalization (ingest)

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Checked = { ok: true; value: unknown } | { ok: false; error: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(path: string, message: string): Checked {
  return { ok: false, error: `${path} ${message}` };
}

/**
 * Checks one value against the schema it was compiled for. `parent` and `key` name where the value is
 * (`${parent}.${key}`, `${parent}[${key}]`, or `parent` itself when `key` is undefined): the path is
 * written only when a check fails or a container passes it down, not for every value checked.
 */
type Checker = (value: unknown, parent: string, key: string | number | undefined) => Checked;

function at(parent: string, key: string | number | undefined): string {
  return key === undefined ? parent : typeof key === "number" ? `${parent}[${key}]` : `${parent}.${key}`;
}

const checkers = new WeakMap<TSchema, Checker>();

/**
 * The checker of a schema, worked out once: every alert's evidence is checked against the same few
 * dozen schemas, and deciding each value's schema kind again (a chain of kind guards) cost more than
 * checking the value.
 */
function checkerOf(schema: TSchema): Checker {
  let check = checkers.get(schema);
  if (!check) {
    check = compileChecker(schema);
    checkers.set(schema, check);
  }
  return check;
}

function compileChecker(schema: TSchema): Checker {
  if (KindGuard.IsUnion(schema)) {
    const nullable = isNullableSchema(schema);
    const inner = unwrapNullable(schema);
    if (inner === schema) return (value) => ({ ok: true, value });
    const check = checkerOf(inner);
    return (value, parent, key) => (value === null && nullable ? { ok: true, value: null } : check(value, parent, key));
  }
  if (KindGuard.IsString(schema)) {
    const e = schemaGraphEnum(schema);
    if (e !== undefined) {
      return (value, parent, key) => {
        if (typeof value !== "string") return fail(at(parent, key), "must be a string");
        const member = parseEnum(e, value);
        if (member === undefined) return fail(at(parent, key), `has unknown ${e.name} value '${value}' (allowed: ${e.members.join(", ")})`);
        return { ok: true, value: member };
      };
    }
    const dateTime = schema.format === "date-time";
    const uuid = schema.format === "uuid";
    return (value, parent, key) => {
      if (typeof value !== "string") return fail(at(parent, key), "must be a string");
      if (dateTime) {
        // Kept as sent (any offset, any precision): $filter compares evidence date-times as instants.
        const r = checkInstant(value);
        if (!r.ok) return fail(at(parent, key), r.reason);
      }
      if (uuid && !GUID.test(value)) return fail(at(parent, key), "must be a GUID");
      return { ok: true, value };
    };
  }
  if (KindGuard.IsInteger(schema)) {
    const { minimum, maximum } = schema;
    return (value, parent, key) => {
      if (typeof value !== "number" || !Number.isInteger(value)) return fail(at(parent, key), "must be an integer");
      if ((minimum !== undefined && value < minimum) || (maximum !== undefined && value > maximum)) {
        return fail(at(parent, key), `must be an integer between ${minimum ?? "-∞"} and ${maximum ?? "∞"}`);
      }
      return { ok: true, value };
    };
  }
  if (KindGuard.IsNumber(schema)) {
    return (value, parent, key) => (typeof value === "number" && Number.isFinite(value) ? { ok: true, value } : fail(at(parent, key), "must be a number"));
  }
  if (KindGuard.IsBoolean(schema)) {
    return (value, parent, key) => (typeof value === "boolean" ? { ok: true, value } : fail(at(parent, key), "must be a boolean"));
  }
  if (KindGuard.IsLiteral(schema)) {
    const expected: unknown = schema.const;
    return (value, parent, key) => (value === expected ? { ok: true, value } : fail(at(parent, key), `must be ${JSON.stringify(expected)}`));
  }
  if (KindGuard.IsArray(schema)) {
    const check = checkerOf(schema.items);
    return (value, parent, key) => {
      if (!Array.isArray(value)) return fail(at(parent, key), "must be an array");
      const here = at(parent, key);
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const r = check(value[i], here, i);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    };
  }
  if (KindGuard.IsObject(schema)) {
    const nestedName = nestedEvidenceName(schema);
    return (value, parent, key) => {
      if (!isPlainObject(value)) return fail(at(parent, key), "must be an object");
      return checkObject(nestedName === undefined ? schema : nestedEvidenceSchema(nestedName, value), value, at(parent, key), NO_SKIP);
    };
  }
  if (KindGuard.IsRecord(schema)) {
    return (value, parent, key) => (isPlainObject(value) ? { ok: true, value } : fail(at(parent, key), "must be an object"));
  }
  return (value) => ({ ok: true, value });
}

const NO_SKIP: ReadonlySet<string> = new Set();

interface PropertyCheck {
  key: string;
  check: Checker;
  /** A fresh copy of the property's default (the default itself when it is a primitive), if it has one. */
  defaultValue: (() => unknown) | undefined;
  nullable: boolean;
}

const propertyChecks = new WeakMap<TObject, PropertyCheck[]>();

/** An object schema's properties with what checking each needs, worked out once per schema (every alert's evidence is checked against the same few). */
function propertiesOf(schema: TObject): PropertyCheck[] {
  let checks = propertyChecks.get(schema);
  if (!checks) {
    checks = Object.entries(schema.properties).map(([key, prop]) => {
      const given: unknown = (prop as { default?: unknown }).default;
      const defaultValue = !("default" in prop) ? undefined : typeof given === "object" && given !== null ? () => structuredClone(given) : () => given;
      return { key, check: checkerOf(prop), defaultValue, nullable: isNullableSchema(prop) };
    });
    propertyChecks.set(schema, checks);
  }
  return checks;
}

/** Checks the known properties present, fills defaults, keeps unknown properties as given. */
function checkObject(schema: TObject, value: Record<string, unknown>, path: string, skip: ReadonlySet<string>): Checked {
  const out: Record<string, unknown> = { ...value };
  for (const { key, check, defaultValue, nullable } of propertiesOf(schema)) {
    if (skip.has(key)) continue;
    const given = value[key];
    if (given === undefined || (given === null && defaultValue !== undefined && !nullable)) {
      if (defaultValue !== undefined) out[key] = defaultValue();
      else delete out[key];
      continue;
    }
    const r = check(given, path, key);
    if (!r.ok) return r;
    out[key] = r.value;
  }
  return { ok: true, value: out };
}

const SKIP_ODATA_TYPE: ReadonlySet<string> = new Set(["@odata.type"]);

/**
 * Validates and normalizes one element of an incoming alert's `evidence` array.
 *
 * - `@odata.type` is required (a string); it is stored as `#microsoft.graph.security.<name>`.
 * - Known subtype (one of the 48): known properties are type-checked (the error names the JSON path),
 *   enum values become their camelCase member, absent non-nullable base fields get their defaults
 *   (`roles: []`, `verdict: "unknown"`, `remediationStatus: "none"`; `createdDateTime` from
 *   `defaultCreatedDateTime` when given), unknown extra properties are kept as given.
 * - Unknown subtype: kept as given (only a missing `#` on `@odata.type` is added).
 *
 * The input is not mutated; unknown properties are copied shallowly.
 */
export function normalizeEvidence(input: unknown, path: string, defaultCreatedDateTime?: string): { value: Record<string, unknown> } | { error: string } {
  if (!isPlainObject(input)) return { error: `${path} must be an object` };
  const rawType = input["@odata.type"];
  if (rawType === undefined || rawType === null) return { error: `${path}["@odata.type"] is required` };
  if (typeof rawType !== "string" || rawType.trim() === "") {
    return { error: `${path}["@odata.type"] must be a non-empty string` };
  }

  const short = evidenceShortName(rawType);
  const schema = short === undefined ? undefined : evidenceSubtypes.get(short);
  if (short === undefined || schema === undefined) {
    const odataType = rawType.startsWith("#") ? rawType : `#${rawType}`;
    return { value: odataType === rawType ? input : { ...input, "@odata.type": odataType } };
  }

  let source = input;
  if ((input.createdDateTime === undefined || input.createdDateTime === null) && defaultCreatedDateTime !== undefined) {
    source = { ...input, createdDateTime: defaultCreatedDateTime };
  }
  const r = checkObject(schema, source, path, SKIP_ODATA_TYPE);
  if (!r.ok) return { error: r.error };
  const value = r.value as Record<string, unknown>;
  value["@odata.type"] = evidenceODataType(short);
  return { value };
}

// ---------------------------------------------------------------------------------------------------
// Rendering (enum gating)

/**
 * How to collapse a schema's gated members, worked out once per schema: only the properties that may
 * hold one are visited (an evidence element has dozens, two or three of them such enums), where
 * walking every property of every element cost most of an alert's rendering.
 */
type GatedPlan =
  | { kind: "enum"; gated: ReadonlySet<string> }
  | { kind: "array"; items: GatedPlan }
  | { kind: "object"; props: readonly (readonly [string, GatedPlan])[] }
  | { kind: "nested"; declared: string };

const plans = new WeakMap<TSchema, GatedPlan | null>();

/** The plan for a schema, or null when nothing in it can be gated. */
function gatedPlan(schema: TSchema): GatedPlan | null {
  const cached = plans.get(schema);
  if (cached !== undefined) return cached;
  let plan: GatedPlan | null = null;
  // Nested evidence has the base properties, whose enums have gated members.
  const nestedName = nestedEvidenceName(schema);
  if (nestedName !== undefined) plan = { kind: "nested", declared: nestedName };
  else if (KindGuard.IsUnion(schema)) {
    const inner = unwrapNullable(schema);
    plan = inner === schema ? null : gatedPlan(inner);
  } else if (KindGuard.IsString(schema)) {
    const e = schemaGraphEnum(schema);
    plan = e === undefined || e.gated.size === 0 ? null : { kind: "enum", gated: e.gated };
  } else if (KindGuard.IsArray(schema)) {
    const items = gatedPlan(schema.items);
    plan = items === null ? null : { kind: "array", items };
  } else if (KindGuard.IsObject(schema)) {
    const props: (readonly [string, GatedPlan])[] = [];
    for (const [key, prop] of Object.entries(schema.properties)) {
      const p = gatedPlan(prop);
      if (p !== null) props.push([key, p]);
    }
    plan = props.length === 0 ? null : { kind: "object", props };
  }
  plans.set(schema, plan);
  return plan;
}

/** The value with gated enum members collapsed; the same reference when nothing changes. */
function renderValue(schema: TSchema, value: unknown): unknown {
  const plan = gatedPlan(schema);
  return plan === null ? value : renderPlanned(plan, value);
}

function renderPlanned(plan: GatedPlan, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (plan.kind) {
    case "enum":
      return typeof value === "string" && plan.gated.has(value) ? "unknownFutureValue" : value;
    case "array": {
      if (!Array.isArray(value)) return value;
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const r = renderPlanned(plan.items, item);
        if (r !== item) (out ??= [...value])[i] = r;
      }
      return out ?? value;
    }
    case "nested":
      return isPlainObject(value) ? renderValue(nestedEvidenceSchema(plan.declared, value), value) : value;
    case "object": {
      if (!isPlainObject(value)) return value;
      let out: Record<string, unknown> | undefined;
      for (const [key, p] of plan.props) {
        const item = value[key];
        const r = renderPlanned(p, item);
        if (r !== item) (out ??= { ...value })[key] = r;
      }
      return out ?? value;
    }
  }
}

function holdsPlanned(plan: GatedPlan, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  switch (plan.kind) {
    case "enum":
      return typeof value === "string" && plan.gated.has(value);
    case "array":
      return Array.isArray(value) && value.some((item: unknown) => holdsPlanned(plan.items, item));
    case "nested": {
      if (!isPlainObject(value)) return false;
      const nested = gatedPlan(nestedEvidenceSchema(plan.declared, value));
      return nested !== null && holdsPlanned(nested, value);
    }
    case "object":
      return isPlainObject(value) && plan.props.some(([key, p]) => holdsPlanned(p, value[key]));
  }
}

/**
 * Whether rendering the evidence element for a client that did not opt in changes it (it holds a
 * gated member where its schema declares that enum): the same walk as `renderEvidence`, without
 * building anything.
 */
export function evidenceHoldsGated(e: Record<string, unknown>): boolean {
  const type = e["@odata.type"];
  const schema = typeof type === "string" ? evidenceSubtypeSchema(type) : undefined;
  if (schema === undefined) return false;
  const plan = gatedPlan(schema);
  return plan !== null && holdsPlanned(plan, e);
}

/**
 * The evidence element as a client sees it: for known subtypes, enum values declared after
 * `unknownFutureValue` (e.g. remediationStatus `active`) become `unknownFutureValue` unless the client
 * sent `Prefer: include-unknown-enum-members`. Never mutates; returns `e` itself when nothing changes.
 */
export function renderEvidence(e: Record<string, unknown>, includeUnknownEnumMembers: boolean): Record<string, unknown> {
  if (includeUnknownEnumMembers) return e;
  const type = e["@odata.type"];
  const schema = typeof type === "string" ? evidenceSubtypeSchema(type) : undefined;
  if (schema === undefined) return e;
  return renderValue(schema, e) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// Property lookup ($filter)

/**
 * The schema of a property path inside a subtype, e.g. ("userEvidence", ["userAccount",
 * "userPrincipalName"]) → the string schema; ("deviceEvidence", ["osBuild"]) → the integer schema.
 * The `| null` arm is removed (every evidence property may be compared with null anyway). A collection
 * property resolves to its array schema (use `.items` inside a nested lambda); a path cannot step through
 * an array. The subtype may be given in any of the three name forms. An empty path gives the subtype.
 */
export function evidencePropertyType(subtype: string, path: readonly string[]): TSchema | undefined {
  // "alertEvidence" is the base type: a filter without a type cast sees only the base properties.
  let schema: TSchema | undefined = subtype === "alertEvidence" ? alertEvidence : evidenceSubtypeSchema(subtype);
  const resolve = (s: TSchema): TSchema => {
    const inner = unwrapNullable(s);
    const nestedName = nestedEvidenceName(inner);
    return nestedName === undefined ? inner : nestedEvidenceSchema(nestedName);
  };
  for (const segment of path) {
    if (schema === undefined) return undefined;
    const current = resolve(schema);
    if (!KindGuard.IsObject(current) || !Object.hasOwn(current.properties, segment)) return undefined;
    schema = current.properties[segment];
  }
  return schema === undefined ? undefined : resolve(schema);
}

// ---------------------------------------------------------------------------------------------------
// Names (`$metadata`)

/**
 * The CSDL name of every complex type the evidence schemas nest, by schema: `$metadata` declares each
 * once and refers to it by name (nested evidence names its type itself: `nestedEvidenceName`).
 */
export const evidenceComplexTypeNames: ReadonlyMap<TSchema, string> = new Map<TSchema, string>([
  [resourceAccessEvent, "resourceAccessEvent"],
  [userAccount, "userAccount"],
  [fileDetails, "fileDetails"],
  [geoLocation, "geoLocation"],
  [loggedOnUser, "loggedOnUser"],
  [vmMetadata, "vmMetadata"],
  [stream, "stream"],
  [emailSender, "emailSender"],
  [fileHash, "fileHash"],
  [kubernetesServicePort, "kubernetesServicePort"],
]);

/** The base properties' names, which each subtype inherits from alertEvidence. */
export const alertEvidencePropertyNames: readonly string[] = Object.keys(alertEvidenceProperties);
