/** KQL scalar types a hunting column or expression can have. */
export type KqlType = "string" | "long" | "int" | "real" | "bool" | "datetime" | "timespan" | "dynamic";

export interface HuntingColumn {
  name: string;
  type: KqlType;
}

export type HuntingTable = "AlertInfo" | "AlertEvidence";

/**
 * The advanced-hunting tables Triage serves, with exactly the columns and types of Defender's
 * AlertInfo and AlertEvidence (learn.microsoft.com/defender-xdr/advanced-hunting-alertinfo-table and
 * …-alertevidence-table), in their documented order. Triage derives both from the stored alerts and
 * their evidence; `AlertId` (the alert's id in alerts_v2) joins them.
 */
export interface HuntingTableInfo {
  name: HuntingTable;
  description: string;
  columns: (HuntingColumn & { description: string })[];
}

const col = (name: string, type: KqlType, description: string) => ({ name, type, description });

export const HUNTING_TABLES: readonly HuntingTableInfo[] = [
  {
    name: "AlertInfo",
    description: "Alerts in the tenant: one row per alert, with its title, category, severity and sources.",
    columns: [
      col("Timestamp", "datetime", "When the alert was created"),
      col("AlertId", "string", "The alert's id, as in /security/alerts_v2"),
      col("Title", "string", "The alert's title"),
      col("Category", "string", "The alert's category (kill-chain stage)"),
      col("Severity", "string", "Informational, Low, Medium or High"),
      col("ServiceSource", "string", "The product that raised the alert (Graph serviceSource member)"),
      col("DetectionSource", "string", "The detection technology (Graph detectionSource member)"),
      col("AttackTechniques", "string", "MITRE ATT&CK techniques, as a JSON array text"),
    ],
  },
  {
    name: "AlertEvidence",
    description: "Entities tied to alerts (files, processes, IP addresses, URLs, users, devices, mailboxes, …): one row per evidence item.",
    columns: [
      col("Timestamp", "datetime", "When the alert was created"),
      col("AlertId", "string", "The alert's id, as in /security/alerts_v2"),
      col("Title", "string", "The alert's title"),
      col("Categories", "string", "The alert's categories, as a JSON array text"),
      col("AttackTechniques", "string", "MITRE ATT&CK techniques, as a JSON array text"),
      col("ServiceSource", "string", "The product that raised the alert"),
      col("DetectionSource", "string", "The detection technology"),
      col("EntityType", "string", "File, Process, User, Ip, Url, Machine, Mailbox, MailMessage, …"),
      col("EvidenceRole", "string", "Impacted or Related"),
      col("EvidenceDirection", "string", "Source or Destination for network evidence, otherwise empty"),
      col("FileName", "string", "File name (file and process evidence)"),
      col("FolderPath", "string", "Folder of the file"),
      col("SHA1", "string", "SHA-1 of the file"),
      col("SHA256", "string", "SHA-256 of the file"),
      col("FileSize", "long", "Size of the file in bytes"),
      col("ThreatFamily", "string", "The alert's threat family, on file evidence"),
      col("RemoteIP", "string", "IP address (IP evidence)"),
      col("RemoteUrl", "string", "URL (URL evidence)"),
      col("AccountName", "string", "Account name"),
      col("AccountDomain", "string", "Account domain"),
      col("AccountSid", "string", "Account security identifier"),
      col("AccountObjectId", "string", "Microsoft Entra object id of the account"),
      col("AccountUpn", "string", "User principal name of the account"),
      col("DeviceId", "string", "Defender for Endpoint device id"),
      col("DeviceName", "string", "Fully qualified device name"),
      col("LocalIP", "string", "The device's last IP address"),
      col("NetworkMessageId", "string", "Email network message id"),
      col("EmailSubject", "string", "Email subject"),
      col("Application", "string", "Cloud or OAuth application name"),
      col("ApplicationId", "int", "Cloud application id"),
      col("OAuthApplicationId", "string", "OAuth application id"),
      col("ProcessCommandLine", "string", "Process command line"),
      col("RegistryKey", "string", "Registry key"),
      col("RegistryValueName", "string", "Registry value name"),
      col("RegistryValueData", "string", "Registry value data"),
      col("AdditionalFields", "string", "The evidence item as Graph serves it, as JSON text"),
      col("Severity", "string", "The alert's severity"),
      col("CloudResource", "string", "Cloud resource name"),
      col("CloudPlatform", "string", "Cloud platform of the resource"),
      col("ResourceType", "string", "Cloud resource type"),
      col("ResourceID", "string", "Cloud resource id"),
      col("SubscriptionId", "string", "Cloud subscription id"),
    ],
  },
];

export function huntingTable(name: string): HuntingTableInfo | undefined {
  return HUNTING_TABLES.find((t) => t.name === name);
}
