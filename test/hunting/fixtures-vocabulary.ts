/**
 * A small tenant for the vocabulary tests: five alerts of the kinds public AlertInfo/AlertEvidence
 * queries look for (an encoded PowerShell command, a credential-theft tool, a C2 address and URL, a
 * phishing mail, ransomware on a server), at known times before now.
 */
import { alert, deviceId } from "../support/alerts.js";

const HOUR = 3600_000;
/** Alert times, whole seconds before the start of the test run. */
export const NOW = Math.floor(Date.now() / 1000) * 1000;
export const hoursAgo = (h: number) => new Date(NOW - h * HOUR).toISOString();

export const deviceA = deviceId();
export const deviceB = deviceId();

function process(a: Record<string, unknown>, commandLine: string, fileName: string, at: string) {
  (a.evidence as unknown[]).push({
    "@odata.type": "#microsoft.graph.security.processEvidence",
    createdDateTime: at,
    verdict: "suspicious",
    remediationStatus: "none",
    roles: [],
    processId: 4242,
    processCommandLine: commandLine,
    imageFile: { fileName, filePath: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0", sha1: "9".repeat(40) },
  });
  return a;
}

function file(a: Record<string, unknown>, fileName: string, sha1: string, size: number, at: string) {
  (a.evidence as unknown[]).push({
    "@odata.type": "#microsoft.graph.security.fileEvidence",
    createdDateTime: at,
    verdict: "malicious",
    remediationStatus: "none",
    roles: [],
    fileDetails: { fileName, sha1, fileSize: size, filePath: "C:\\Users\\alice\\Downloads" },
  });
  return a;
}

export const powershell = process(
  alert({
    device: deviceA,
    user: "alice@contoso.com",
    title: "Suspicious PowerShell command line",
    severity: "high",
    category: "Execution",
    at: hoursAgo(5),
    extra: { mitreTechniques: ["T1059.001", "T1105"] },
  }),
  "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA",
  "powershell.exe",
  hoursAgo(5),
);
export const mimikatz = file(
  alert({
    device: deviceA,
    user: "alice@contoso.com",
    title: "Mimikatz credential theft tool",
    severity: "high",
    category: "CredentialAccess",
    detectionSource: "antivirus",
    at: hoursAgo(3),
    extra: { mitreTechniques: ["T1003", "T1059"] },
  }),
  "mimikatz.exe",
  "2".repeat(40),
  1_250_000,
  hoursAgo(3),
);
export const c2 = alert({
  device: deviceB,
  ip: "198.51.100.23",
  title: "Communication with a command and control server",
  severity: "medium",
  category: "CommandAndControl",
  detectionSource: "antivirus",
  at: hoursAgo(50),
});
(c2.evidence as unknown[]).push({
  "@odata.type": "#microsoft.graph.security.urlEvidence",
  createdDateTime: hoursAgo(50),
  verdict: "malicious",
  remediationStatus: "none",
  roles: [],
  url: "http://evil.example.com/payload?id=42",
});
export const phish = alert({
  user: "bob@contoso.com",
  title: "Phishing email delivered",
  severity: "low",
  category: "InitialAccess",
  serviceSource: "microsoftDefenderForOffice365",
  detectionSource: "microsoftDefenderForOffice365",
  at: hoursAgo(100),
});
export const ransomware = file(
  alert({
    device: deviceB,
    title: "Ransomware behavior detected on SRV-01",
    severity: "informational",
    category: "Impact",
    at: hoursAgo(26.5),
    extra: { mitreTechniques: ["T1486"] },
  }),
  "locker.dll",
  "3".repeat(40),
  90_112,
  hoursAgo(26.5),
);

export const ALERTS = [powershell, mimikatz, c2, phish, ransomware];
