"""Signing in to Triage with MSAL for Python and calling the Graph security API with requests."""

import msal

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def app_token(triage, https, app="read"):
    creds = triage["apps"][app]
    client = msal.ConfidentialClientApplication(
        creds["clientId"],
        client_credential=creds["clientSecret"],
        authority=triage["authority"],
        # Triage is its own authority: no instance discovery at login.microsoftonline.com.
        instance_discovery=False,
        # A session that trusts Triage's CA (conftest.py says why not verify= alone).
        http_client=https,
    )
    result = client.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert "access_token" in result, result
    return result["access_token"]


def call(https, method, url, token, **kwargs):
    return https.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)


def test_lists_the_incidents_an_alert_opened(triage, https):
    alert = {
        "id": "pytest-1",
        "title": "Suspicious PowerShell download",
        "severity": "high",
        "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": "microsoftDefenderForEndpoint",
        "firstActivityDateTime": "2026-10-31T09:00:00Z",
        "lastActivityDateTime": "2026-10-31T09:05:00Z",
        "evidence": [],
    }
    writer = app_token(triage, https, "readWrite")
    ingested = call(https, "POST", triage["url"] + "/ingest/alerts", writer, json={"value": [alert]})
    assert ingested.status_code == 200, ingested.text
    incident_id = ingested.json()["value"][0]["incidentId"]

    reader = app_token(triage, https, "read")
    listed = call(https, "GET", triage["graphUrl"] + "/security/incidents?$expand=alerts", reader)
    assert listed.status_code == 200, listed.text
    incidents = {i["id"]: i for i in listed.json()["value"]}
    assert [a["id"] for a in incidents[incident_id]["alerts"]] == ["pytest-1"]

    # The read app may not change it.
    refused = call(https, "PATCH", triage["graphUrl"] + f"/security/incidents/{incident_id}", reader, json={"status": "resolved"})
    assert refused.status_code == 403


def test_device_code_flow(triage, https):
    client = msal.PublicClientApplication(
        triage["publicClient"]["clientId"],
        authority=triage["authority"],
        instance_discovery=False,
        http_client=https,
    )
    flow = client.initiate_device_flow(scopes=GRAPH_SCOPE)
    assert "user_code" in flow, flow

    # The user's part, done here by the test: enter the code and sign in on Triage's device login page.
    user = triage["user"]
    page = https.post(
        flow["verification_uri"],
        data={"code": flow["user_code"], "username": user["upn"], "password": user["password"]},
        timeout=30,
    )
    assert page.status_code == 200, page.text

    result = client.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user["upn"]
    listed = call(https, "GET", triage["graphUrl"] + "/security/incidents?$top=1", result["access_token"])
    assert listed.status_code == 200, listed.text
