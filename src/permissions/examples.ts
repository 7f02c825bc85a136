import { CMDLETS } from "./cmdlets.js";
import type { GraphScheme } from "./graph-data.js";

/**
 * What a permission page shows beside the data: code examples for a call it grants, the PowerShell
 * commands, and the app-registration steps. Pure functions of the method, the path and the permission;
 * the examples send the request as written (a placeholder such as {id} is for the reader to fill in),
 * so they stay correct for any path without knowing each SDK's generated names.
 */

export interface CodeExample {
  language: "http" | "javascript" | "typescript" | "powershell" | "python" | "csharp";
  /** The library the example uses. */
  label: string;
  code: string;
}

const GRAPH_ROOT = "https://graph.microsoft.com";
const WRITES = new Set(["POST", "PATCH", "PUT"]);

function url(version: string, path: string): string {
  return `${GRAPH_ROOT}/${version}${path}`;
}

export function codeExamples(method: string, path: string, version: "v1.0" | "beta" = "v1.0"): CodeExample[] {
  const m = method.toUpperCase();
  const lower = m.toLowerCase();
  const write = WRITES.has(m);
  const full = url(version, path);
  const jsCall = m === "DELETE" ? "delete()" : write ? `${lower}(body)` : "get()";
  const psBody = write ? ' -Body $body -ContentType "application/json"' : "";
  return [
    { language: "http", label: "HTTP", code: `${m} ${full}${write ? "\nContent-Type: application/json\n\n{ }" : ""}` },
    {
      language: "javascript",
      label: "JavaScript (@microsoft/microsoft-graph-client)",
      code:
        `// client = Client.initWithMiddleware({ authProvider }) from @microsoft/microsoft-graph-client\n` +
        (write ? "const body = { /* the request body */ };\n" : "") +
        `const result = await client.api("${path}")${version === "beta" ? '.version("beta")' : ""}.${jsCall};`,
    },
    {
      language: "typescript",
      label: "TypeScript (@microsoft/msgraph-sdk, kiota)",
      code:
        `import { HttpMethod, RequestInformation } from "@microsoft/kiota-abstractions";\n` +
        `// requestAdapter: the GraphRequestAdapter that createGraphServiceClient(requestAdapter) was given\n` +
        `const request = new RequestInformation(HttpMethod.${m});\n` +
        `request.URL = "${full}";\n` +
        `request.headers.tryAdd("Accept", "application/json");\n` +
        (write ? `request.setContentFromScalar(requestAdapter, "application/json", JSON.stringify({ /* the request body */ }));\n` : "") +
        `const response = await requestAdapter.sendPrimitive<ArrayBuffer>(request, "ArrayBuffer", undefined);`,
    },
    {
      language: "powershell",
      label: "PowerShell (Microsoft.Graph)",
      code: (write ? "$body = @{ } | ConvertTo-Json\n" : "") + `Invoke-MgGraphRequest -Method ${m} -Uri "${full}"${psBody}`,
    },
    {
      language: "python",
      label: "Python (requests)",
      code:
        `import requests\n\n` +
        `# token: an access token for https://graph.microsoft.com (for example from azure-identity or MSAL)\n` +
        `response = requests.request(\n    "${m}",\n    "${full}",\n    headers={"Authorization": f"Bearer {token}"},\n` +
        (write ? `    json={},  # the request body\n` : "") +
        `)\nresponse.raise_for_status()`,
    },
    {
      language: "csharp",
      label: "C# (HttpClient)",
      code:
        `// http: an HttpClient whose DefaultRequestHeaders.Authorization holds a Graph access token\n` +
        `using var request = new HttpRequestMessage(new HttpMethod("${m}"), "${full}");\n` +
        (write ? `request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");\n` : "") +
        `using var response = await http.SendAsync(request);\nresponse.EnsureSuccessStatusCode();`,
    },
  ];
}

export interface PowerShellCommand {
  /** What the command is for. */
  purpose: string;
  command: string;
}

/** Connect with the permission, and the Microsoft Graph PowerShell cmdlets known for the calls it grants. */
export function powerShellCommands(name: string, schemes: readonly GraphScheme[], calls: readonly { method: string; path: string }[]): PowerShellCommand[] {
  const out: PowerShellCommand[] = [];
  if (schemes.includes("DelegatedWork") || schemes.includes("DelegatedPersonal"))
    out.push({ purpose: "Sign in with the delegated permission", command: `Connect-MgGraph -Scopes "${name}"` });
  if (schemes.includes("Application"))
    out.push({
      purpose: "Sign in as an app holding the application permission",
      command: 'Connect-MgGraph -ClientId "<app id>" -TenantId "<tenant id>" -CertificateThumbprint "<thumbprint>"',
    });
  const seen = new Set<string>();
  for (const c of calls) {
    const entry = CMDLETS[`${c.method} ${c.path}`];
    for (const cmdlet of [entry?.["v1.0"], entry?.beta]) {
      if (!cmdlet || seen.has(cmdlet)) continue;
      seen.add(cmdlet);
      out.push({ purpose: `${c.method} ${c.path}`, command: cmdlet });
    }
  }
  return out;
}

/** The steps to give an app registration the permission, per scheme it has. */
export function registrationSteps(name: string, scheme: GraphScheme, requiresAdminConsent: boolean): string[] {
  const kind = scheme === "Application" ? "Application permissions" : "Delegated permissions";
  const steps = [
    "Sign in to the Microsoft Entra admin center (https://entra.microsoft.com) and open Identity › Applications › App registrations.",
    "Open the app (or New registration: a name, the supported account types" +
      (scheme === "DelegatedPersonal" ? " including personal Microsoft accounts" : "") +
      ", a redirect URI for sign-in).",
    "Open API permissions › Add a permission › Microsoft Graph.",
    `Choose ${kind}, find ${name}, select it and choose Add permissions.`,
  ];
  if (requiresAdminConsent) steps.push("Choose Grant admin consent for the tenant (an administrator must do this: the permission requires admin consent).");
  else if (scheme !== "Application")
    steps.push("Users can consent themselves when they first sign in; an administrator may still grant consent for the whole tenant.");
  if (scheme === "Application")
    steps.push("Add a certificate or client secret under Certificates & secrets, and request tokens with the client-credentials flow.");
  return steps;
}
