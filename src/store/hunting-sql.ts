import type { Aggregate, DateTimePart, Expr, HuntingColumn, HuntingWindow, KqlType, Plan } from "../query/hunting-plan.js";
import { badRequest, GraphError } from "../errors/graph-error.js";
import { checkRegex, REGEX_EXTRACT_FUNCTION, REGEX_MATCH_FUNCTION } from "./hunting-regex.js";
import { DEADLINE_FUNCTION } from "./read-workers.js";
import type { Store } from "./open.js";
import { alertResource } from "../schema/alert.js";
import { properties } from "../schema/meta.js";
import { runBoundedRead } from "./bounded-read.js";

/**
 * Advanced hunting in SQL: the hunting tables AlertInfo and AlertEvidence as subqueries over the
 * tenant's alerts (and the evidence inside each alert's document), limited to the query window, and a
 * hunting query plan (query/hunting-plan.ts) rendered on top of them, one nested SELECT per operator.
 * Every statement runs through the bounded reads (time limit, worker threads on SQLite).
 *
 * Values are written into the SQL text as literals: strings with their quotes doubled (neither
 * dialect treats a backslash specially in a standard string), numbers only when finite. Identifiers
 * are always double-quoted with their quotes doubled. NUL characters are refused before rendering.
 */

type Dialect = "sqlite" | "postgres";

/** The most rows a hunting query answers; one more is read to tell that the limit was passed. */
export const MAX_HUNTING_ROWS = 100_000;

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function str(v: string): string {
  if (v.includes("\u0000")) throw badRequest("A string in the query holds a NUL character, which hunting does not accept.");
  return `'${v.replace(/'/g, "''")}'`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) throw badRequest(`The number ${v} cannot be used in a hunting query.`);
  return String(v);
}

const ALERT_PROPERTIES = properties(alertResource.schema);

/** Defender's spelling of a severity: the Graph member capitalized (high → High). */
function capitalized(member: string): string {
  return member.charAt(0).toUpperCase() + member.slice(1);
}

/**
 * A hunting column read from the alerts table's typed column for an alert property: the same column
 * the schema's column mapping (store/columns.ts) writes from the document, so the two cannot disagree.
 * An enum column holds the member's ordinal and reads back as the member's name (spelled by `spell`);
 * an absent value is "", as KQL strings are never null.
 */
function alertColumn(property: string, spell: (member: string) => string = (m) => m): string {
  const p = ALERT_PROPERTIES.get(property);
  const column = p?.meta.column;
  if (!p || !column) throw new Error(`The alert property ${property} has no column`);
  const e = p.valueSchema.graphEnum;
  if (!e) return `coalesce(a.${column}, '')`;
  return `(case a.${column} ${e.members.map((m, i) => `when ${i} then ${str(spell(m))}`).join(" ")} else '' end)`;
}

class Renderer {
  private aliases = 0;
  constructor(
    private readonly dialect: Dialect,
    private readonly tenantId: string,
    private readonly window: HuntingWindow,
  ) {}

  private alias(): string {
    return `q${++this.aliases}`;
  }

  // ---- base tables ----

  /** The alert document's scalar at `path`, as text (NULL when absent). */
  private docText(src: string, path: string[]): string {
    if (this.dialect === "sqlite") return `json_extract(${src}, '$${path.map((p) => `."${p}"`).join("")}')`;
    return `(${src} #>> '{${path.join(",")}}')`;
  }

  /** The query window on the alerts' creation time, which the hunting index (migration 010) leads with. */
  private baseWhere(): string {
    const guard = this.dialect === "sqlite" ? ` and ${DEADLINE_FUNCTION}()` : "";
    const at = this.dialect === "postgres" ? `a.created_at collate "C"` : "a.created_at";
    return `a.tenant_id = ${str(this.tenantId)} and ${at} >= ${str(this.window.from)} and ${at} < ${str(this.window.to)}${guard}`;
  }

  /** The alert's MITRE techniques as JSON array text, from its document (the one AlertInfo column without a column of its own). */
  private techniques(): string {
    const t =
      this.dialect === "postgres"
        ? `coalesce((a.doc::json -> 'mitreTechniques')::text, 'null')`
        : `coalesce(json_extract(a.doc, '$."mitreTechniques"'), 'null')`;
    return `(case when ${t} = 'null' then '[]' else ${t} end)`;
  }

  /** The alert-level columns both tables share, read from the alerts' typed columns (see alertColumn). */
  private alertColumns(): Record<"Timestamp" | "AlertId" | "Title" | "Category" | "Severity" | "ServiceSource" | "DetectionSource", string> {
    return {
      Timestamp: "a.created_at",
      AlertId: "a.id",
      Title: alertColumn("title"),
      Category: alertColumn("category"),
      Severity: alertColumn("severity", capitalized),
      ServiceSource: alertColumn("serviceSource"),
      DetectionSource: alertColumn("detectionSource"),
    };
  }

  private alertInfo(): string {
    const c = this.alertColumns();
    const cols: [string, string][] = [
      ["Timestamp", c.Timestamp],
      ["AlertId", c.AlertId],
      ["Title", c.Title],
      ["Category", c.Category],
      ["Severity", c.Severity],
      ["ServiceSource", c.ServiceSource],
      ["DetectionSource", c.DetectionSource],
      ["AttackTechniques", this.techniques()],
    ];
    return `select ${cols.map(([n, x]) => `${x} as ${ident(n)}`).join(", ")} from alerts a where ${this.baseWhere()}`;
  }

  private alertEvidence(): string {
    const pg = this.dialect === "postgres";
    const d = pg ? "j.t" : "a.doc";
    const v = pg ? "e.v" : "e.value";
    // The document is parsed once per alert, for its evidence (and the threat family); the alert's own columns are typed columns.
    const from = pg
      ? `alerts a cross join lateral (select a.doc::json as t) j cross join lateral json_array_elements(case when json_typeof(j.t -> 'evidence') = 'array' then j.t -> 'evidence' else '[]'::json end) e(v)`
      : `alerts a, json_each(a.doc, '$."evidence"') e`;
    const arrayOnly = pg ? "" : ` and json_type(a.doc, '$."evidence"') = 'array'`;
    const ev = (...paths: string[][]) => {
      const parts = paths.map((p) => (pg ? `(${v} #>> '{${p.join(",")}}')` : `json_extract(${v}, '$${p.map((x) => `."${x}"`).join("")}')`));
      return `coalesce(${[...parts, "''"].join(", ")})`;
    };
    const typeName = pg ? `(${v} ->> '@odata.type')` : `json_extract(${v}, '$."@odata.type"')`;
    const sub = (name: string) => `${typeName} = ${str(`#microsoft.graph.security.${name}`)}`;
    // A simple CASE reads the evidence type once per item, not once per branch.
    const entityType =
      `(case ${typeName} ${[
        ["deviceEvidence", "Machine"],
        ["userEvidence", "User"],
        ["ipEvidence", "Ip"],
        ["urlEvidence", "Url"],
        ["fileEvidence", "File"],
        ["processEvidence", "Process"],
        ["mailboxEvidence", "Mailbox"],
        ["analyzedMessageEvidence", "MailMessage"],
        ["cloudApplicationEvidence", "CloudApplication"],
        ["oauthApplicationEvidence", "OAuthApplication"],
        ["registryKeyEvidence", "RegistryKey"],
        ["registryValueEvidence", "RegistryValue"],
        ["azureResourceEvidence", "AzureResource"],
        ["mailClusterEvidence", "MailCluster"],
        ["securityGroupEvidence", "SecurityGroup"],
      ]
        .map(([g, k]) => `when ${str(`#microsoft.graph.security.${g!}`)} then ${str(k!)}`)
        .join(" ")} ` + `else coalesce(replace(replace(${typeName}, '#microsoft.graph.security.', ''), 'Evidence', ''), '') end)`;
    const rolesText = pg ? `coalesce((${v} -> 'roles')::text, '')` : `coalesce(json_extract(${v}, '$."roles"'), '')`;
    const has = (text: string, needle: string) => (pg ? `strpos(${text}, ${str(needle)}) > 0` : `instr(${text}, ${str(needle)}) > 0`);
    const role = `(case when ${has(rolesText, '"compromised"')} or ${has(rolesText, '"attacked"')} then 'Impacted' else 'Related' end)`;
    const direction = `(case when ${has(rolesText, '"source"')} then 'Source' when ${has(rolesText, '"destination"')} then 'Destination' else '' end)`;
    const bigint = (x: string) => (pg ? `(${x})::bigint` : `cast(${x} as integer)`);
    const raw = (...paths: string[][]) => {
      const parts = paths.map((p) => (pg ? `(${v} #>> '{${p.join(",")}}')` : `json_extract(${v}, '$${p.map((x) => `."${x}"`).join("")}')`));
      return parts.length === 1 ? parts[0]! : `coalesce(${parts.join(", ")})`;
    };
    const when = (cond: string, then: string) => `(case when ${cond} then ${then} else '' end)`;
    const alert = this.alertColumns();
    const categories = pg ? `json_build_array(${alert.Category})::text` : `json_array(${alert.Category})`;
    const additional = pg ? `${v}::text` : `${v}`;
    const cols: [string, string][] = [
      ["Timestamp", alert.Timestamp],
      ["AlertId", alert.AlertId],
      ["Title", alert.Title],
      ["Categories", categories],
      ["AttackTechniques", this.techniques()],
      ["ServiceSource", alert.ServiceSource],
      ["DetectionSource", alert.DetectionSource],
      ["EntityType", entityType],
      ["EvidenceRole", role],
      ["EvidenceDirection", direction],
      ["FileName", ev(["fileDetails", "fileName"], ["imageFile", "fileName"])],
      ["FolderPath", ev(["fileDetails", "filePath"], ["imageFile", "filePath"])],
      ["SHA1", ev(["fileDetails", "sha1"], ["imageFile", "sha1"])],
      ["SHA256", ev(["fileDetails", "sha256"], ["imageFile", "sha256"])],
      ["FileSize", bigint(raw(["fileDetails", "fileSize"], ["imageFile", "fileSize"]))],
      ["ThreatFamily", when(sub("fileEvidence"), `coalesce(${this.docText(d, ["threatFamilyName"])}, '')`)],
      ["RemoteIP", ev(["ipAddress"])],
      ["RemoteUrl", ev(["url"])],
      ["AccountName", ev(["userAccount", "accountName"])],
      ["AccountDomain", ev(["userAccount", "domainName"])],
      ["AccountSid", ev(["userAccount", "userSid"])],
      ["AccountObjectId", ev(["userAccount", "azureAdUserId"])],
      ["AccountUpn", ev(["userAccount", "userPrincipalName"], ["upn"])],
      ["DeviceId", ev(["mdeDeviceId"])],
      ["DeviceName", ev(["deviceDnsName"], ["hostName"])],
      ["LocalIP", ev(["lastIpAddress"])],
      ["NetworkMessageId", ev(["networkMessageId"])],
      ["EmailSubject", ev(["subject"])],
      ["Application", when(`${sub("cloudApplicationEvidence")} or ${sub("oauthApplicationEvidence")}`, ev(["displayName"]))],
      [
        "ApplicationId",
        pg
          ? `(case when ${sub("cloudApplicationEvidence")} then (${raw(["appId"])})::integer end)`
          : `(case when ${sub("cloudApplicationEvidence")} then cast(${raw(["appId"])} as integer) end)`,
      ],
      ["OAuthApplicationId", when(sub("oauthApplicationEvidence"), ev(["appId"]))],
      ["ProcessCommandLine", ev(["processCommandLine"])],
      ["RegistryKey", ev(["registryKey"])],
      ["RegistryValueName", ev(["registryValueName"])],
      ["RegistryValueData", ev(["registryValue"])],
      ["AdditionalFields", additional],
      ["Severity", alert.Severity],
      ["CloudResource", when(sub("azureResourceEvidence"), ev(["resourceName"]))],
      ["CloudPlatform", `(case when ${sub("azureResourceEvidence")} then 'Azure' else '' end)`],
      ["ResourceType", when(sub("azureResourceEvidence"), ev(["resourceType"]))],
      ["ResourceID", when(sub("azureResourceEvidence"), ev(["resourceId"]))],
      ["SubscriptionId", ev(["vmMetadata", "subscriptionId"])],
    ];
    return `select ${cols.map(([n, x]) => `${x} as ${ident(n)}`).join(", ")} from ${from} where ${this.baseWhere()}${arrayOnly}`;
  }

  // ---- expressions ----

  private isText(t: KqlType): boolean {
    return t === "string" || t === "datetime" || t === "dynamic";
  }

  /** A string operand ordered byte-wise on both stores (PostgreSQL's default collation is not). */
  private ordered(x: string, t: KqlType): string {
    return this.dialect === "postgres" && this.isText(t) ? `(${x}) collate "C"` : x;
  }

  private bool(x: string): string {
    return x;
  }

  private lower(x: string): string {
    return `lower(${x})`;
  }

  private instr(hay: string, needle: string): string {
    return this.dialect === "postgres" ? `strpos(${hay}, ${needle})` : `instr(${hay}, ${needle})`;
  }

  /** Text with every delimiter a KQL term ends at turned into a space, lower-cased. */
  private terms(x: string): string {
    return `(' ' || ${this.delimited(x)} || ' ')`;
  }

  private delimited(x: string): string {
    let out = `lower(${x})`;
    for (const ch of TERM_DELIMITERS) out = `replace(${out}, ${str(ch)}, ' ')`;
    return out;
  }

  /**
   * What has looks for: the needle's terms in a row, so a needle with punctuation ("powershell.exe",
   * "-enc") finds the same terms the text is cut into. A constant needle is mapped here.
   */
  private needle(e: Expr, x: string): string {
    if (e.k === "lit" && typeof e.value === "string") {
      let v = e.value.toLowerCase();
      for (const ch of TERM_DELIMITERS) v = v.split(ch).join(" ");
      return this.literal(v, "string");
    }
    return this.delimited(x);
  }

  expr(e: Expr): string {
    // Every text has the empty term: has "" is true, as in Kusto.
    if (
      e.k === "op" &&
      (e.op === "has" || e.op === "has_cs" || e.op === "hasprefix" || e.op === "hassuffix") &&
      e.args[1]?.k === "lit" &&
      e.args[1].value === ""
    ) {
      return this.trueSql();
    }
    switch (e.k) {
      case "col":
        return ident(e.name);
      case "lit":
        return this.literal(e.value, e.type);
      case "in": {
        const arg = e.ci ? this.lower(this.expr(e.arg)) : this.expr(e.arg);
        if (e.sub) {
          const a = this.alias();
          const first = `${a}.${ident(e.sub.columns[0]!.name)}`;
          const values = `select ${e.ci ? this.lower(first) : first} from (${this.plan(e.sub)}) as ${a} where ${first} is not null`;
          return `(${arg} ${e.negated ? "not in" : "in"} (${values}))`;
        }
        const list = e.list.map((x) => (e.ci ? this.lower(this.expr(x)) : this.expr(x)));
        if (list.length === 0) return e.negated ? this.trueSql() : this.falseSql();
        return `(${arg} ${e.negated ? "not in" : "in"} (${list.join(", ")}))`;
      }
      case "path":
        return this.path(e, "text");
      case "case":
        return `(case ${e.whens.map((w) => `when ${this.expr(w.when)} then ${this.expr(w.then)}`).join(" ")} else ${this.expr(e.otherwise)} end)`;
      case "op":
        return this.op(e);
      case "format_datetime":
        return this.formatDateTime(this.expr(e.arg), e.parts);
    }
  }

  // ---- datetimes: ISO 8601 text with milliseconds and Z in both stores; timespans are milliseconds ----

  /** Milliseconds since the Unix epoch of a datetime text. */
  private epochMs(x: string): string {
    if (this.dialect === "postgres") return `(round(extract(epoch from (${x})::timestamptz) * 1000))::bigint`;
    return `(cast(strftime('%s', ${x}) as integer) * 1000 + cast(substr(strftime('%f', ${x}), 4, 3) as integer))`;
  }

  /** The datetime text of milliseconds since the Unix epoch. */
  private fromEpochMs(ms: string): string {
    if (this.dialect === "postgres") {
      return `to_char((timestamptz 'epoch' + (${ms}) * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    }
    const m = `cast(round(${ms}) as integer)`;
    const rest = `((${m} % 1000 + 1000) % 1000)`;
    return `(strftime('%Y-%m-%dT%H:%M:%S', (${m} - ${rest}) / 1000, 'unixepoch') || printf('.%03dZ', ${rest}))`;
  }

  /** A datetime text in the one form both stores write (so that text order is time order). */
  private canonicalDateTime(x: string): string {
    if (this.dialect === "postgres") return `to_char((${x})::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    return `strftime('%Y-%m-%dT%H:%M:%fZ', ${x})`;
  }

  private formatDateTime(x: string, parts: DateTimePart[]): string {
    const pg = this.dialect === "postgres";
    const iso = this.canonicalDateTime(x);
    const sub = (from: number, length: number) => `substr(${iso}, ${from}, ${length})`;
    const unpadded = (text: string) => (pg ? `((${text})::integer)::text` : `cast(cast(${text} as integer) as text)`);
    const hour = pg ? `(${sub(12, 2)})::integer` : `cast(${sub(12, 2)} as integer)`;
    const twelve = `substr('120102030405060708091011120102030405060708091011', ${hour} * 2 + 1, 2)`;
    const pieces = parts.map((p): string => {
      if ("text" in p) return str(p.text);
      switch (p.field) {
        case "yyyy":
          return sub(1, 4);
        case "yy":
          return sub(3, 2);
        case "MM":
          return sub(6, 2);
        case "M":
          return unpadded(sub(6, 2));
        case "dd":
          return sub(9, 2);
        case "d":
          return unpadded(sub(9, 2));
        case "HH":
          return sub(12, 2);
        case "H":
          return unpadded(sub(12, 2));
        case "hh":
          return twelve;
        case "h":
          return unpadded(twelve);
        case "mm":
          return sub(15, 2);
        case "m":
          return unpadded(sub(15, 2));
        case "ss":
          return sub(18, 2);
        case "s":
          return unpadded(sub(18, 2));
        case "tt":
          return `(case when ${hour} < 12 then 'AM' else 'PM' end)`;
        case "f":
          // The stores keep milliseconds: digits past the third are zeros.
          return p.digits <= 3 ? sub(21, p.digits) : `(${sub(21, 3)} || ${str("0".repeat(p.digits - 3))})`;
      }
    });
    return `coalesce(${pieces.length ? pieces.join(" || ") : "''"}, '')`;
  }

  /** A JSON path: as the scalar's text ("text") or as JSON text ("json"); NULL where the source is not JSON or has no such value. */
  path(e: Extract<Expr, { k: "path" }>, form: "text" | "json"): string {
    const src = this.expr(e.source);
    if (this.dialect === "postgres") {
      const p = str(`{${e.path.map((x) => (typeof x === "number" ? String(x) : `"${x.replace(/["\\{}]/g, "")}"`)).join(",")}}`);
      return form === "json" ? `((${src})::jsonb #> ${p})::text` : `((${src})::jsonb #>> ${p})`;
    }
    const p = str(`$${e.path.map((x) => (typeof x === "number" ? `[${x}]` : `."${x.replace(/"/g, "")}"`)).join("")}`);
    return `(case when json_valid(${src}) then ${src} ${form === "json" ? "->" : "->>"} ${p} end)`;
  }

  /** An output value: JSON text for a JSON path, so that the answer carries it as JSON. */
  output(e: Expr): string {
    return e.k === "path" ? this.path(e, "json") : this.expr(e);
  }

  private trueSql(): string {
    return this.dialect === "postgres" ? "true" : "1";
  }
  private falseSql(): string {
    return this.dialect === "postgres" ? "false" : "0";
  }

  private literal(value: string | number | boolean | null, type: KqlType): string {
    if (value === null) {
      if (this.dialect === "postgres") return `null::${pgType(type)}`;
      return "null";
    }
    if (typeof value === "boolean") return value ? this.trueSql() : this.falseSql();
    if (typeof value === "number") {
      if (this.dialect === "postgres") return `(${num(value)})::${pgType(type)}`;
      return type === "real" && Number.isInteger(value) ? `${num(value)}.0` : num(value);
    }
    return this.dialect === "postgres" ? `${str(value)}::text` : str(value);
  }

  private op(e: Extract<Expr, { k: "op" }>): string {
    const a = e.args.map((x) => this.expr(x));
    const t0 = e.args[0]?.type ?? "string";
    const pg = this.dialect === "postgres";
    const cmp = (op: string) => `(${this.ordered(a[0]!, t0)} ${op} ${this.ordered(a[1]!, e.args[1]!.type)})`;
    switch (e.op) {
      case "eq":
        return `(${a[0]} = ${a[1]})`;
      case "ne":
        return `(${a[0]} <> ${a[1]})`;
      case "lt":
        return cmp("<");
      case "le":
        return cmp("<=");
      case "gt":
        return cmp(">");
      case "ge":
        return cmp(">=");
      case "eq_ci":
        return `(lower(${a[0]}) = lower(${a[1]}))`;
      case "ne_ci":
        return `(lower(${a[0]}) <> lower(${a[1]}))`;
      case "and":
        return `(${a[0]} and ${a[1]})`;
      case "or":
        return `(${a[0]} or ${a[1]})`;
      case "not":
        return `(not ${a[0]})`;
      case "contains":
        return `(${this.instr(this.lower(a[0]!), this.lower(a[1]!))} > 0)`;
      case "contains_cs":
        return `(${this.instr(a[0]!, a[1]!)} > 0)`;
      case "startswith":
        return `(substr(lower(${a[0]}), 1, length(${a[1]})) = lower(${a[1]}))`;
      case "startswith_cs":
        return `(substr(${a[0]}, 1, length(${a[1]})) = ${a[1]})`;
      case "endswith":
        return `(length(${a[0]}) >= length(${a[1]}) and substr(lower(${a[0]}), length(${a[0]}) - length(${a[1]}) + 1) = lower(${a[1]}))`;
      case "endswith_cs":
        return `(length(${a[0]}) >= length(${a[1]}) and substr(${a[0]}, length(${a[0]}) - length(${a[1]}) + 1) = ${a[1]})`;
      case "has":
        return `(${this.instr(this.terms(a[0]!), `(' ' || ${this.needle(e.args[1]!, a[1]!)} || ' ')`)} > 0)`;
      case "has_cs":
        return `(${this.instr(this.terms(a[0]!), `(' ' || ${this.needle(e.args[1]!, a[1]!)} || ' ')`)} > 0 and ${this.instr(a[0]!, a[1]!)} > 0)`;
      case "hasprefix":
        return `(${this.instr(this.terms(a[0]!), `(' ' || ${this.needle(e.args[1]!, a[1]!)})`)} > 0)`;
      case "hassuffix":
        return `(${this.instr(this.terms(a[0]!), `(${this.needle(e.args[1]!, a[1]!)} || ' ')`)} > 0)`;
      case "isempty":
        return `(${a[0]} is null or ${this.isText(t0) ? `${a[0]} = ''` : this.falseSql()})`;
      case "isnotempty":
        return `(${a[0]} is not null and ${this.isText(t0) ? `${a[0]} <> ''` : this.trueSql()})`;
      case "isnull":
        return `(${a[0]} is null)`;
      case "isnotnull":
        return `(${a[0]} is not null)`;
      case "add":
        return `(${a[0]} + ${a[1]})`;
      case "sub":
        return `(${a[0]} - ${a[1]})`;
      case "mul":
        return `(${a[0]} * ${a[1]})`;
      case "div":
        // KQL divides integers as integers; both stores do too, and answer NULL for a zero divisor here.
        // A real quotient of whole operands (timespan / timespan) divides as reals.
        if (e.type === "real") return `(${pg ? `(${a[0]})::double precision` : `cast(${a[0]} as real)`} / nullif(${a[1]}, 0))`;
        return `(${a[0]} / nullif(${a[1]}, 0))`;
      case "mod":
        return `(${a[0]} % nullif(${a[1]}, 0))`;
      case "neg":
        return `(- ${a[0]})`;
      case "tolower":
        return `lower(${a[0]})`;
      case "toupper":
        return `upper(${a[0]})`;
      case "strlen":
        return pg ? `length(${a[0]})::bigint` : `length(${a[0]})`;
      case "strcat":
        return `(${a.map((x) => `coalesce(${x}, '')`).join(" || ")})`;
      case "substring": {
        const int = (x: string) => (pg ? `(${x})::integer` : x);
        const start = int(`(case when ${a[1]} < 0 then 0 else ${a[1]} end) + 1`);
        return a.length > 2 ? `coalesce(substr(${a[0]}, ${start}, ${int(a[2]!)}), '')` : `coalesce(substr(${a[0]}, ${start}), '')`;
      }
      case "tostring":
        if (t0 === "bool") return `(case when ${a[0]} then 'true' when not ${a[0]} then 'false' else '' end)`;
        return pg ? `coalesce((${a[0]})::text, '')` : `coalesce(cast(${a[0]} as text), '')`;
      case "tolong":
      case "toint":
        if (this.isText(t0)) {
          return pg
            ? `(case when trim(${a[0]}) ~ '^[-+]?[0-9]{1,18}$' then trim(${a[0]})::bigint end)`
            : `(case when trim(${a[0]}) <> '' and trim(${a[0]}) not glob '*[^0-9+-]*' then cast(trim(${a[0]}) as integer) end)`;
        }
        return pg ? `trunc(${a[0]})::bigint` : `cast(${a[0]} as integer)`;
      case "todouble":
        if (this.isText(t0)) {
          return pg
            ? `(case when trim(${a[0]}) ~ '^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$' then trim(${a[0]})::double precision end)`
            : `(case when trim(${a[0]}) <> '' and trim(${a[0]}) not glob '*[^0-9.eE+-]*' then cast(trim(${a[0]}) as real) end)`;
        }
        return pg ? `(${a[0]})::double precision` : `cast(${a[0]} as real)`;
      case "tobool":
        return `(lower(${a[0]}) = 'true')`;
      case "round":
        return pg ? `round((${a[0]})::numeric, (${a[1] ?? "0"})::integer)::double precision` : `round(${a[0]}, ${a[1] ?? "0"})`;
      case "floor_number":
        // bin(x, size) on numbers: floor(x / size) * size.
        return pg ? `(floor((${a[0]})::double precision / ${a[1]}) * ${a[1]})` : `(cast(floor(${a[0]} * 1.0 / ${a[1]}) as integer) * ${a[1]})`;
      case "bin_datetime": {
        // The instant floored to a multiple of `seconds` since the Unix epoch, as the stored ISO text.
        if (pg) {
          return `to_char(to_timestamp(floor(extract(epoch from (${a[0]})::timestamptz) / ${a[1]}) * ${a[1]}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
        }
        return `strftime('%Y-%m-%dT%H:%M:%fZ', (cast(strftime('%s', ${a[0]}) as integer) / ${a[1]}) * ${a[1]}, 'unixepoch')`;
      }
      case "coalesce":
        return `coalesce(${a.join(", ")})`;
      case "matches_regex": {
        const pattern = String((e.args[1] as { value: unknown }).value);
        if (pg) return `(${a[0]} ~ ${str(checkRegex(pattern, "match").postgres)})`;
        return `${REGEX_MATCH_FUNCTION}(${a[0]}, ${str(pattern)})`;
      }
      case "extract": {
        const pattern = String((e.args[0] as { value: unknown }).value);
        const group = Number((e.args[1] as { value: unknown }).value);
        if (pg) {
          // regexp_match answers the groups; the whole pattern is made group 1 so that group 0 is there too.
          return `coalesce((regexp_match(${a[2]}, ${str(checkRegex(pattern, "extract").postgresGrouped)}))[${num(group + 1)}], '')`;
        }
        return `coalesce(${REGEX_EXTRACT_FUNCTION}(${str(pattern)}, ${num(group)}, ${a[2]}), '')`;
      }
      case "datetime_add":
        return this.fromEpochMs(`${this.epochMs(a[0]!)} + ${a[1]}`);
      case "datetime_diff":
        return `(${this.epochMs(a[0]!)} - ${this.epochMs(a[1]!)})`;
      case "todatetime":
        // Text that is no datetime is null, as in Kusto (SQLite's strftime says so; PostgreSQL's cast would fail).
        if (pg) return `(case when ${a[0]} ~ ${str(ISO_DATETIME)} then ${this.fromEpochMs(this.epochMs(a[0]!))} end)`;
        return this.fromEpochMs(this.epochMs(a[0]!));
      case "array_length": {
        const src = e.args[0]!.k === "path" ? this.path(e.args[0] as Extract<Expr, { k: "path" }>, "json") : a[0]!;
        return pg
          ? `(case when jsonb_typeof((${src})::jsonb) = 'array' then jsonb_array_length((${src})::jsonb) end)::bigint`
          : `(case when json_valid(${src}) and json_type(${src}) = 'array' then json_array_length(${src}) end)`;
      }
    }
  }

  private aggregate(g: Aggregate): string {
    const plain = this.plainAggregate(g);
    if (!g.where) return plain;
    // An aggregate with a condition: the same aggregate over the rows where it holds (0 for a count of none).
    const filtered = this.plainAggregate({ ...g, where: undefined }, this.expr(g.where));
    return g.fn === "count" || g.fn === "dcount" ? `coalesce(${filtered}, 0)` : filtered;
  }

  private plainAggregate(g: Aggregate, condition?: string): string {
    const pg = this.dialect === "postgres";
    const x = g.arg ? this.expr(g.arg) : "";
    const also = condition ? ` and (${condition})` : "";
    const only = condition ? ` filter (where ${condition})` : "";
    const t = g.arg?.type ?? "long";
    switch (g.fn) {
      case "count":
        return pg ? `(count(*)${only})::bigint` : `count(*)${only}`;
      case "countif":
        return pg ? `count(*) filter (where ${x})` : `coalesce(sum(case when ${x} then 1 else 0 end), 0)`;
      case "dcount":
        return pg ? `(count(distinct ${x})${only})::bigint` : `count(distinct ${x})${only}`;
      case "min":
        return `min(${this.ordered(x, t)})${only}`;
      case "max":
        return `max(${this.ordered(x, t)})${only}`;
      case "sum":
        return pg ? `(sum(${x})${only})::${pgType(g.type)}` : `sum(${x})${only}`;
      case "avg":
        return pg ? `(avg(${x})${only})::double precision` : `avg(${x})${only}`;
      case "make_set":
        return pg
          ? `coalesce(json_agg(distinct ${x}) filter (where ${x} is not null${also}), '[]')::text`
          : `coalesce(json_group_array(distinct ${x}) filter (where ${x} is not null${also}), '[]')`;
      case "make_list":
        return pg
          ? `coalesce(json_agg(${x}) filter (where ${x} is not null${also}), '[]')::text`
          : `coalesce(json_group_array(${x}) filter (where ${x} is not null${also}), '[]')`;
      case "take_any":
        return `min(${this.ordered(x, t)})${only}`;
    }
  }

  // ---- operators ----

  plan(p: Plan): string {
    switch (p.op) {
      case "table":
        return p.table === "AlertInfo" ? this.alertInfo() : this.alertEvidence();
      case "where":
        return `select * from (${this.plan(p.input)}) as ${this.alias()} where ${this.bool(this.expr(p.predicate))}`;
      case "project":
        return `select ${p.items.map((i) => `${this.output(i.expr)} as ${ident(i.name)}`).join(", ") || "1 as x"} from (${this.plan(p.input)}) as ${this.alias()}`;
      case "sort":
        return (
          `select * from (${this.plan(p.input)}) as ${this.alias()} order by ` +
          p.keys.map((k) => `${this.ordered(this.expr(k.expr), k.expr.type)} ${k.desc ? "desc" : "asc"} nulls ${k.nullsFirst ? "first" : "last"}`).join(", ")
        );
      case "limit":
        return `select * from (${this.plan(p.input)}) as ${this.alias()} limit ${num(Math.max(0, Math.floor(p.count)))}`;
      case "distinct":
        return `select distinct ${p.columns.map((c) => ident(c.name)).join(", ")} from (${this.plan(p.input)}) as ${this.alias()}`;
      case "summarize": {
        const by = p.by.map((b) => `${this.expr(b.expr)} as ${ident(b.name)}`);
        const aggs = p.aggregates.map((g) => `${this.aggregate(g)} as ${ident(g.name)}`);
        const order = [...p.by.map((b) => b.name), ...p.aggregates.map((g) => g.name)];
        const inner = `select ${[...by, ...aggs].join(", ")} from (${this.plan(p.input)}) as ${this.alias()}${p.by.length ? ` group by ${p.by.map((_, i) => String(i + 1)).join(", ")}` : ""}`;
        // The output keeps the plan's column order (by-columns first, as KQL does).
        return `select ${p.columns.map((c) => ident(c.name)).join(", ")} from (${inner}) as ${this.alias()}${order.length ? "" : ""}`;
      }
      case "join":
        return this.join(p);
      case "expand":
        return this.expand(p);
      case "first": {
        const partition = p.partition.map((e) => this.expr(e));
        const order = p.order.length
          ? p.order.map((k) => `${this.ordered(this.expr(k.expr), k.expr.type)} ${k.desc ? "desc" : "asc"} nulls ${k.nullsFirst ? "first" : "last"}`)
          : partition.length
            ? partition
            : ["1"];
        const ranked = `select *, row_number() over (${partition.length ? `partition by ${partition.join(", ")} ` : ""}order by ${order.join(", ")}) as "__first" from (${this.plan(p.input)}) as ${this.alias()}`;
        return `select ${p.columns.map((c) => ident(c.name)).join(", ")} from (${ranked}) as ${this.alias()} where "__first" = 1`;
      }
      case "values": {
        if (p.rows.length === 0) {
          return `select ${p.columns.map((c) => `${this.literal(null, c.type)} as ${ident(c.name)}`).join(", ")} where ${this.falseSql()}`;
        }
        return p.rows.map((row) => `select ${row.map((v, i) => `${this.expr(v)} as ${ident(p.columns[i]!.name)}`).join(", ")}`).join(" union all ");
      }
      case "unpack":
        // runHuntingPlan reads the bag's properties and turns this into a project first.
        throw new Error("bag_unpack must be resolved against the data before it is rendered");
      case "union": {
        const parts = p.inputs.map((input) => {
          const have = new Set(input.columns.map((c) => c.name));
          const sel = p.columns.map((c) => (have.has(c.name) ? ident(c.name) : `${this.literal(null, c.type)} as ${ident(c.name)}`)).join(", ");
          return `select ${sel} from (${this.plan(input)}) as ${this.alias()}`;
        });
        return parts.join(" union all ");
      }
    }
  }

  private expand(p: Extract<Plan, { op: "expand" }>): string {
    const pg = this.dialect === "postgres";
    const a = this.alias();
    const src = `${a}."__src"`;
    const inner = `select *, ${this.output(p.source)} as "__src" from (${this.plan(p.input)}) as ${this.alias()}`;
    const type = p.columns.find((c) => c.name === p.target)?.type ?? "dynamic";
    let element: string;
    let from: string;
    if (pg) {
      from = `(${inner}) as ${a} cross join lateral jsonb_array_elements(case when jsonb_typeof((${src})::jsonb) = 'array' then (${src})::jsonb else '[]'::jsonb end) as e(v)`;
      element = type === "dynamic" ? "e.v::text" : type === "string" ? `(e.v #>> '{}')` : `(e.v #>> '{}')::${pgType(type)}`;
    } else {
      from = `(${inner}) as ${a}, json_each(case when json_valid(${src}) and json_type(${src}) = 'array' then ${src} else '[]' end) as e`;
      element =
        type === "dynamic"
          ? `(case e.type when 'object' then e.value when 'array' then e.value when 'true' then 'true' when 'false' then 'false' when 'null' then null else json_quote(e.value) end)`
          : type === "string"
            ? `(case when e.type in ('object', 'array') then e.value else cast(e.atom as text) end)`
            : `cast(e.atom as ${type === "real" ? "real" : "integer"})`;
    }
    const cols = p.columns.map((c) => (c.name === p.target ? `${element} as ${ident(c.name)}` : `${a}.${ident(c.name)} as ${ident(c.name)}`));
    return `select ${cols.join(", ")} from ${from}`;
  }

  private join(p: Extract<Plan, { op: "join" }>): string {
    const l = this.alias();
    const r = this.alias();
    const leftPlan: Plan =
      p.kind === "innerunique"
        ? {
            op: "first",
            input: p.left,
            partition: p.on.map((k) => ({ k: "col", name: k.left, type: p.left.columns.find((c) => c.name === k.left)?.type ?? "string" })),
            order: [],
            columns: p.left.columns,
          }
        : p.left;
    const left = this.plan(leftPlan);
    const right = this.plan(p.right);
    // On SQLite the time limit is checked for every pair of rows a join examines, as for every row a table scan reads.
    const guard = this.dialect === "sqlite" ? ` and ${DEADLINE_FUNCTION}()` : "";
    const on = p.on.map((k) => `${l}.${ident(k.left)} = ${r}.${ident(k.right)}`).join(" and ") + guard;
    if (p.kind === "leftsemi" || p.kind === "leftanti") {
      const exists = `exists (select 1 from (${right}) as ${r} where ${on})`;
      return `select ${p.columns.map((c) => `${l}.${ident(c.name)} as ${ident(c.name)}`).join(", ")} from (${left}) as ${l} where ${p.kind === "leftanti" ? "not " : ""}${exists}`;
    }
    const cols = p.sources.map((s, i) => {
      const c = p.columns[i]!;
      const ref = `${s.side === "left" ? l : r}.${ident(s.name)}`;
      // An unmatched row of a left outer join has empty strings on the right, as KQL strings are never null.
      const value = p.kind === "leftouter" && s.side === "right" && c.type === "string" ? `coalesce(${ref}, '')` : ref;
      return `${value} as ${ident(c.name)}`;
    });
    return `select ${cols.join(", ")} from (${left}) as ${l} ${p.kind === "leftouter" ? "left join" : "inner join"} (${right}) as ${r} on ${on}`;
  }
}

/** The datetime texts todatetime() reads on PostgreSQL: ISO 8601 dates, with a time and an offset or not. */
const ISO_DATETIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$";

/** Characters a KQL term ends at, for `has` and its kin. Letters, digits and `_` make up terms. */
export const TERM_DELIMITERS = [..." .,;:/\\-()[]{}\"'=@|!?*&%#+<>~`^$\t\n\r"];

function pgType(t: KqlType): string {
  switch (t) {
    case "long":
      return "bigint";
    case "int":
      return "integer";
    case "real":
      return "double precision";
    case "bool":
      return "boolean";
    case "timespan":
      return "double precision";
    default:
      return "text";
  }
}

/** The SQL of a hunting plan over `tenantId`'s alerts within `window`, for the store's dialect. */
export function huntingSql(dialect: Dialect, plan: Plan, tenantId: string, window: HuntingWindow, maxRows = MAX_HUNTING_ROWS): string {
  const r = new Renderer(dialect, tenantId, window);
  const body = r.plan(plan);
  return `select ${plan.columns.map((c) => ident(c.name)).join(", ")} from (${body}) as result limit ${maxRows + 1}`;
}

/** A hunting query that returned more rows than allowed: a 400, told apart from the others for the metrics. */
export class HuntingRowLimit extends GraphError {
  constructor(maxRows: number) {
    super(
      400,
      "BadRequest",
      `The query returned more than ${maxRows.toLocaleString("en-US")} rows, the most a hunting query may return. Narrow it with where, take or summarize.`,
    );
  }
}

export interface HuntingRows {
  columns: HuntingColumn[];
  rows: unknown[][];
}

/** Runs a hunting plan for a tenant within its window and time limit; throws a GraphError on too many rows. */
export async function runHuntingPlan(
  store: Store,
  plan: Plan,
  tenantId: string,
  window: HuntingWindow,
  timeoutMs: number,
  maxRows = MAX_HUNTING_ROWS,
): Promise<HuntingRows> {
  const started = Date.now();
  let rows: unknown[][];
  try {
    if (plan.op === "unpack") plan = await resolveUnpack(store, plan, tenantId, window, timeoutMs);
    const text = huntingSql(store.dialect, plan, tenantId, window, maxRows);
    rows = await runBoundedRead(store, { sql: text }, [], { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
  } catch (e) {
    throw dataError(e) ?? e;
  }
  if (rows.length > maxRows) throw new HuntingRowLimit(maxRows);
  const columns = plan.columns;
  return { columns, rows: rows.map((row) => row.map((v, i) => normalize(v, columns[i]!.type))) };
}

/** The most columns evaluate bag_unpack may add. */
export const MAX_UNPACKED_COLUMNS = 500;

/** The SQL listing the distinct property names of an unpack's bag over its input, at most `limit` of them. */
export function unpackKeysSql(dialect: Dialect, p: Extract<Plan, { op: "unpack" }>, tenantId: string, window: HuntingWindow, limit: number): string {
  const r = new Renderer(dialect, tenantId, window);
  const bag = `q.${ident(p.bag)}`;
  const keys =
    dialect === "postgres"
      ? `select distinct k from (${r.plan(p.input)}) as q cross join lateral jsonb_object_keys(case when jsonb_typeof((${bag})::jsonb) = 'object' then (${bag})::jsonb else '{}'::jsonb end) as k`
      : `select distinct e.key from (${r.plan(p.input)}) as q, json_each(case when json_valid(${bag}) and json_type(${bag}) = 'object' then ${bag} else '{}' end) as e`;
  return `select * from (${keys}) as keys order by 1 limit ${num(limit)}`;
}

/**
 * evaluate bag_unpack without an output schema: its properties are read from the data first (at most
 * MAX_UNPACKED_COLUMNS), each becoming a dynamic column after the input's columns, as a project.
 */
async function resolveUnpack(store: Store, p: Extract<Plan, { op: "unpack" }>, tenantId: string, window: HuntingWindow, timeoutMs: number): Promise<Plan> {
  const found = await runBoundedRead(store, { sql: unpackKeysSql(store.dialect, p, tenantId, window, MAX_UNPACKED_COLUMNS + 1) }, [], { timeoutMs });
  if (found.length > MAX_UNPACKED_COLUMNS)
    throw badRequest(
      `evaluate bag_unpack() would add more than ${MAX_UNPACKED_COLUMNS} columns; declare the ones wanted: evaluate bag_unpack(Bag) : (*, Name:string, …).`,
    );
  const kept = new Map(p.columns.map((c) => [c.name, c]));
  const added: { name: string; key: string }[] = [];
  for (const [k] of found) {
    const key = String(k);
    const name = p.prefix + key;
    if (kept.has(name))
      throw badRequest(
        `evaluate bag_unpack(): the property '${key.slice(0, 100)}' has the name of an existing column; give a column prefix: bag_unpack(Bag, "prefix_").`,
      );
    added.push({ name, key });
  }
  const bag: Expr = { k: "col", name: p.bag, type: "dynamic" };
  const items = [
    ...[...kept.values()].map((c) => ({ name: c.name, expr: { k: "col", name: c.name, type: c.type } as Expr })),
    ...added.map((a) => ({ name: a.name, expr: { k: "path", source: bag, path: [a.key], type: "dynamic" } as Expr })),
  ];
  return { op: "project", input: p.input, items, columns: items.map((i) => ({ name: i.name, type: i.expr.type })) };
}

/** A timespan (milliseconds) as Kusto writes one: [-][d.]hh:mm:ss[.fffffff]. */
export function formatTimespan(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const ticks = Math.round(Math.abs(ms) * 10_000);
  const seconds = Math.floor(ticks / 10_000_000);
  const fraction = ticks % 10_000_000;
  const days = Math.floor(seconds / 86_400);
  const two = (n: number) => String(n).padStart(2, "0");
  const clock = `${two(Math.floor((seconds % 86_400) / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
  return `${sign}${days ? `${days}.` : ""}${clock}${fraction ? `.${String(fraction).padStart(7, "0")}` : ""}`;
}

/**
 * An error the data caused rather than the service: text that is not JSON where a query reads it as
 * JSON, a number out of range. It is the query's to fix, so a 400 that says what happened.
 */
function dataError(e: unknown): Error | undefined {
  if (!(e instanceof Error) || "status" in e) return undefined;
  const code = (e as { code?: unknown }).code;
  // PostgreSQL: class 22 (data exception), and 42883/42804 (no function or operator for these types).
  const pgData = typeof code === "string" && (code.startsWith("22") || code === "42883" || code === "42804");
  const sqliteData = typeof code === "string" && code.startsWith("SQLITE_") && /malformed JSON|JSON path|overflow|too big/i.test(e.message);
  if (!pgData && !sqliteData) return undefined;
  return badRequest(`The query failed on a value it read: ${e.message.slice(0, 200)}. Check the columns it parses or converts (parse_json, todouble, tolong).`);
}

/** Values as KQL types them, whatever the store's driver answered (PostgreSQL bigint as text, SQLite booleans as 0/1). */
function normalize(v: unknown, type: KqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "long":
    case "int":
    case "real":
      return typeof v === "number" ? v : Number(v);
    case "bool":
      return v === true || v === 1 || v === "1" || v === "t";
    case "timespan":
      return formatTimespan(Number(v));
    case "dynamic":
      if (typeof v !== "string") return v;
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    default:
      return typeof v === "string" ? v : String(v);
  }
}
