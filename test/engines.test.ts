import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

/**
 * Triage promises the Node.js lines in package.json's `engines`; npm warns (EBADENGINE) on every
 * install where a dependency declares a range that leaves the running version out. Each dependency's
 * declared range must therefore admit the oldest version of every supported line, and the version
 * running now.
 */

const root = join(import.meta.dirname, "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines: { node: string } };
const supported = manifest.engines.node;
/** The lines Triage is run on by its users. */
const LINES = [20, 22, 24];

/** The oldest version of each line the range admits, e.g. "^20.19.0 || >=24" → 20.19.0, 24.0.0. */
function floors(range: string): string[] {
  return new semver.Range(range).set.map((comparators) => semver.minVersion(comparators.map((c) => c.value).join(" "))!.version);
}

const probes = [...floors(supported), process.versions.node];

/** npm's own test (npm-install-checks): prereleases count, an unparseable range admits nothing. */
function admits(range: string, version: string): boolean {
  return semver.satisfies(version, range, { includePrerelease: true });
}

interface Declared {
  where: string;
  version: string;
  node: string;
}

function excluded(packages: Declared[]): string[] {
  return packages.flatMap((p) => probes.filter((v) => !admits(p.node, v)).map((v) => `${p.where}@${p.version} declares node "${p.node}", which excludes ${v}`));
}

/** Every package installed under a node_modules folder, nested ones included. */
function installed(dir: string): Declared[] {
  if (!existsSync(dir)) return [];
  const found: Declared[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || !entry.isDirectory()) continue;
    const dirs = entry.name.startsWith("@")
      ? readdirSync(join(dir, entry.name), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(dir, entry.name, e.name))
      : [join(dir, entry.name)];
    for (const pkg of dirs) {
      const file = join(pkg, "package.json");
      if (existsSync(file)) {
        const json = JSON.parse(readFileSync(file, "utf8")) as { version?: string; engines?: { node?: unknown } };
        if (typeof json.engines?.node === "string") found.push({ where: pkg.slice(root.length + 1), version: json.version ?? "?", node: json.engines.node });
      }
      found.push(...installed(join(pkg, "node_modules")));
    }
  }
  return found;
}

describe("supported Node.js versions", () => {
  it("engines names Node 20, 22 and 24, and admits the running version", () => {
    expect(probes.length).toBeGreaterThan(1);
    for (const line of LINES) expect(admits(supported, `${line}.99.0`), `Node ${line}`).toBe(true);
    expect(admits(supported, process.versions.node), `running Node ${process.versions.node}`).toBe(true);
  });

  it("every package in the lock allows the oldest supported version of each line and the running one", () => {
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; engines?: { node?: unknown } | string[] }>;
    };
    const declared = Object.entries(lock.packages).flatMap(([where, p]) =>
      where !== "" && p.engines && !Array.isArray(p.engines) && typeof p.engines.node === "string"
        ? [{ where, version: p.version ?? "?", node: p.engines.node }]
        : [],
    );
    expect(declared.length).toBeGreaterThan(100);
    expect(excluded(declared)).toEqual([]);
  });

  it("every installed package allows the oldest supported version of each line and the running one", () => {
    const declared = installed(join(root, "node_modules"));
    expect(declared.length).toBeGreaterThan(100);
    expect(excluded(declared)).toEqual([]);
  });
});
