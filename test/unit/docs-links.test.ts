// Finding 9 of issue 14: the README is a quick start and an index, and the rest lives in docs/. Every relative
// link and #anchor in README.md and docs/*.md must lead somewhere (the file exists; the anchor is a heading of
// the target, slugged as GitHub does), the README must stay small with the two commands on its first screen,
// and tables must stay readable in a terminal.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks, with inline code emptied (a `[x](y)` in code is not a link). */
function prose(markdown: string): string {
  return markdown.replace(/^ *```[\s\S]*?^ *```$/gm, "").replace(/`[^`]*`/g, "``");
}

/** GitHub's heading anchor (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor of a page, duplicates numbered as GitHub numbers them (`name`, `name-1`, ...). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^ *```[\s\S]*?^ *```$/gm, "");
  for (const m of withoutCode.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(m[1] ?? "");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
}

test("slug follows GitHub's rules", () => {
  assert.equal(
    slug("Splunk, Elastic, Microsoft Sentinel (through rsyslog or syslog-ng)"),
    "splunk-elastic-microsoft-sentinel-through-rsyslog-or-syslog-ng",
  );
  assert.equal(slug("`tenants[]`"), "tenants");
  assert.equal(slug("Switching a tenant's source"), "switching-a-tenants-source");
  assert.equal(slug("TCP and TLS"), "tcp-and-tls");
  assert.equal(slug("state reset-checkpoint"), "state-reset-checkpoint");
  assert.deepEqual([...anchors("# A\n## A\n```\n# not a heading\n```\n### A\n")], ["a", "a-1", "a-2"]);
});

test("every relative link and #anchor in README.md and docs/*.md resolves", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), "utf8");
    for (const link of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
      checked++;
      const [path = "", anchor] = link.split("#", 2);
      const target =
        path === "" ? join(ROOT, page) : join(dirname(join(ROOT, page)), decodeURIComponent(path));
      const shown = relative(ROOT, target);
      if (!relative(ROOT, target) || shown.startsWith("..")) {
        broken.push(`${page}: ${link} leaves the repository`);
        continue;
      }
      if (!existsSync(target)) {
        broken.push(`${page}: ${link}: no file ${shown}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!statSync(target).isFile() || !target.endsWith(".md")) {
        broken.push(`${page}: ${link}: an anchor into a file that is not Markdown`);
        continue;
      }
      if (!anchors(readFileSync(target, "utf8")).has(anchor)) {
        broken.push(`${page}: ${link}: no heading "#${anchor}" in ${shown}`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 100, `only ${checked} links checked: the scan is broken`);
});

test("the README stays a quick start: under 30 KB, the two commands in its first screen", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const bytes = Buffer.byteLength(readme);
  assert.ok(bytes < 30_000, `README.md is ${bytes} bytes; move detail to docs/`);
  const firstScreen = readme.split("\n").slice(0, 40).join("\n");
  assert.match(firstScreen, /^npm ci && npm run demo\b/m);
  assert.match(firstScreen, /^npm ci && npm test\b/m);
  // Graph first: the first tenant the README sets up reads Microsoft Graph.
  assert.match(readme, /## Your first real tenant[\s\S]*?SecurityAlert\.Read\.All/);
  for (const page of PAGES.filter((p) => p.startsWith("docs/"))) {
    assert.ok(readme.includes(`](${page})`), `the README links ${page}`);
  }
});

/** The cells of a table row; a `|` inside inline code or escaped does not split. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = "";
  let code = false;
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (c === "\\" && row[i + 1] === "|") {
      cell += "\\|";
      i++;
    } else if (c === "|" && !code) {
      out.push(cell.trim());
      cell = "";
    } else {
      if (c === "`") code = !code;
      cell += c;
    }
  }
  out.push(cell.trim());
  return out;
}

test("tables read in a terminal: no cell over 160 characters, no README line over 120", () => {
  assert.deepEqual(cells("| `a|b` | c \\| d | e |"), ["", "`a|b`", "c \\| d", "e", ""]);
  const long: string[] = [];
  for (const page of PAGES) {
    let fence = false;
    for (const [i, line] of readFileSync(join(ROOT, page), "utf8").split("\n").entries()) {
      if (/^ *```/.test(line)) fence = !fence;
      if (fence || !/^\s*\|/.test(line)) continue;
      for (const cell of cells(line.trim())) {
        const n = [...cell].length;
        if (n > 160) long.push(`${page}:${i + 1}: a cell of ${n} characters`);
      }
    }
  }
  assert.deepEqual(long, [], "move long explanations into a list or paragraph below the table");
  const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
  const wide = readme.flatMap((l, i) =>
    [...l].length > 120 ? [`README.md:${i + 1} (${[...l].length})`] : [],
  );
  assert.deepEqual(wide, []);
});
