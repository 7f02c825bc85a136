/**
 * A Jest test against the Triage that global-setup.mjs started: a token by the client credentials grant,
 * an alert ingested, the incident it opened listed through the Graph security API.
 */
const { readFileSync } = require("node:fs");
const https = require("node:https");

const triage = JSON.parse(process.env.TRIAGE_INFO);
// Triage's certificate comes from its own CA: trust it for these requests only.
const ca = readFileSync(triage.caFile, "utf8");

function send(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function token(app) {
  const { clientId, clientSecret } = triage.apps[app];
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret, scope: triage.scope });
  const res = await send("POST", triage.tokenUrl, { headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const json = (tok) => ({ authorization: `Bearer ${tok}`, "content-type": "application/json" });

test("an ingested alert opens an incident that the read app lists", async () => {
  const alert = {
    id: "jest-1",
    title: "Suspicious sign-in from a new country",
    severity: "medium",
    serviceSource: "microsoftDefenderForIdentity",
    detectionSource: "microsoftDefenderForIdentity",
    firstActivityDateTime: "2026-10-31T09:00:00Z",
    lastActivityDateTime: "2026-10-31T09:05:00Z",
    evidence: [],
  };
  const ingested = await send("POST", `${triage.url}/ingest/alerts`, { headers: json(await token("readWrite")), body: JSON.stringify({ value: [alert] }) });
  expect(ingested.status).toBe(200);
  const { incidentId } = ingested.body.value[0];

  const listed = await send("GET", `${triage.graphUrl}/security/incidents/${incidentId}?$expand=alerts`, { headers: json(await token("read")) });
  expect(listed.status).toBe(200);
  expect(listed.body.alerts.map((a) => a.id)).toEqual(["jest-1"]);
});

test("the read app may not resolve an incident", async () => {
  const res = await send("PATCH", `${triage.graphUrl}/security/incidents/1`, {
    headers: json(await token("read")),
    body: JSON.stringify({ status: "resolved" }),
  });
  expect(res.status).toBe(403);
});
