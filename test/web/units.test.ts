import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildFilter, buildOrderBy, DEFAULT_QUERY, isFiltered, parseQuery, toSearch } from "../../web/src/queue-filter.js";
import { sha256 } from "../../web/src/sha256.js";

/** The web app's pure parts: the queue's URL state and its Graph query, and the PKCE hash fallback. */

describe("the queue's URL state", () => {
  it("round-trips through the URL, keeping only what differs from the defaults", () => {
    expect(parseQuery("")).toEqual(DEFAULT_QUERY);
    expect(toSearch(DEFAULT_QUERY)).toBe("");
    const search =
      "?status=active,inProgress&severity=high&assigned=me&classification=truePositive&determination=malware&tags=vip,ransom&source=antivirus&time=updated&from=2026-10-01&to=2026-10-31&q=power+shell&sort=priorityScore&dir=asc&page=3&size=50";
    const q = parseQuery(search);
    expect(q).toMatchObject({
      status: ["active", "inProgress"],
      severity: ["high"],
      assigned: "me",
      tags: ["vip", "ransom"],
      timeField: "updated",
      q: "power shell",
      page: 3,
      size: 50,
      dir: "asc",
    });
    expect(parseQuery(toSearch(q))).toEqual(q);
    expect(isFiltered(q)).toBe(true);
    expect(isFiltered({ ...DEFAULT_QUERY, sort: "id", page: 4 })).toBe(false);
  });

  it("drops what is not valid instead of passing it to the API", () => {
    const q = parseQuery("?status=active,x')or(1&severity=high;drop&assigned=everyone&from=yesterday&sort=evil&page=-1&size=1000&source=a'b");
    expect(q).toEqual({ ...DEFAULT_QUERY, status: ["active"] });
  });
});

describe("the queue's $filter", () => {
  it("combines the filters with and, enum lists with in, and quotes every literal", () => {
    const q = parseQuery("?status=active,inProgress&severity=high&assigned=unassigned&classification=truePositive&tags=o'brien&from=2026-10-01&to=2026-10-31");
    expect(buildFilter(q, "me@contoso.com")).toBe(
      "status in ('active','inProgress') and severity eq 'high' and assignedTo eq null and classification eq 'truePositive' and customTags/any(t: t eq 'o''brien') and createdDateTime ge 2026-10-01T00:00:00Z and createdDateTime lt 2026-11-01T00:00:00Z",
    );
    expect(buildFilter(parseQuery("?assigned=me&time=updated&to=2026-12-31"), "o'neil@contoso.com")).toBe(
      "assignedTo eq 'o''neil@contoso.com' and lastUpdateDateTime lt 2027-01-01T00:00:00Z",
    );
  });

  it("searches names case-insensitively, and ids too when the text is a number", () => {
    expect(buildFilter(parseQuery("?q=PowerShell"), "")).toBe("contains(tolower(displayName),'powershell')");
    expect(buildFilter(parseQuery("?q=%2342&severity=low"), "")).toBe("severity eq 'low' and (id eq '42' or contains(tolower(displayName),'#42'))");
  });

  it("limits to the incidents of a detection source by id", () => {
    expect(buildFilter(DEFAULT_QUERY, "", ["3", "7"])).toBe("id in ('3','7')");
    expect(buildFilter(DEFAULT_QUERY, "", [])).toBe("id eq '0'");
    expect(buildFilter(DEFAULT_QUERY, "")).toBe("");
  });

  it("orders by the chosen key, then by id", () => {
    expect(buildOrderBy(DEFAULT_QUERY)).toBe("createdDateTime desc,id desc");
    expect(buildOrderBy({ ...DEFAULT_QUERY, sort: "id", dir: "asc" })).toBe("id asc");
  });
});

describe("the SHA-256 fallback for PKCE", () => {
  it("matches node:crypto", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = randomBytes(n);
      expect(Buffer.from(sha256(new Uint8Array(data))).toString("hex"), `${n} bytes`).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });
});
