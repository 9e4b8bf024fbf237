// Every relative link in README.md and docs/**/*.md points to a file that exists and, with a #fragment, to a heading in it;
// the manual's pages use no changelog words.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith(".md") ? [full] : [];
  });
}

/** The text outside fenced code blocks and inline code, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = (match[1] ?? "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** Relative link targets of one file: `[text](target)` and `![alt](target)`, without external URLs. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] ?? "")
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const files = [path.join(ROOT, "README.md"), ...markdownFiles(path.join(ROOT, "docs"))];

describe("markdown links", () => {
  it("finds the README and the docs pages", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [path.relative(ROOT, f), f]))("every relative link in %s resolves", (_name, file) => {
    const markdown = fs.readFileSync(file, "utf8");
    const broken: string[] = [];
    for (const target of relativeLinks(markdown)) {
      const [filePart = "", fragment] = target.split("#");
      const resolved = filePart === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(filePart));
      if (!fs.existsSync(resolved)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (fragment !== undefined && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(fragment)) {
        broken.push(`${target}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });
});

// Pages describe what is, not how it came to be.
const CHANGELOG_WORDS = /\b(now|no longer|previously|used to|anymore)\b|\bnew:/i;
const MANUAL_PAGES = files;

describe("wording", () => {
  it.each(MANUAL_PAGES.map((f) => [path.relative(ROOT, f), f]))("%s has no changelog words", (_name, file) => {
    const lines = prose(fs.readFileSync(file, "utf8")).split("\n");
    expect(lines.filter((line) => CHANGELOG_WORDS.test(line))).toEqual([]);
  });
});

describe("anchors", () => {
  it("follow GitHub's rules for punctuation, code, dashes and repeats", () => {
    const headings = ["# Authorization (lib/authz)", "## Crash and resume — `e2e/a.spec.ts`", "## Tests", "### Tests"].join("\n");
    expect([...anchors(headings)]).toEqual(["authorization-libauthz", "crash-and-resume--e2easpects", "tests", "tests-1"]);
  });
});
