import { describe, expect, it } from "vitest";
import { KindGuard } from "@sinclair/typebox";
import {
  evidencePropertyType,
  evidenceODataType,
  evidenceQualifiedName,
  evidenceShortName,
  evidenceSubtypeNames,
  evidenceSubtypes,
  normalizeEvidence,
  renderEvidence,
  schemaGraphEnum,
} from "../../src/schema/evidence.js";
import { deviceHealthStatus, evidenceRemediationStatus, evidenceRole, evidenceVerdict } from "../../src/schema/enums.js";

const CREATED = "2026-02-25T16:29:33.1Z";

/** Normalizes one element and fails the test with the error message when it is rejected. */
function ok(input: unknown, path = "evidence[0]"): Record<string, unknown> {
  const r = normalizeEvidence(input, path, CREATED);
  if ("error" in r) throw new Error(`expected success, got: ${r.error}`);
  return r.value;
}

function err(input: unknown, path = "evidence[0]"): string {
  const r = normalizeEvidence(input, path, CREATED);
  if ("value" in r) throw new Error(`expected an error, got: ${JSON.stringify(r.value)}`);
  return r.error;
}

// Realistic samples, shaped like Defender alerts in Graph JSON.
const device = {
  "@odata.type": "#microsoft.graph.security.deviceEvidence",
  createdDateTime: "2026-01-22T12:09:23.1433333Z",
  verdict: "Suspicious",
  remediationStatus: "None",
  remediationStatusDetails: null,
  roles: [],
  detailedRoles: ["PrimaryDevice"],
  tags: ["Tier0"],
  firstSeenDateTime: "2025-11-03T08:14:02.51Z",
  mdeDeviceId: "73e7e2de709dff64ef64b1d0c30e67fab63279db",
  azureAdDeviceId: "7d3bd1f1-4f0e-4f9a-9c35-3a3f3b8a0b5c",
  deviceDnsName: "ws-fin-042.contoso.com",
  hostName: "ws-fin-042",
  ntDomain: "CONTOSO",
  dnsDomain: "contoso.com",
  osPlatform: "Windows11",
  osBuild: 22631,
  version: "23H2",
  healthStatus: "Active",
  riskScore: "High",
  rbacGroupId: 75,
  rbacGroupName: "Finance workstations",
  onboardingStatus: "onboarded",
  defenderAvStatus: "updated",
  lastIpAddress: "10.20.4.17",
  lastExternalIpAddress: "203.0.113.40",
  ipInterfaces: ["10.20.4.17", "fe80::1c2d:3e4f:5a6b:7c8d"],
  loggedOnUsers: [{ accountName: "amelia.ross", domainName: "CONTOSO" }],
  vmMetadata: {
    vmId: "8c6a3c1e-9f1f-4b9d-8a0e-3f1c2b4d5e6f",
    cloudProvider: "Azure",
    resourceId: "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/fin/providers/Microsoft.Compute/virtualMachines/ws-fin-042",
    subscriptionId: "0b1f6471-1bf0-4dda-aec3-111122223333",
  },
};

const user = {
  "@odata.type": "#microsoft.graph.security.userEvidence",
  createdDateTime: CREATED,
  verdict: "malicious",
  remediationStatus: "none",
  roles: ["compromised"],
  userAccount: {
    accountName: "amelia.ross",
    domainName: "CONTOSO",
    userSid: "S-1-5-21-1782978300-3457689011-1234567890-1105",
    azureAdUserId: "c4a9f1d0-2e4b-4e7b-9a0f-5b8d2c1e3f4a",
    userPrincipalName: "amelia.ross@contoso.com",
    displayName: "Amelia Ross",
  },
  stream: { name: "Microsoft Entra ID" },
};

const ip = {
  "@odata.type": "#microsoft.graph.security.ipEvidence",
  createdDateTime: CREATED,
  verdict: "suspicious",
  remediationStatus: "none",
  roles: ["attacker"],
  ipAddress: "198.51.100.23",
  countryLetterCode: "NL",
  location: { city: "Amsterdam", countryName: "Netherlands", latitude: 52.37, longitude: 4.89, state: "North Holland" },
  stream: null,
};

const url = {
  "@odata.type": "#microsoft.graph.security.urlEvidence",
  createdDateTime: CREATED,
  verdict: "malicious",
  remediationStatus: "blocked",
  roles: [],
  url: "https://login-microsoftonline.example-phish.net/common/oauth2",
};

const file = {
  "@odata.type": "#microsoft.graph.security.fileEvidence",
  createdDateTime: CREATED,
  verdict: "malicious",
  remediationStatus: "prevented",
  roles: [],
  detectionStatus: "Detected",
  mdeDeviceId: "73e7e2de709dff64ef64b1d0c30e67fab63279db",
  fileDetails: {
    fileName: "invoice_0421.exe",
    filePath: "C:\\Users\\amelia.ross\\Downloads",
    filePublisher: null,
    fileSize: 734208,
    issuer: null,
    signer: null,
    md5: "5d41402abc4b2a76b9719d911017c592",
    sha1: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
    sha256: "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
    sha256Ac: null,
  },
};

const proc = {
  "@odata.type": "#microsoft.graph.security.processEvidence",
  createdDateTime: CREATED,
  verdict: "suspicious",
  remediationStatus: "none",
  roles: [],
  detailedRoles: ["Referred in command line"],
  processId: 8124,
  parentProcessId: 5312,
  processCommandLine: "powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
  processCreationDateTime: "2026-02-25T16:21:07.4Z",
  parentProcessCreationDateTime: "2026-02-25T09:02:11Z",
  detectionStatus: "detected",
  mdeDeviceId: "73e7e2de709dff64ef64b1d0c30e67fab63279db",
  imageFile: {
    fileName: "powershell.exe",
    filePath: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
    fileSize: 450560,
    sha1: "6cbce4a295c163791b60fc23d285e6d84f28ee4c",
    sha256: "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c",
  },
  parentProcessImageFile: { fileName: "explorer.exe", filePath: "C:\\Windows" },
  userAccount: { accountName: "amelia.ross", domainName: "CONTOSO", userSid: "S-1-5-21-1-2-3-1105" },
};

const mailbox = {
  "@odata.type": "#microsoft.graph.security.mailboxEvidence",
  createdDateTime: CREATED,
  verdict: "unknown",
  remediationStatus: "none",
  roles: ["destination"],
  displayName: "Amelia Ross",
  primaryAddress: "Amelia.Ross@contoso.com",
  upn: "amelia.ross@contoso.com",
  userAccount: { accountName: "amelia.ross", userPrincipalName: "amelia.ross@contoso.com" },
};

const analyzedMessage = {
  "@odata.type": "#microsoft.graph.security.analyzedMessageEvidence",
  createdDateTime: CREATED,
  verdict: "malicious",
  remediationStatus: "remediated",
  roles: [],
  networkMessageId: "6b8b3d2c-1a4e-4b3a-08dc-35f1d2e4a9b1",
  internetMessageId: "<MW4PR11MB5776.namprd11.prod.outlook.com>",
  subject: "Overdue invoice 0421",
  senderIp: "198.51.100.23",
  recipientEmailAddress: "amelia.ross@contoso.com",
  p1Sender: { displayName: "Accounts", domainName: "example-phish.net", emailAddress: "billing@example-phish.net" },
  p2Sender: { displayName: "Accounts", domainName: "example-phish.net", emailAddress: "billing@example-phish.net" },
  receivedDateTime: "2026-02-25T16:02:44Z",
  deliveryAction: "delivered",
  deliveryLocation: "inbox",
  antiSpamDirection: "inbound",
  language: "en",
  attachmentsCount: 1,
  urlCount: 2,
  urls: ["https://login-microsoftonline.example-phish.net/common/oauth2"],
  threats: ["Phish"],
  threatDetectionMethods: ["urlDetonationReputation"],
  urn: "urn:MailEntity:2f6a1b3c",
};

const registryKey = {
  "@odata.type": "#microsoft.graph.security.registryKeyEvidence",
  createdDateTime: CREATED,
  verdict: "suspicious",
  remediationStatus: "none",
  roles: ["created"],
  registryHive: "HKEY_CURRENT_USER",
  registryKey: "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
};

const cloudApplication = {
  "@odata.type": "#microsoft.graph.security.cloudApplicationEvidence",
  createdDateTime: CREATED,
  verdict: "unknown",
  remediationStatus: "none",
  roles: [],
  appId: 20893,
  displayName: "Microsoft SharePoint Online",
  instanceId: 0,
  instanceName: "Microsoft SharePoint Online",
  saasAppId: 20892,
  stream: { name: "Microsoft Defender for Cloud Apps" },
};

describe("evidence subtypes", () => {
  it("knows all 48 v1.0 subtypes, each with the base properties", () => {
    expect(evidenceSubtypeNames).toHaveLength(48);
    expect(evidenceSubtypes.size).toBe(48);
    for (const [name, schema] of evidenceSubtypes) {
      expect(Object.keys(schema.properties)).toEqual(
        expect.arrayContaining(["createdDateTime", "roles", "verdict", "remediationStatus", "tags", "detailedRoles"]),
      );
      expect(schema.properties["@odata.type"]?.const).toBe(`#microsoft.graph.security.${name}`);
    }
  });

  it("maps between the @odata.type, qualified and short forms", () => {
    expect(evidenceShortName("#microsoft.graph.security.deviceEvidence")).toBe("deviceEvidence");
    expect(evidenceShortName("microsoft.graph.security.deviceEvidence")).toBe("deviceEvidence");
    expect(evidenceShortName("deviceEvidence")).toBe("deviceEvidence");
    expect(evidenceShortName("#microsoft.graph.security.IoTDeviceEvidence")).toBe("ioTDeviceEvidence");
    expect(evidenceShortName("#microsoft.graph.security.futureThingEvidence")).toBeUndefined();
    expect(evidenceShortName("#microsoft.graph.deviceEvidence")).toBeUndefined();
    expect(evidenceODataType("userEvidence")).toBe("#microsoft.graph.security.userEvidence");
    expect(evidenceQualifiedName("userEvidence")).toBe("microsoft.graph.security.userEvidence");
  });

  it("marks enum fields with their GraphEnum, in arrays and nested objects too", () => {
    const deviceSchema = evidenceSubtypes.get("deviceEvidence");
    expect(deviceSchema).toBeDefined();
    const props = deviceSchema?.properties ?? {};
    const roles = props.roles;
    expect(roles && KindGuard.IsArray(roles) && schemaGraphEnum(roles.items)).toBe(evidenceRole);
    expect(props.verdict && schemaGraphEnum(props.verdict)).toBe(evidenceVerdict);
    expect(props.remediationStatus && schemaGraphEnum(props.remediationStatus)).toBe(evidenceRemediationStatus);
    const health = evidencePropertyType("deviceEvidence", ["healthStatus"]);
    expect(health && schemaGraphEnum(health)).toBe(deviceHealthStatus);
    const cloudProvider = evidencePropertyType("deviceEvidence", ["vmMetadata", "cloudProvider"]);
    expect(cloudProvider && schemaGraphEnum(cloudProvider)?.name).toBe("vmCloudProvider");
  });
});

describe("normalizeEvidence: realistic samples of each subtype", () => {
  it("device with loggedOnUsers and vmMetadata: enums to camelCase, everything else kept", () => {
    const v = ok(device);
    expect(v).toEqual({
      ...device,
      verdict: "suspicious",
      remediationStatus: "none",
      healthStatus: "active",
      riskScore: "high",
      vmMetadata: { ...device.vmMetadata, cloudProvider: "azure" },
    });
  });

  it("user with userAccount and stream", () => {
    expect(ok(user)).toEqual(user);
  });

  it("ip with a geo location", () => {
    const v = ok(ip);
    expect(v.location).toEqual({
      city: "Amsterdam",
      countryName: "Netherlands",
      latitude: 52.37,
      longitude: 4.89,
      state: "North Holland",
    });
    expect(v.stream).toBeNull();
  });

  it("url", () => {
    expect(ok(url)).toEqual(url);
  });

  it("file with fileDetails (hash case kept as given)", () => {
    const v = ok(file);
    expect(v.detectionStatus).toBe("detected");
    expect(v.fileDetails).toEqual(file.fileDetails);
  });

  it("process with imageFile and userAccount", () => {
    expect(ok(proc)).toEqual(proc);
  });

  it("mailbox", () => {
    expect(ok(mailbox)).toEqual(mailbox);
  });

  it("analyzedMessage with p1Sender", () => {
    const v = ok(analyzedMessage);
    expect(v.p1Sender).toEqual({
      displayName: "Accounts",
      domainName: "example-phish.net",
      emailAddress: "billing@example-phish.net",
    });
    expect(v).toEqual(analyzedMessage);
  });

  it("registryKey", () => {
    expect(ok(registryKey)).toEqual(registryKey);
  });

  it("cloudApplication with Int64 ids", () => {
    expect(ok(cloudApplication)).toEqual(cloudApplication);
  });

  it("networkConnection with nested ipEvidence and protocol", () => {
    const v = ok({
      "@odata.type": "#microsoft.graph.security.networkConnectionEvidence",
      sourceAddress: { "@odata.type": "microsoft.graph.security.ipEvidence", ipAddress: "10.20.4.17", roles: ["Source"] },
      destinationAddress: { ipAddress: "198.51.100.23", verdict: "Malicious" },
      sourcePort: 49731,
      destinationPort: 443,
      protocol: "TCP",
    });
    expect(v.protocol).toBe("tcp");
    expect(v.sourceAddress).toMatchObject({ ipAddress: "10.20.4.17", roles: ["source"] });
    expect(v.destinationAddress).toMatchObject({ ipAddress: "198.51.100.23", verdict: "malicious" });
  });

  it("keeps an unknown subtype entirely as given", () => {
    const future = {
      "@odata.type": "#microsoft.graph.security.futureThingEvidence",
      verdict: "SomethingNew",
      osBuild: "not a number",
      nested: { anything: [1, 2, 3] },
    };
    const r = normalizeEvidence(future, "evidence[0]");
    expect(r).toEqual({ value: future });
  });

  it("kubernetesPod with nested containers, each naming its image and pod: nested evidence is checked as its subtype", () => {
    const v = ok({
      "@odata.type": "#microsoft.graph.security.kubernetesPodEvidence",
      verdict: "MALICIOUS",
      name: "coinminer-7d9f",
      labels: { app: "miner" },
      podIp: { ipAddress: "10.244.1.7" },
      containers: [
        {
          name: "miner",
          isPrivileged: true,
          image: { imageId: "xmrig:6.21", registry: { registry: "docker.io" } },
          pod: { name: "coinminer-7d9f", namespace: { name: "default", cluster: { platform: "AKS", cloudResource: { verdict: "Suspicious" } } } },
        },
      ],
    });
    expect(v).toMatchObject({ verdict: "malicious", name: "coinminer-7d9f", labels: { app: "miner" }, podIp: { ipAddress: "10.244.1.7", roles: [] } });
    const container = (v.containers as Record<string, any>[])[0]!;
    expect(container).toMatchObject({ isPrivileged: true, verdict: "unknown", image: { registry: { registry: "docker.io" } } });
    expect(container.pod.namespace.cluster).toMatchObject({ platform: "aks", cloudResource: { verdict: "suspicious" } });
    // A wrong value deep inside names its path.
    expect(
      err({ "@odata.type": "#microsoft.graph.security.kubernetesPodEvidence", containers: [{ pod: { namespace: { cluster: { platform: "openshift" } } } }] }),
    ).toMatch(/^evidence\[0\]\.containers\[0\]\.pod\.namespace\.cluster\.platform has unknown kubernetesPlatform value 'openshift'/);
    expect(err({ "@odata.type": "#microsoft.graph.security.kubernetesPodEvidence", labels: ["app"] })).toMatch(/labels must be an object/);
  });

  it("fills the non-nullable properties of the other subtypes (isPrivileged, serviceType, ports, trustedDomains)", () => {
    expect(ok({ "@odata.type": "#microsoft.graph.security.containerEvidence", name: "web" }).isPrivileged).toBe(false);
    const service = ok({ "@odata.type": "#microsoft.graph.security.kubernetesServiceEvidence", servicePorts: [{ name: "https", protocol: "TCP" }] });
    expect(service).toMatchObject({ serviceType: "unknown", servicePorts: [{ name: "https", protocol: "tcp", port: 0, nodePort: 0 }] });
    expect(ok({ "@odata.type": "#microsoft.graph.security.activeDirectoryDomainEvidence" }).trustedDomains).toEqual([]);
  });

  it("a nested value whose @odata.type names another subtype is checked as that one", () => {
    const cluster = ok({
      "@odata.type": "#microsoft.graph.security.kubernetesClusterEvidence",
      cloudResource: { "@odata.type": "#microsoft.graph.security.amazonResourceEvidence", amazonAccountId: "123456789012" },
    });
    expect(cluster.cloudResource).toMatchObject({ amazonAccountId: "123456789012", verdict: "unknown" });
    expect(
      err({
        "@odata.type": "#microsoft.graph.security.kubernetesClusterEvidence",
        cloudResource: { "@odata.type": "#microsoft.graph.security.ipEvidence", ipAddress: 7 },
      }),
    ).toMatch(/cloudResource\.ipAddress must be a string/);
  });

  it("teamsMessage with its enums, GUID and nested urls and files", () => {
    const v = ok({
      "@odata.type": "#microsoft.graph.security.teamsMessageEvidence",
      deliveryAction: "DeliveredAsSpam",
      deliveryLocation: "quarantine",
      messageDirection: "Inbound",
      owningTenantId: "2b6b3a1e-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
      urls: [{ url: "https://phish.example/login" }],
      files: [{ fileDetails: { fileName: "invoice.html" } }],
    });
    expect(v).toMatchObject({ deliveryAction: "deliveredAsSpam", messageDirection: "inbound", urls: [{ url: "https://phish.example/login" }] });
    expect(err({ "@odata.type": "#microsoft.graph.security.teamsMessageEvidence", owningTenantId: "nope" })).toMatch(/owningTenantId must be a GUID/);
  });

  it("every subtype's own properties are those Graph's v1.0 metadata declares (the schema is the one source)", () => {
    const base = ["@odata.type", "createdDateTime", "detailedRoles", "remediationStatus", "remediationStatusDetails", "roles", "tags", "verdict"];
    for (const [name, schema] of evidenceSubtypes) {
      const own = Object.keys(schema.properties).filter((k) => !base.includes(k));
      expect(own.length, name).toBeGreaterThan(0);
    }
    expect(
      evidencePropertyType("containerEvidence", ["pod", "namespace", "cluster", "platform"]) &&
        schemaGraphEnum(evidencePropertyType("containerEvidence", ["pod", "namespace", "cluster", "platform"])!)?.name,
    ).toBe("kubernetesPlatform");
  });
});

describe("normalizeEvidence: @odata.type, defaults and unknown properties", () => {
  it("stores @odata.type canonically with the leading # and namespace", () => {
    expect(ok({ "@odata.type": "microsoft.graph.security.urlEvidence", url: "https://a.example" })["@odata.type"]).toBe(
      "#microsoft.graph.security.urlEvidence",
    );
    expect(ok({ "@odata.type": "microsoft.graph.security.futureThingEvidence" })["@odata.type"]).toBe("#microsoft.graph.security.futureThingEvidence");
  });

  it("fills the non-nullable base fields when absent, createdDateTime from the caller", () => {
    const v = ok({ "@odata.type": "#microsoft.graph.security.urlEvidence", url: "https://a.example" });
    expect(v).toEqual({
      "@odata.type": "#microsoft.graph.security.urlEvidence",
      url: "https://a.example",
      createdDateTime: CREATED,
      roles: [],
      verdict: "unknown",
      remediationStatus: "none",
    });
  });

  it("treats null in a non-nullable defaulted field like absence", () => {
    const v = ok({ "@odata.type": "#microsoft.graph.security.ipEvidence", roles: null, verdict: null });
    expect(v.roles).toEqual([]);
    expect(v.verdict).toBe("unknown");
  });

  it("leaves createdDateTime absent when the caller gives no default, and keeps a given one", () => {
    const noDefault = normalizeEvidence({ "@odata.type": "#microsoft.graph.security.ipEvidence" }, "evidence[0]");
    expect("value" in noDefault && "createdDateTime" in noDefault.value).toBe(false);
    expect(ok({ ...ip, createdDateTime: "2021-04-26T07:45:50.116Z" }).createdDateTime).toBe("2021-04-26T07:45:50.116Z");
  });

  it("fills the non-nullable cloudProvider of vmMetadata and algorithm of fileHashEvidence", () => {
    expect(ok({ ...device, vmMetadata: { vmId: "x" } }).vmMetadata).toEqual({ vmId: "x", cloudProvider: "unknown" });
    expect(ok({ "@odata.type": "#microsoft.graph.security.fileHashEvidence", value: "ab" })).toMatchObject({
      algorithm: "unknown",
      value: "ab",
    });
  });

  it("keeps unknown extra properties, top-level and nested, as given", () => {
    const v = ok({ ...user, newTopLevel: { x: 1 }, userAccount: { ...user.userAccount, futureField: [true] } });
    expect(v.newTopLevel).toEqual({ x: 1 });
    expect(v.userAccount).toMatchObject({ futureField: [true] });
  });

  it("does not mutate its input", () => {
    const input = structuredClone(device);
    ok(input);
    expect(input).toEqual(device);
  });
});

describe("normalizeEvidence: enum values", () => {
  it("accepts any casing and answers with the camelCase member", () => {
    const v = ok({
      "@odata.type": "#microsoft.graph.security.deviceEvidence",
      verdict: "NOTHREATSFOUND",
      remediationStatus: "PartiallyRemediated",
      roles: ["Attacker", "commandandcontrol"],
      defenderAvStatus: "NotSupported",
    });
    expect(v).toMatchObject({
      verdict: "noThreatsFound",
      remediationStatus: "partiallyRemediated",
      roles: ["attacker", "commandAndControl"],
      defenderAvStatus: "notSupported",
    });
  });

  it("rejects an unknown value, naming the path, the value and the allowed members", () => {
    const e = err({ ...device, riskScore: "critical" }, "evidence[3]");
    expect(e).toContain("evidence[3].riskScore");
    expect(e).toContain("'critical'");
    expect(e).toContain("none, informational, low, medium, high, unknownFutureValue");
  });

  it("names the array index of a bad role", () => {
    expect(err({ ...user, roles: ["attacker", "villain"] })).toMatch(/^evidence\[0\]\.roles\[1\] .*'villain'/);
  });

  it("names the nested path of a bad enum inside an object", () => {
    expect(err({ ...device, vmMetadata: { cloudProvider: "gcp" } })).toMatch(/^evidence\[0\]\.vmMetadata\.cloudProvider /);
  });
});

describe("normalizeEvidence: type errors name the JSON path", () => {
  it.each([
    ["evidence[2].osBuild must be an integer", { ...device, osBuild: "22631" }],
    ["evidence[2].osBuild must be an integer", { ...device, osBuild: 22631.5 }],
    ["evidence[2].rbacGroupId must be an integer between", { ...device, rbacGroupId: 2 ** 40 }],
    ["evidence[2].deviceDnsName must be a string", { ...device, deviceDnsName: 42 }],
    ["evidence[2].ipInterfaces must be an array", { ...device, ipInterfaces: "10.0.0.1" }],
    ["evidence[2].ipInterfaces[1] must be a string", { ...device, ipInterfaces: ["10.0.0.1", 7] }],
    ["evidence[2].loggedOnUsers[0].accountName must be a string", { ...device, loggedOnUsers: [{ accountName: ["x"] }] }],
    ["evidence[2].vmMetadata must be an object", { ...device, vmMetadata: "azure" }],
    ["evidence[2].firstSeenDateTime must be an ISO 8601 date-time", { ...device, firstSeenDateTime: "yesterday" }],
    ["evidence[2].location.latitude must be a number", { ...ip, location: { latitude: "52.37" } }],
    ["evidence[2].imageFile.fileSize must be an integer", { ...proc, imageFile: { fileSize: "big" } }],
    ["evidence[2].userAccount.activeDirectoryObjectGuid must be a GUID", { ...user, userAccount: { activeDirectoryObjectGuid: "not-a-guid" } }],
    ["evidence[2].roles must be an array", { ...user, roles: "attacker" }],
  ])("%s", (message, input) => {
    expect(err(input, "evidence[2]")).toContain(message);
  });

  it("accepts null for nullable properties", () => {
    const v = ok({ ...device, osBuild: null, vmMetadata: null, loggedOnUsers: null, healthStatus: null });
    expect(v).toMatchObject({ osBuild: null, vmMetadata: null, loggedOnUsers: null, healthStatus: null });
  });

  it("rejects a non-object element and a missing or non-string @odata.type", () => {
    expect(err("deviceEvidence", "evidence[1]")).toBe("evidence[1] must be an object");
    expect(err(null, "evidence[1]")).toBe("evidence[1] must be an object");
    expect(err([device], "evidence[1]")).toBe("evidence[1] must be an object");
    expect(err({ mdeDeviceId: "abc" }, "evidence[1]")).toBe('evidence[1]["@odata.type"] is required');
    expect(err({ "@odata.type": 7 }, "evidence[1]")).toContain('evidence[1]["@odata.type"] must be');
  });
});

describe("renderEvidence: gated enum members", () => {
  const active = ok({ ...file, remediationStatus: "active" });

  it("shows remediationStatus 'active' as unknownFutureValue to a client that did not opt in", () => {
    const seen = renderEvidence(active, false);
    expect(seen.remediationStatus).toBe("unknownFutureValue");
    expect(seen.fileDetails).toBe(active.fileDetails);
  });

  it("shows the real member to a client that sent Prefer: include-unknown-enum-members", () => {
    expect(renderEvidence(active, true).remediationStatus).toBe("active");
  });

  it("does not mutate the stored element", () => {
    renderEvidence(active, false);
    expect(active.remediationStatus).toBe("active");
  });

  it("returns the same object when nothing is gated", () => {
    const plain = ok(file);
    expect(renderEvidence(plain, false)).toBe(plain);
    expect(renderEvidence(active, true)).toBe(active);
  });

  it("collapses gated members inside nested evidence too", () => {
    const conn = ok({
      "@odata.type": "#microsoft.graph.security.networkConnectionEvidence",
      remediationStatus: "none",
      destinationAddress: { ipAddress: "198.51.100.23", remediationStatus: "pendingApproval" },
    });
    const seen = renderEvidence(conn, false);
    expect(seen.destinationAddress).toMatchObject({ remediationStatus: "unknownFutureValue", ipAddress: "198.51.100.23" });
    expect(conn.destinationAddress).toMatchObject({ remediationStatus: "pendingApproval" });
  });

  it("leaves unknown subtypes untouched", () => {
    const future = { "@odata.type": "#microsoft.graph.security.futureThingEvidence", remediationStatus: "active" };
    expect(renderEvidence(future, false)).toBe(future);
  });
});

describe("evidencePropertyType", () => {
  it("resolves nested string properties for $filter lambdas", () => {
    const upn = evidencePropertyType("userEvidence", ["userAccount", "userPrincipalName"]);
    expect(upn && KindGuard.IsString(upn)).toBe(true);
  });

  it("resolves Int64 properties as integers", () => {
    const osBuild = evidencePropertyType("deviceEvidence", ["osBuild"]);
    expect(osBuild && KindGuard.IsInteger(osBuild)).toBe(true);
  });

  it("accepts the qualified type-cast form used in $filter", () => {
    const dns = evidencePropertyType("microsoft.graph.security.deviceEvidence", ["deviceDnsName"]);
    expect(dns && KindGuard.IsString(dns)).toBe(true);
  });

  it("resolves base properties on every subtype, and date-times as formatted strings", () => {
    const created = evidencePropertyType("kubernetesPodEvidence", ["createdDateTime"]);
    expect(created?.format).toBe("date-time");
    const verdict = evidencePropertyType("ipEvidence", ["verdict"]);
    expect(verdict && schemaGraphEnum(verdict)).toBe(evidenceVerdict);
  });

  it("resolves a collection to its array schema", () => {
    const users = evidencePropertyType("deviceEvidence", ["loggedOnUsers"]);
    expect(users && KindGuard.IsArray(users)).toBe(true);
  });

  it("is undefined for unknown subtypes, unknown properties and paths through scalars or arrays", () => {
    expect(evidencePropertyType("futureThingEvidence", ["x"])).toBeUndefined();
    expect(evidencePropertyType("deviceEvidence", ["noSuchProperty"])).toBeUndefined();
    expect(evidencePropertyType("deviceEvidence", ["osBuild", "x"])).toBeUndefined();
    expect(evidencePropertyType("deviceEvidence", ["loggedOnUsers", "accountName"])).toBeUndefined();
    expect(evidencePropertyType("deviceEvidence", ["toString"])).toBeUndefined();
  });
});
