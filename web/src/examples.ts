/** Code examples for a method, pointed at this Triage (its origin and a tenant). */

export interface ExampleTarget {
  origin: string;
  tenantId: string;
  /** "v1.0", "beta" or "triage" (Triage's own API, unversioned). */
  api: string;
  method: string;
  /** Catalog path with {id}, e.g. /security/incidents/{id}. */
  path: string;
  cmdlet: string | null;
  /** Application (client credentials) or delegated (a signed-in user). */
  scheme: "application" | "delegated";
}

export const LANGUAGES = ["JavaScript", "PowerShell", "Python", "C#", "curl"] as const;
export type Language = (typeof LANGUAGES)[number];

function concrete(path: string): string {
  return path.replace("{id}", path.includes("alerts") ? "{alert-id}" : "1");
}

function bodyFor(method: string, path: string): Record<string, unknown> | null {
  if (method === "PATCH") return { status: "inProgress", assignedTo: "analyst@contoso.com" };
  if (path.endsWith("/comments")) return { "@odata.type": "microsoft.graph.security.alertComment", comment: "Investigating." };
  if (path === "/ingest/alerts") return { value: [{ title: "Suspicious sign-in", severity: "medium", evidence: [] }] };
  if (method === "POST" && path === "/triage/admin/apps") return { displayName: "My integration", applicationPermissions: ["SecurityIncident.Read.All"] };
  if (method === "POST" && path.startsWith("/triage/admin/")) return {};
  return null;
}

function url(t: ExampleTarget): string {
  const root = t.api === "triage" ? "" : `/${t.api}`;
  const q = t.method === "GET" && /\/(incidents|alerts_v2)$/.test(t.path) ? "?$top=10" : "";
  return `${t.origin}${root}${concrete(t.path)}${q}`;
}

const indent = (s: string, n: number) =>
  s
    .split("\n")
    .map((l, i) => (i ? " ".repeat(n) + l : l))
    .join("\n");

export function example(lang: Language, t: ExampleTarget): string {
  const host = new URL(t.origin).hostname;
  const body = bodyFor(t.method, t.path);
  const json = body ? JSON.stringify(body, null, 2) : "";
  const graphPath = concrete(t.path);
  const https = t.origin.startsWith("https:");
  const tokenUrl = `${t.origin}/${t.tenantId}/oauth2/v2.0/token`;
  const delegated = t.scheme === "delegated";
  switch (lang) {
    case "curl": {
      const token = delegated
        ? `# Delegated: a signed-in user's token (authorization code with PKCE, or device code), e.g.\nTOKEN=$(curl -s${https ? " --cacert data/tls/ca.pem" : ""} ${tokenUrl} \\\n  -d grant_type=password -d client_id=$CLIENT_ID -d username=analyst@contoso.com -d "password=$PASSWORD" \\\n  -d scope=https://graph.microsoft.com/.default | jq -r .access_token)`
        : `TOKEN=$(curl -s${https ? " --cacert data/tls/ca.pem" : ""} ${tokenUrl} \\\n  -d grant_type=client_credentials -d client_id=$CLIENT_ID -d "client_secret=$CLIENT_SECRET" \\\n  -d scope=https://graph.microsoft.com/.default | jq -r .access_token)`;
      const data = body ? ` \\\n  -H 'content-type: application/json' -d '${JSON.stringify(body)}'` : "";
      return `${token}\ncurl -s${https ? " --cacert data/tls/ca.pem" : ""} -X ${t.method} -H "Authorization: Bearer $TOKEN" \\\n  '${url(t)}'${data}`;
    }
    case "JavaScript": {
      const credClass = delegated ? "DeviceCodeCredential" : "ClientSecretCredential";
      const credNew = delegated
        ? `new DeviceCodeCredential({\n  tenantId: "${t.tenantId}", clientId: process.env.CLIENT_ID,\n  authorityHost: "${t.origin}", disableInstanceDiscovery: true,\n})`
        : `new ClientSecretCredential("${t.tenantId}", process.env.CLIENT_ID, process.env.CLIENT_SECRET, {\n  authorityHost: "${t.origin}", disableInstanceDiscovery: true,\n})`;
      const run = https ? "// Run with NODE_EXTRA_CA_CERTS=data/tls/ca.pem (Triage's local CA)\n" : "";
      if (t.api === "triage") {
        return `${run}import { ${credClass} } from "@azure/identity";\n\nconst credential = ${credNew};\nconst { token } = await credential.getToken("https://graph.microsoft.com/.default");\nconst res = await fetch("${url(t)}", {\n  method: "${t.method}",\n  headers: { authorization: \`Bearer \${token}\`${body ? `, "content-type": "application/json"` : ""} },${body ? `\n  body: JSON.stringify(${indent(json, 2)}),` : ""}\n});\nconsole.log(res.status, await res.text());`;
      }
      const call = t.method === "GET" ? ".get()" : t.method === "PATCH" ? `.patch(${json})` : t.method === "DELETE" ? ".delete()" : `.post(${json})`;
      return `${run}import { ${credClass} } from "@azure/identity";\nimport { Client } from "@microsoft/microsoft-graph-client";\nimport { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";\n\nconst credential = ${credNew};\nconst client = Client.initWithMiddleware({\n  baseUrl: "${t.origin}",\n  customHosts: new Set(["${host}"]),\n  authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ["https://graph.microsoft.com/.default"] }),\n});\nconst result = await client.api("${graphPath}").version("${t.api}")${call};\nconsole.log(result);`;
    }
    case "Python": {
      const acquire = delegated
        ? `app = msal.PublicClientApplication(os.environ["CLIENT_ID"], authority=AUTHORITY, instance_discovery=False)\nflow = app.initiate_device_flow(scopes=["https://graph.microsoft.com/.default"])\nprint(flow["message"])\ntoken = app.acquire_token_by_device_flow(flow)["access_token"]`
        : `app = msal.ConfidentialClientApplication(os.environ["CLIENT_ID"], authority=AUTHORITY,\n    client_credential=os.environ["CLIENT_SECRET"], instance_discovery=False)\ntoken = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]`;
      const verify = https ? `, verify="data/tls/ca.pem"` : "";
      const data = body ? `,\n    json=${JSON.stringify(body).replace(/true/g, "True").replace(/false/g, "False").replace(/null/g, "None")}` : "";
      return `import os\nimport msal\nimport requests\n\nAUTHORITY = "${t.origin}/${t.tenantId}"\n${acquire}\n\nres = requests.request("${t.method}", "${url(t)}",\n    headers={"Authorization": f"Bearer {token}"}${data}${verify})\nres.raise_for_status()\nprint(res.json() if res.content else res.status_code)`;
    }
    case "PowerShell": {
      if (t.api !== "triage" && t.cmdlet) {
        const args = t.path.includes("{id}") ? (t.path.includes("alerts") ? " -AlertId $alertId" : " -IncidentId 1") : t.method === "GET" ? " -Top 10" : "";
        const extra = t.method === "PATCH" ? " -Status inProgress -AssignedTo analyst@contoso.com" : "";
        const connect = delegated
          ? `Connect-MgGraph -Environment Triage -TenantId ${t.tenantId} -ClientId $env:CLIENT_ID -UseDeviceCode`
          : `$secret = ConvertTo-SecureString $env:CLIENT_SECRET -AsPlainText -Force\n$cred = New-Object System.Management.Automation.PSCredential($env:CLIENT_ID, $secret)\nConnect-MgGraph -Environment Triage -TenantId ${t.tenantId} -ClientSecretCredential $cred`;
        return `# Microsoft Graph PowerShell, pointed at this Triage\nAdd-MgEnvironment -Name Triage -GraphEndpoint "${t.origin}" -AzureADEndpoint "${t.origin}"\n${connect}\n${t.cmdlet}${args}${extra}`;
      }
      const tokenCall = delegated
        ? `# Delegated: a signed-in user's token (device code or ROPC for test users)\n$token = (Invoke-RestMethod -Method Post -Uri "${tokenUrl}" -Body @{\n  grant_type = "password"; client_id = $env:CLIENT_ID; username = "analyst@contoso.com"; password = $env:PASSWORD\n  scope = "https://graph.microsoft.com/.default" }).access_token`
        : `$token = (Invoke-RestMethod -Method Post -Uri "${tokenUrl}" -Body @{\n  grant_type = "client_credentials"; client_id = $env:CLIENT_ID; client_secret = $env:CLIENT_SECRET\n  scope = "https://graph.microsoft.com/.default" }).access_token`;
      const bodyArg = body ? ` -ContentType "application/json" -Body '${JSON.stringify(body)}'` : "";
      return `${tokenCall}\nInvoke-RestMethod -Method ${t.method} -Uri '${url(t)}' -Headers @{ Authorization = "Bearer $token" }${bodyArg}`;
    }
    case "C#": {
      const cred = delegated
        ? `var credential = new DeviceCodeCredential(new DeviceCodeCredentialOptions\n{\n    TenantId = "${t.tenantId}", ClientId = clientId,\n    AuthorityHost = new Uri("${t.origin}"), DisableInstanceDiscovery = true,\n});`
        : `var credential = new ClientSecretCredential("${t.tenantId}", clientId, clientSecret,\n    new ClientSecretCredentialOptions { AuthorityHost = new Uri("${t.origin}"), DisableInstanceDiscovery = true });`;
      const sdk = sdkCall(t);
      if (t.api !== "triage" && sdk) {
        return `using Azure.Identity;\nusing Microsoft.Graph;\nusing Microsoft.Kiota.Authentication.Azure;\nusing Microsoft.Kiota.Http.HttpClientLibrary;\n\n${cred}\nvar auth = new AzureIdentityAuthenticationProvider(credential, allowedHosts: new[] { "${host}" },\n    scopes: new[] { "https://graph.microsoft.com/.default" });\nvar graph = new GraphServiceClient(new HttpClientRequestAdapter(auth) { BaseUrl = "${t.origin}/${t.api}" });\n${sdk}`;
      }
      const content = body ? `,\n    Content = new StringContent(${JSON.stringify(JSON.stringify(body))}, System.Text.Encoding.UTF8, "application/json")` : "";
      return `using System.Net.Http.Headers;\nusing Azure.Core;\nusing Azure.Identity;\n\n${cred}\nvar token = await credential.GetTokenAsync(new TokenRequestContext(new[] { "https://graph.microsoft.com/.default" }));\nusing var http = new HttpClient();\nvar request = new HttpRequestMessage(new HttpMethod("${t.method}"), "${url(t)}")\n{\n    Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token.Token) }${content}\n};\nvar response = await http.SendAsync(request);\nConsole.WriteLine(await response.Content.ReadAsStringAsync());`;
    }
  }
}

function sdkCall(t: ExampleTarget): string | null {
  const ns = t.api === "beta" ? "Microsoft.Graph.Beta.Models.Security" : "Microsoft.Graph.Models.Security";
  switch (`${t.method} ${t.path}`) {
    case "GET /security/incidents":
      return `var incidents = await graph.Security.Incidents.GetAsync(r => r.QueryParameters.Top = 10);`;
    case "GET /security/incidents/{id}":
      return `var incident = await graph.Security.Incidents["1"].GetAsync();`;
    case "PATCH /security/incidents/{id}":
      return `var updated = await graph.Security.Incidents["1"].PatchAsync(new ${ns}.Incident\n{\n    Status = ${ns}.IncidentStatus.InProgress,\n    AssignedTo = "analyst@contoso.com",\n});`;
    case "GET /security/alerts_v2":
      return `var alerts = await graph.Security.Alerts_v2.GetAsync(r => r.QueryParameters.Top = 10);`;
    case "GET /security/alerts_v2/{id}":
      return `var alert = await graph.Security.Alerts_v2[alertId].GetAsync();`;
    case "PATCH /security/alerts_v2/{id}":
      return `var updated = await graph.Security.Alerts_v2[alertId].PatchAsync(new ${ns}.Alert\n{\n    Status = ${ns}.AlertStatus.InProgress,\n});`;
    default:
      return null;
  }
}
