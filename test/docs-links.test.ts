import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The README and docs/ link to each other and to sections of each other; a page moved or a heading
 * renamed leaves a link that goes nowhere. Every relative link must reach an existing file, and an
 * #anchor into a Markdown file an existing heading of it.
 */

const root = resolve(import.meta.dirname, "..");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith(".md") ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code, where a link or heading is a link or heading. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/(`+)[^`\n]*?\1/g, (code) => code.replace(/[[\]()]/g, " "));
}

/** Link targets: inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
function linkTargets(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defined = [...body.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...defined];
}

/** GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces as hyphens; repeats get -1, -2… */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const headings = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/gm);
  for (const [, raw] of headings) {
    const rendered = raw!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
    const slug = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Every relative link of `file` that goes nowhere, as "file: target (why)". */
export function brokenLinks(file: string, base = root): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(readFileSync(file, "utf8"))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: — not a file here
    const hash = target.indexOf("#");
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const dest = pathPart === "" ? file : pathPart.startsWith("/") ? join(base, pathPart) : resolve(dirname(file), pathPart);
    const where = `${relative(base, file)}: ${target}`;
    if (!existsSync(dest)) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || !dest.endsWith(".md") || statSync(dest).isDirectory()) continue;
    if (!headingAnchors(readFileSync(dest, "utf8")).has(anchor)) problems.push(`${where} (no heading #${anchor} in ${relative(base, dest)})`);
  }
  return problems;
}

const pages = [join(root, "README.md"), join(root, "SECURITY.md"), ...markdownFiles(join(root, "docs"))];

describe("links in the README and docs/", () => {
  it("covers the README and every page of docs/", () => {
    const names = pages.map((p) => relative(root, p));
    expect(names).toEqual(expect.arrayContaining(["README.md", "docs/resources.md", "docs/architecture.md", "docs/security/soak.md"]));
  });

  it.each(pages.map((p) => [relative(root, p), p] as const))("every relative link of %s resolves", (_name, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it("the README links every page of docs/", () => {
    const readme = join(root, "README.md");
    const linked = new Set(linkTargets(readFileSync(readme, "utf8")).map((t) => resolve(root, t.split("#")[0]!)));
    const unlinked = markdownFiles(join(root, "docs"))
      .filter((p) => !linked.has(p))
      .map((p) => relative(root, p));
    expect(unlinked).toEqual([]);
  });
});

describe("the link check itself", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-links-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "target.md"), "# Target page\n\n## The floors of `src/`\n\n## Repeated\n\n## Repeated\n\n```sh\n# not a heading\n```\n");

  function check(markdown: string): string[] {
    const file = join(dir, "page.md");
    writeFileSync(file, markdown);
    return brokenLinks(file, dir);
  }

  it("accepts links to existing files, headings, directories and web pages", () => {
    expect(
      check("[a](target.md) [b](target.md#the-floors-of-src) [c](target.md#repeated-1) [d](./) [e](https://example.com/x#y) [f](#here)\n\n## Here\n"),
    ).toEqual([]);
  });

  it("reports a missing file, a missing heading, a heading inside code, and a missing anchor on the same page", () => {
    expect(check("[a](gone.md) [b](target.md#nowhere) [c](target.md#not-a-heading) [d](#missing)\n[ref]: missing/dir/\n")).toEqual([
      "page.md: gone.md (no such file)",
      "page.md: target.md#nowhere (no heading #nowhere in target.md)",
      "page.md: target.md#not-a-heading (no heading #not-a-heading in target.md)",
      "page.md: #missing (no heading #missing in page.md)",
      "page.md: missing/dir/ (no such file)",
    ]);
  });

  it("ignores what code shows as a link", () => {
    expect(check("`[a](gone.md)`\n\n```md\n[b](gone.md)\n```\n")).toEqual([]);
  });
});
