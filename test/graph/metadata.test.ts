import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import SwaggerParser from "@apidevtools/swagger-parser";
import { xml2json } from "odata-csdl";
import { csdl2openapi } from "odata-openapi";
import { ALL_PERMISSIONS, startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { compareCsdl, parseCsdl, parseGraphFixture } from "../support/csdl-compare.js";
import { buildMetadataDocument, metadataDocument } from "../../src/schema/csdl.js";
import { operations, operationTypes } from "../../src/schema/operations.js";
import { allowedMetadataDifferences, isAllowed, metadataDifferencesMarkdown } from "../../src/schema/metadata-differences.js";
import { alertResource } from "../../src/schema/alert.js";
import { incidentResource } from "../../src/schema/incident.js";
import { properties } from "../../src/schema/meta.js";
import { evidenceSubtypeNames } from "../../src/schema/evidence.js";

/** Graph's own v1.0 metadata for the security namespace (a copy of shared/reference's). */
const GRAPH_FIXTURE = new URL("./fixtures/msgraph-v1.0-security.csdl.xml", import.meta.url);

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
});
afterAll(async () => {
  await t.close();
});

describe("GET /{version}/$metadata", () => {
  it("answers the CSDL XML document without a token, with OData-Version and an ETag", async () => {
    for (const version of ["v1.0", "beta"] as const) {
      const r = await t.get(`/${version}/$metadata`, { authorization: "" });
      expect(r.status, version).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^application\/xml/);
      expect(r.headers.get("odata-version")).toBe("4.0");
      expect(r.headers.get("etag")).toMatch(/^"[\w-]+"$/);
      expect(r.headers.get("cache-control")).toContain("max-age");
      expect(r.text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<edmx:Edmx Version="4.0" xmlns:edmx="http:\/\/docs.oasis-open.org\/odata\/ns\/edmx">/);
      expect(r.text).toBe(metadataDocument(version));
    }
  });

  it("answers 304 without the document to a client that sends the ETag back", async () => {
    const first = await t.get("/v1.0/$metadata", { authorization: "" });
    const etag = first.headers.get("etag")!;
    const again = await t.get("/v1.0/$metadata", { authorization: "", "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    const other = await t.get("/v1.0/$metadata", { authorization: "", "if-none-match": '"something-else"' });
    expect(other.status).toBe(200);
    // The two versions are different documents, so their tags differ.
    const beta = await t.get("/beta/$metadata", { authorization: "" });
    expect(beta.headers.get("etag")).not.toBe(etag);
  });

  it("accepts Accept: application/xml (as OData clients send) and refuses a type it cannot serve", async () => {
    expect((await t.get("/v1.0/$metadata", { authorization: "", accept: "application/xml" })).status).toBe(200);
    expect((await t.get("/V1.0/$Metadata", { authorization: "", accept: "application/xml" })).status).toBe(200);
    expect((await t.get("/v1.0/$metadata", { authorization: "", accept: "image/png" })).status).toBe(406);
  });

  it("answers 405 with Allow to other methods", async () => {
    const r = await t.request("POST", "/v1.0/$metadata", { body: {}, headers: { authorization: "" } });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET");
    expect(r.body.error.code).toBe("MethodNotAllowed");
  });

  it("is where every answer's @odata.context points", async () => {
    const list = await t.get("/v1.0/security/incidents");
    const context: string = list.body["@odata.context"];
    expect(context).toBe(`${t.url}/v1.0/$metadata#security/incidents`);
    const doc = await fetch(context.split("#")[0]!);
    expect(doc.status).toBe(200);
  });

  it("declares the beta-only incident properties and hunting functions under /beta only", () => {
    const v1 = parseCsdl(metadataDocument("v1.0"));
    const beta = parseCsdl(metadataDocument("beta"));
    // Everything v1.0 declares, beta declares the same way, but for the members beta adds …
    expect(
      compareCsdl(v1, beta)
        .map((d) => `${d.declaration} ${d.kind} ${d.member ?? ""}`)
        .sort(),
    ).toEqual([
      "microsoft.graph.security.incident missingMember recommendedActions",
      "microsoft.graph.security.incident missingMember recommendedHuntingQueries",
      "microsoft.graph.security.runHuntingQuery(microsoft.graph.security) missingMember workspaceId",
    ]);
    // … and beta adds only these.
    expect(
      compareCsdl(beta, v1)
        .map((d) => `${d.declaration} ${d.kind} ${d.member ?? ""}`.trim())
        .sort(),
    ).toEqual(
      [
        "microsoft.graph.security.incident extraMember recommendedActions",
        "microsoft.graph.security.incident extraMember recommendedHuntingQueries",
        "microsoft.graph.security.runHuntingQuery(microsoft.graph.security) extraMember workspaceId",
        "microsoft.graph.security.getRunHuntingQuery declarationNotInGraph",
        "microsoft.graph.security.getHuntingSchema declarationNotInGraph",
        ...[
          "recommendedHuntingQuery",
          "huntingSchemaResult",
          "huntingSchemaTable",
          "huntingSchemaTableColumn",
          "huntingSchemaFunctions",
          "huntingSchemaBuiltInFunction",
          "huntingSchemaSavedFunction",
          "huntingSchemaFunctionParameter",
        ].map((n) => `microsoft.graph.security.${n} declarationNotInGraph`),
      ].sort(),
    );
    const xml = metadataDocument("beta");
    expect(xml).toContain('<Function Name="getRunHuntingQuery" IsBound="true">');
    expect(xml).toContain('<Function Name="getHuntingSchema" IsBound="true">');
    expect(xml).toMatch(/<Parameter Name="workspaceId" Type="Edm.Guid">\s*<Annotation Term="Org.OData.Core.V1.OptionalParameter" \/>/);
  });

  it("getHuntingSchema answers what beta's $metadata declares for it", async () => {
    const headers = await t.auth(t.tenantId, ["ThreatHunting.Read.All"]);
    const r = await t.get("/beta/security/getHuntingSchema", headers);
    expect(r.status).toBe(200);
    const beta = parseCsdl(metadataDocument("beta")).json["microsoft.graph.security"] as Record<string, any>;
    const declared = (type: string) => Object.keys(beta[type]).filter((k) => !k.startsWith("$") && !k.includes("@"));
    expect(r.body["@odata.context"]).toBe(`${t.url}/beta/$metadata#microsoft.graph.security.huntingSchemaResult`);
    expect(
      Object.keys(r.body)
        .filter((k) => !k.startsWith("@"))
        .sort(),
    ).toEqual(declared("huntingSchemaResult").sort());
    expect(Object.keys(r.body.functions).sort()).toEqual(declared("huntingSchemaFunctions").sort());
    for (const table of r.body.tables) {
      expect(Object.keys(table).sort()).toEqual(declared("huntingSchemaTable").sort());
      for (const column of table.columns) expect(Object.keys(column).sort()).toEqual(declared("huntingSchemaTableColumn").sort());
    }
  });
});

describe("OData-Version", () => {
  it("every Graph JSON answer carries OData-Version: 4.0, as the real service's do", async () => {
    const ingested = alert({ device: deviceId() });
    const r = await t.ingest([ingested]);
    const incidentId = r.body.value[0].incidentId as string;
    for (const version of ["v1.0", "beta"]) {
      const answers = [
        await t.get(`/${version}/security/incidents`),
        await t.get(`/${version}/security/incidents/${incidentId}?$expand=alerts`),
        await t.get(`/${version}/security/alerts_v2/${encodeURIComponent(ingested.id as string)}`),
        await t.request("PATCH", `/${version}/security/incidents/${incidentId}`, { body: { customTags: ["odata"] } }),
      ];
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.headers.get("content-type")).toMatch(/^application\/json;odata\.metadata=minimal/);
        expect(a.headers.get("odata-version")).toBe("4.0");
      }
    }
    // Not on answers that are not OData (the token service, health).
    expect((await t.get("/healthz")).headers.get("odata-version")).toBeNull();
  });
});

describe("$metadata against Graph's own metadata", () => {
  const ours = parseCsdl(metadataDocument("v1.0"));
  const graph = parseGraphFixture(GRAPH_FIXTURE);
  const differences = compareCsdl(ours, graph);

  const betaDifferences = compareCsdl(parseCsdl(metadataDocument("beta")), graph);
  const byVersion = { "v1.0": differences, beta: betaDifferences } as const;

  it("differs from Graph's declarations only where docs/graph-api.md says it does", () => {
    for (const version of ["v1.0", "beta"] as const) {
      const unexpected = byVersion[version].filter((d) => !isAllowed(d, version));
      expect(unexpected, version).toEqual([]);
    }
  });

  it("every listed difference still exists, for each declaration, member and version it names (the list is not stale)", () => {
    for (const allowed of allowedMetadataDifferences) {
      for (const version of allowed.versions ?? (["v1.0", "beta"] as const)) {
        for (const declaration of allowed.declarations) {
          const found = byVersion[version].filter((d) => d.declaration === declaration && isAllowed(d, version, [allowed]));
          expect(found.length, `${version} ${declaration}: ${allowed.kind}`).toBeGreaterThan(0);
          for (const member of allowed.members ?? []) {
            expect(
              found.some((d) => d.member === member),
              `${version} ${declaration} ${member}: ${allowed.kind}`,
            ).toBe(true);
          }
        }
      }
    }
  });

  it("the staleness check fails for a listed difference that no longer exists", () => {
    const stale = { declarations: ["microsoft.graph.security.alert"], kind: "missingMember", members: ["title"], reason: "" } as const;
    expect(differences.some((d) => isAllowed(d, "v1.0", [stale]))).toBe(false);
    // A beta-only entry does not cover the v1.0 document.
    const betaOnly = allowedMetadataDifferences.find((a) => a.versions?.includes("beta") && !a.versions.includes("v1.0"))!;
    expect(betaDifferences.some((d) => isAllowed(d, "beta", [betaOnly]))).toBe(true);
    expect(betaDifferences.filter((d) => isAllowed(d, "beta", [betaOnly])).some((d) => isAllowed(d, "v1.0", [betaOnly]))).toBe(false);
  });

  it("declares every evidence subtype's own properties and compares them with Graph's", () => {
    const json = ours.json["microsoft.graph.security"] as Record<string, any>;
    const real = graph.json["microsoft.graph.security"] as Record<string, any>;
    const own = (decl: Record<string, unknown>) => Object.keys(decl).filter((k) => !k.startsWith("$") && !k.includes("@"));
    for (const name of evidenceSubtypeNames) {
      expect(json[name]?.$BaseType, name).toBe("microsoft.graph.security.alertEvidence");
      expect(own(json[name]).sort(), name).toEqual(own(real[name]).sort());
      expect(differences.filter((d) => d.declaration === `microsoft.graph.security.${name}`)).toEqual([]);
    }
    // Evidence nested in evidence is typed with the subtype (a cycle: a pod's containers name their pod).
    expect(json.containerEvidence.pod.$Type).toBe("microsoft.graph.security.kubernetesPodEvidence");
    expect(json.kubernetesPodEvidence.containers).toMatchObject({ $Collection: true, $Type: "microsoft.graph.security.containerEvidence" });
    expect(json.kubernetesClusterEvidence.cloudResource.$Type).toBe("microsoft.graph.security.alertEvidence");
  });

  it("compares what it should: every property of incident and alert, the enums, the operations", () => {
    const json = ours.json["microsoft.graph.security"] as Record<string, any>;
    const real = graph.json["microsoft.graph.security"] as Record<string, any>;
    for (const resource of [incidentResource, alertResource]) {
      for (const p of properties(resource.schema).values()) {
        if (p.name === "id" || p.meta.betaOnly) continue;
        expect(json[resource.typeName][p.name], `${resource.typeName}.${p.name}`).toBeDefined();
        expect(real[resource.typeName][p.name], `Graph's ${resource.typeName}.${p.name}`).toBeDefined();
      }
    }
    expect(json.correlationReason.$IsFlags).toBe(true);
    expect(real.correlationReason.$IsFlags).toBe(true);
    expect(json.detectionSource.microsoftSentinel).toBe(268435456);
    expect(json.incident.alerts).toMatchObject({ $Kind: "NavigationProperty", $Collection: true, $Type: "microsoft.graph.security.alert" });
    expect(json.mergeIncidents[0].$ReturnType.$Type).toBe("microsoft.graph.security.mergeResponse");
    expect(json.moveAlerts[0].$Parameter.map((p: any) => p.$Name)).toEqual([
      "bindingParameter",
      "alertIds",
      "incidentId",
      "alertComment",
      "newCorrelationReasons",
    ]);
  });

  it("finds a difference in each respect it compares (the comparison can fail)", () => {
    const doc = metadataDocument("v1.0");
    const mutations: [string, string, string][] = [
      ['<Member Name="falsePositive" Value="10" />', '<Member Name="falsePositive" Value="11" />', "memberValue"],
      ['<EnumType Name="correlationReason" IsFlags="true">', '<EnumType Name="correlationReason">', "isFlags"],
      ['<Member Name="lineOfBusinessApplication" Value="140" />\n', "", "missingMember"],
      [
        '<Property Name="severity" Type="microsoft.graph.security.alertSeverity" Nullable="false" />',
        '<Property Name="severity" Type="microsoft.graph.security.alertSeverity" />',
        "nullable",
      ],
      [
        '<Property Name="roles" Type="Collection(microsoft.graph.security.evidenceRole)" Nullable="false" />',
        '<Property Name="roles" Type="Collection(microsoft.graph.security.evidenceRole)" />',
        "nullable",
      ],
      ['<Property Name="priorityScore" Type="Edm.Int32" />', '<Property Name="priorityScore" Type="Edm.Int64" />', "type"],
      [
        '<Property Name="tenantId" Type="Edm.String" />',
        '<Property Name="tenantId" Type="Edm.String" />\n<Property Name="extra" Type="Edm.String" />',
        "extraMember",
      ],
      ['<ReturnType Type="microsoft.graph.security.mergeResponse" />', '<ReturnType Type="microsoft.graph.security.incident" />', "returnType"],
      ['<Parameter Name="incidentId" Type="Edm.String" Unicode="false">', '<Parameter Name="incidentId" Type="Edm.Int32" Unicode="false">', "type"],
      ['<Annotation Term="Org.OData.Core.V1.OptionalParameter" />', "", "optionalParameter"],
      // An evidence subtype's own property is compared like an entity's.
      ['<Property Name="isPrivileged" Type="Edm.Boolean" Nullable="false" />', '<Property Name="isPrivileged" Type="Edm.Boolean" />', "nullable"],
      ['<Property Name="pod" Type="microsoft.graph.security.kubernetesPodEvidence" />\n', "", "missingMember"],
    ];
    for (const [from, to, kind] of mutations) {
      expect(doc, from).toContain(from);
      const found = compareCsdl(parseCsdl(doc.replace(from, to)), graph).filter((d) => !isAllowed(d, "v1.0"));
      expect(
        found.map((d) => d.kind),
        `${from} → ${to}`,
      ).toContain(kind);
    }
  });

  it("declares runHuntingQuery on the security singleton with its answer's types, compared like the others", () => {
    const runHuntingQuery = operations.find((o) => o.name === "runHuntingQuery")!;
    expect(runHuntingQuery).toBeDefined();
    const xml = buildMetadataDocument("v1.0", operations, operationTypes);
    expect(xml).toContain('<Action Name="runHuntingQuery" IsBound="true">');
    expect(xml).toContain('<ComplexType Name="huntingRowResult" OpenType="true" />');
    expect(xml).toContain('<ComplexType Name="huntingQueryResults">');
    const found = compareCsdl(parseCsdl(xml), graph);
    expect(found.filter((d) => !isAllowed(d, "v1.0"))).toEqual([]);
    // A wrong declaration of it is caught like any other.
    const others = operations.filter((o) => o !== runHuntingQuery);
    const wrong = buildMetadataDocument("v1.0", [...others, { ...runHuntingQuery, parameters: runHuntingQuery.parameters.slice(0, 1) }], operationTypes);
    expect(compareCsdl(parseCsdl(wrong), graph).filter((d) => !isAllowed(d, "v1.0"))).toEqual([
      expect.objectContaining({ declaration: "microsoft.graph.security.runHuntingQuery(microsoft.graph.security)", kind: "missingMember", member: "timespan" }),
    ]);
  });

  it("docs/graph-api.md lists exactly the allowed differences (TRIAGE_UPDATE_DOCS=1 writes them there)", () => {
    const file = new URL("../../docs/graph-api.md", import.meta.url);
    const markers = /(<!-- metadata-differences:start -->\n)([\s\S]*?\n)?(<!-- metadata-differences:end -->)/;
    if (process.env.TRIAGE_UPDATE_DOCS === "1") {
      writeFileSync(
        file,
        readFileSync(file, "utf8").replace(markers, (_all, start: string, _old, end: string) => `${start}${metadataDifferencesMarkdown()}\n${end}`),
      );
    }
    const docs = readFileSync(file, "utf8");
    const block = /<!-- metadata-differences:start -->\n([\s\S]*?)\n<!-- metadata-differences:end -->/.exec(docs);
    expect(block, "the markers in docs/graph-api.md").not.toBeNull();
    expect(block![1]).toBe(metadataDifferencesMarkdown());
  });
});

describe("the OData TC's tools accept $metadata", () => {
  for (const version of ["v1.0", "beta"] as const) {
    it(`odata-csdl parses the ${version} document without a message, and odata-openapi turns it into a valid OpenAPI`, async () => {
      const messages: unknown[] = [];
      const csdl = xml2json(metadataDocument(version), { strict: true, messages });
      expect(messages).toEqual([]);
      expect(csdl.$Version).toBe("4.0");
      expect(Object.keys(csdl)).toEqual(expect.arrayContaining(["microsoft.graph", "microsoft.graph.security", "$EntityContainer"]));

      const openapiMessages: unknown[] = [];
      const openapi = csdl2openapi(csdl, { host: "127.0.0.1:8443", basePath: `/${version}`, messages: openapiMessages }) as any;
      expect(openapiMessages).toEqual([]);
      const paths = Object.keys(openapi.paths);
      expect(paths).toEqual(
        expect.arrayContaining([
          "/security/incidents",
          "/security/incidents/{id_1}",
          "/security/incidents/{id_1}/alerts",
          "/security/incidents/microsoft.graph.security.mergeIncidents",
          "/security/alerts_v2",
          "/security/alerts_v2/microsoft.graph.security.moveAlerts",
        ]),
      );
      await expect(SwaggerParser.validate(structuredClone(openapi))).resolves.toBeTruthy();
    });
  }

  it("the OpenAPI made from $metadata names only operations Triage serves, and Triage serves each", async () => {
    const ingested = alert({ device: deviceId() });
    const r = await t.ingest([ingested]);
    expect(r.status).toBe(200);
    const incidentId = r.body.value[0].incidentId as string;
    const headers = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "SecurityData.Manage.All"]);
    for (const version of ["v1.0", "beta"] as const) {
      const openapi = csdl2openapi(xml2json(metadataDocument(version)), { basePath: `/${version}` }) as any;
      const operations = Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => ["get", "post", "patch", "put", "delete"].includes(m))
          .map((m) => [m.toUpperCase(), path] as const),
      );
      expect(operations.length).toBeGreaterThanOrEqual(8);
      for (const [method, path] of operations) {
        const url = `/${version}${path}`
          .replace(/^\/(v1\.0|beta)\/\$batch$/, `/${version}/$batch`)
          .replace(/incidents\/\{id_1\}/, `incidents/${incidentId}`)
          .replace(/alerts_v2\/\{id_1\}/, `alerts_v2/${encodeURIComponent(ingested.id as string)}`);
        const answer = await t.request(method, url, method === "GET" ? { headers } : { headers, body: path === "/$batch" ? { requests: [] } : {} });
        // Served: the route exists and the method is allowed (a body the operation refuses is a 400 of its own).
        expect([404, 405], `${method} ${url}`).not.toContain(answer.status);
        expect(answer.text, `${method} ${url}`).not.toContain("Resource not found for the segment");
      }
      // And what it leaves out, Triage does not serve.
      expect(operations.some(([m, p]) => m === "POST" && p === "/security/incidents")).toBe(false);
      expect((await t.request("POST", `/${version}/security/incidents`, { headers, body: {} })).status).toBe(405);
      expect((await t.request("DELETE", `/${version}/security/alerts_v2/${encodeURIComponent(ingested.id as string)}`, { headers })).status).toBe(405);
    }
  });

  it("swagger-parser does reject an invalid OpenAPI (the validation can fail)", async () => {
    const csdl = xml2json(metadataDocument("v1.0"));
    const openapi = csdl2openapi(csdl, { host: "127.0.0.1:8443", basePath: "/v1.0" }) as any;
    const broken = structuredClone(openapi);
    broken.paths["/security/incidents"].get.responses = { nope: {} };
    await expect(SwaggerParser.validate(broken)).rejects.toThrow();
  });
});
