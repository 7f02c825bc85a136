/**
 * The Microsoft Graph PowerShell (Microsoft.Graph.Security module) cmdlet for each catalog operation,
 * per API version, as mapped in the contract (graph-security-contract.md §11). `null` means the
 * contract names no dedicated cmdlet for that version (send the request with `Invoke-MgGraphRequest`
 * instead); `note` applies to both versions, `betaNote` to beta only.
 */
export interface CmdletEntry {
  "v1.0": string | null;
  beta: string | null;
  note?: string;
  betaNote?: string;
}

const NO_BETA = "The contract maps no beta cmdlet for this method.";

export const CMDLETS: Record<string, CmdletEntry> = {
  "GET /security/incidents": { "v1.0": "Get-MgSecurityIncident", beta: "Get-MgBetaSecurityIncident" },
  "GET /security/incidents/{id}": { "v1.0": "Get-MgSecurityIncident", beta: "Get-MgBetaSecurityIncident", note: "With -IncidentId." },
  "PATCH /security/incidents/{id}": { "v1.0": "Update-MgSecurityIncident", beta: "Update-MgBetaSecurityIncident" },
  "POST /security/incidents/{id}/comments": {
    "v1.0": null,
    beta: null,
    note: "No dedicated cmdlet: the docs page has only HTTP and JavaScript tabs, and New-MgSecurityIncidentComment appears only in third-party scripts (Set-MgSecurityIncidentAlertComment is for the nested incident→alert path).",
  },
  "GET /security/incidents/{id}/alerts": { "v1.0": "Get-MgSecurityIncidentAlert", beta: null, betaNote: NO_BETA },
  "GET /security/incidents/$count": { "v1.0": "Get-MgSecurityIncidentCount", beta: null, betaNote: NO_BETA },
  "POST /security/incidents/mergeIncidents": { "v1.0": "Merge-MgSecurityIncident", beta: "Merge-MgBetaSecurityIncident", note: "Addendum §1.8." },
  "POST /security/alerts_v2/moveAlerts": { "v1.0": "Move-MgSecurityAlert", beta: "Move-MgBetaSecurityAlert", note: "Addendum §2.8." },
  "POST /security/runHuntingQuery": { "v1.0": "Start-MgSecurityHuntingQuery", beta: "Start-MgBetaSecurityHuntingQuery", note: "Addendum §3.1." },
  "GET /security/getRunHuntingQuery": { "v1.0": null, beta: "Get-MgBetaSecurityRunHuntingQuery", note: "Addendum §3.2; a beta function." },
  "GET /security/getHuntingSchema": {
    "v1.0": null,
    beta: null,
    note: "A beta function; the addendum names no cmdlet for it (send the request with Invoke-MgGraphRequest).",
  },
  "GET /security/alerts_v2": {
    "v1.0": "Get-MgSecurityAlertV2",
    beta: "Get-MgBetaSecurityAlertV2",
    betaNote: "The beta name is inferred from the module's naming.",
  },
  "GET /security/alerts_v2/{id}": {
    "v1.0": "Get-MgSecurityAlertV2",
    beta: "Get-MgBetaSecurityAlertV2",
    note: "With -AlertId.",
    betaNote: "The beta name is inferred from the module's naming.",
  },
  "GET /security/alerts_v2/$count": { "v1.0": "Get-MgSecurityAlertV2Count", beta: null, betaNote: NO_BETA },
  "PATCH /security/alerts_v2/{id}": { "v1.0": "Update-MgSecurityAlertV2", beta: null, betaNote: NO_BETA },
  "POST /security/alerts_v2/{id}/comments": {
    "v1.0": "Set-MgSecurityAlert",
    beta: null,
    note: 'The docs snippet uses Set-MgSecurityAlert -AlertId … -BodyParameter @{"@odata.type"=…; comment=…}; its own help describes it as setting the alertComment collection (generated as a PUT).',
    betaNote: NO_BETA,
  },
  "POST /security/alerts_v2": {
    "v1.0": null,
    beta: null,
    note: "No documented cmdlet for creating a manual alert; New-MgSecurityAlertV2 is an SDK generation artifact, not this service feature.",
  },
  "POST /security/alerts_v2/createAlert": { "v1.0": null, beta: null, note: "Not mapped in the contract." },
  "GET /security/alerts": { "v1.0": null, beta: null, note: "Legacy alerts API: not mapped in the contract." },
  "GET /security/alerts/{id}": { "v1.0": null, beta: null, note: "Legacy alerts API: not mapped in the contract." },
  "PATCH /security/alerts/{id}": { "v1.0": null, beta: null, note: "Legacy alerts API: not mapped in the contract." },
  "POST /security/alerts/updatealerts": { "v1.0": null, beta: null, note: "Legacy alerts API: not mapped in the contract." },
};
