import { randomUUID } from "node:crypto";

let counter = 0;

export interface AlertSpec {
  id?: string;
  title?: string;
  severity?: string;
  device?: string;
  user?: string;
  ip?: string;
  at?: string;
  category?: string;
  detectionSource?: string;
  serviceSource?: string;
  extra?: Record<string, unknown>;
}

/** A Graph alert with device/user/ip evidence, enough to exercise correlation. */
export function alert(spec: AlertSpec = {}): Record<string, unknown> {
  counter++;
  const at = spec.at ?? "2026-11-01T10:00:00Z";
  const evidence: Record<string, unknown>[] = [];
  if (spec.device) {
    evidence.push({
      "@odata.type": "#microsoft.graph.security.deviceEvidence",
      createdDateTime: at,
      verdict: "suspicious",
      remediationStatus: "none",
      roles: [],
      mdeDeviceId: spec.device,
      deviceDnsName: `${spec.device.slice(0, 8)}.contoso.com`,
    });
  }
  if (spec.user) {
    evidence.push({
      "@odata.type": "#microsoft.graph.security.userEvidence",
      createdDateTime: at,
      verdict: "unknown",
      remediationStatus: "none",
      roles: ["compromised"],
      userAccount: { accountName: spec.user.split("@")[0], domainName: "CONTOSO", userPrincipalName: spec.user },
    });
  }
  if (spec.ip) {
    evidence.push({
      "@odata.type": "#microsoft.graph.security.ipEvidence",
      createdDateTime: at,
      verdict: "malicious",
      remediationStatus: "none",
      roles: [],
      ipAddress: spec.ip,
    });
  }
  return {
    id: spec.id ?? `da${Date.now()}${counter}_${randomUUID().slice(0, 8)}`,
    title: spec.title ?? `Suspicious activity ${counter}`,
    severity: spec.severity ?? "medium",
    status: "new",
    category: spec.category ?? "Execution",
    categories: [spec.category ?? "Execution"],
    serviceSource: spec.serviceSource ?? "microsoftDefenderForEndpoint",
    detectionSource: spec.detectionSource ?? "microsoftDefenderForEndpoint",
    createdDateTime: at,
    firstActivityDateTime: at,
    lastActivityDateTime: at,
    evidence,
    ...spec.extra,
  };
}

/** A 40-hex MDE device id. */
export function deviceId(): string {
  return (randomUUID() + randomUUID()).replace(/-/g, "").slice(0, 40);
}
