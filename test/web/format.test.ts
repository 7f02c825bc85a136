import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { timeFormat } from "../../web/src/format.js";
import { isEnumProperty, labelCodes } from "../../web/src/model.js";

/** How the web app writes times and server text: one time format, enum members in words. */

const WEB_SRC = fileURLToPath(new URL("../../web/src/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe("the app's one time format", () => {
  it("shows an instant with the year and a 24-hour clock, in the given locale and time zone", () => {
    const us = timeFormat("en-US", "UTC");
    expect(us.time("2026-10-31T22:04:59Z")).toBe("Oct 31, 2026, 22:04");
    expect(us.time("2026-01-02T03:04:00.000Z")).toBe("Jan 2, 2026, 03:04");
    expect(timeFormat("en-US", "America/New_York").time("2026-10-31T22:04:59Z")).toBe("Oct 31, 2026, 18:04");
    expect(timeFormat("de-DE", "Europe/Berlin").time("2026-10-31T22:04:59Z")).toBe("31. Okt. 2026, 23:04");
  });

  it("says when there is no time, and shows what is not one as it came", () => {
    const f = timeFormat("en-US", "UTC");
    expect(f.time(null)).toBe("—");
    expect(f.time(undefined)).toBe("—");
    expect(f.time("")).toBe("—");
    expect(f.time("not a date")).toBe("not a date");
  });

  it("shows the dashboard's UTC days as the same dates in any time zone", () => {
    for (const zone of ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"]) {
      expect(timeFormat("en-US", zone).day("2026-10-31")).toBe("Oct 31, 2026");
      expect(timeFormat("en-US", zone).day("2026-10-31", true)).toBe("Oct 31");
    }
  });

  it("is the only way the app's code formats a time", () => {
    // Any other formatter (Intl, toLocale…String, a <time> element written by hand) would bring a second format.
    const offenders: string[] = [];
    for (const file of sources(WEB_SRC)) {
      const name = relative(WEB_SRC, file);
      const text = readFileSync(file, "utf8");
      if (name !== "format.ts" && /Intl\.DateTimeFormat|toLocale(Date|Time)String|toUTCString|toDateString|toTimeString/.test(text))
        offenders.push(`${name}: formats a date itself`);
      if (name !== "format.ts" && name !== join("components", "ui.tsx") && /<time[\s>]/.test(text)) offenders.push(`${name}: writes its own <time>`);
      if (/\bformat(Short|DateTime)\b/.test(text)) offenders.push(`${name}: uses a second time format`);
    }
    expect(offenders).toEqual([]);
  });
});

describe("server text in words", () => {
  it("replaces the enum members in a priority factor's reason with their labels", () => {
    expect(labelCodes("detected by microsoftDefenderForEndpoint")).toBe("detected by Microsoft Defender for Endpoint");
    expect(labelCodes("detected by azureAdIdentityProtection")).toBe("detected by Microsoft Entra ID Protection");
    expect(labelCodes("severity high")).toBe("severity high");
    expect(labelCodes("rarest detector seen 3 times in this tenant")).toBe("rarest detector seen 3 times in this tenant");
  });

  it("knows which audited properties hold enum members", () => {
    for (const p of ["status", "severity", "classification", "determination"]) expect(isEnumProperty(p)).toBe(true);
    for (const p of ["assignedTo", "customTags", "resolvingComment", "comments"]) expect(isEnumProperty(p)).toBe(false);
  });
});
