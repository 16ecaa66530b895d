// Generates the configuration reference from the schema: docs/configuration.md (every key with its type,
// default and description, by section) and config/forwarder.reference.yaml (every key set to its default
// or an example, with a comment). `npm run docs` writes both; test/unit/config/docs.test.ts fails when the
// files in the repository differ from what this makes. Descriptions live beside each key (key-doc.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { z } from "zod";
import { type KeyDoc, keyDocs, type ValueType } from "./key-doc.js";
import { markdownTable } from "./markdown-table.js";
import { configSchema } from "./schema.js";
import { elementOf, shapeOf, type Unwrapped, unwrap } from "./schema-walk.js";
import { formatByteSize, formatDuration } from "./types.js";

type Schema = z.core.$ZodType;

const WIDTH = 110;
/** Enum values listed in the type column up to this length; longer lists go under the table. */
const SHORT_ENUM = 30;

interface Key {
  /** Relative to the section: `tls.ca_file`. */
  readonly label: string;
  readonly key: string;
  readonly schema: Schema;
  readonly doc: KeyDoc;
  readonly info: Unwrapped;
}

/** A description longer than this goes to `details`: the table must read well in a terminal. */
const MAX_DESCRIPTION = 80;

function docOf(schema: Schema, where: string): KeyDoc {
  const doc = keyDocs.get(schema) ?? keyDocs.get(elementOf(schema) ?? schema);
  if (doc === undefined) throw new Error(`config key ${where} has no description (register it in keyDocs)`);
  if (doc.description.length > MAX_DESCRIPTION) {
    throw new Error(
      `config key ${where}: the description is over ${MAX_DESCRIPTION} characters; move the rest to details`,
    );
  }
  return doc;
}

/** The keys of an object section, nested objects flattened as `parent.child` after their parent. */
function keysOf(schema: Schema, prefix: string): Key[] {
  const out: Key[] = [];
  for (const [key, child] of shapeOf(schema)) {
    const label = prefix === "" ? key : `${prefix}.${key}`;
    out.push({ label, key, schema: child, doc: docOf(child, label), info: unwrap(child) });
    out.push(...keysOf(child, label));
  }
  return out;
}

function sections(): Array<{ name: string; schema: Schema; list: boolean; doc: KeyDoc }> {
  return shapeOf(configSchema).map(([name, schema]) => {
    const element = elementOf(schema);
    return { name, schema: element ?? schema, list: element !== undefined, doc: docOf(schema, name) };
  });
}

// ---------- values ----------

function enumValues(info: Unwrapped): string[] | undefined {
  const def: z.core.$ZodTypeDef = info.core._zod.def;
  if (def.type !== "enum") return undefined;
  return Object.values((def as z.core.$ZodEnumDef).entries).map(String);
}

function rangeText(t: ValueType): string {
  if (t.type === "duration") return t.min ? `duration ≥ ${formatDuration(t.min)}` : "duration";
  if (t.type === "size") {
    return t.max !== undefined && t.max < Number.MAX_SAFE_INTEGER
      ? `size ${formatByteSize(t.min ?? 0)}-${formatByteSize(t.max)}`
      : "size";
  }
  if (t.type === "integer") {
    const n = (v: number) => v.toLocaleString("en-US");
    if (t.min !== undefined && t.max !== undefined) return `integer ${n(t.min)}-${n(t.max)}`;
    if (t.min !== undefined) return `integer ≥ ${n(t.min)}`;
    return "integer";
  }
  if (t.type === "name") return "`[a-z0-9_-]+`, ≤ 64";
  if (t.type === "url") return "URL";
  return t.type;
}

function typeText(info: Unwrapped): string {
  if (info.valueType !== undefined) return rangeText(info.valueType);
  const values = enumValues(info);
  if (values !== undefined) {
    const list = values.join(", ");
    return list.length <= SHORT_ENUM ? list : "see below";
  }
  const def: z.core.$ZodTypeDef = info.core._zod.def;
  switch (def.type) {
    case "array": {
      const element = unwrap((def as z.core.$ZodArrayDef).element);
      const inner = typeText(element);
      return inner === "see below" ? "list (see below)" : `list of ${element.valueType ? inner : "text"}`;
    }
    case "record":
      return "map";
    case "object":
      return "object";
    case "union":
      return "list or text";
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    default:
      return "text";
  }
}

/** A YAML value: plain when YAML reads it back as the same string, quoted otherwise; flow collections. */
function yamlValue(value: unknown): string {
  const text = stringify(value, { collectionStyle: "flow", lineWidth: 0 }).trimEnd();
  return text.replace(/^\[ (.*) \]$/, "[$1]");
}

/** The default as the file would say it (`2h`, not 7200000). */
function defaultValue(key: Key): unknown {
  const value = key.info.defaultValue;
  if (typeof value !== "number") return value;
  if (key.info.valueType?.type === "duration") return formatDuration(value);
  if (key.info.valueType?.type === "size") return formatByteSize(value);
  return value;
}

function defaultText(key: Key): string {
  if (key.doc.default !== undefined) return key.doc.default;
  if (key.info.hasDefault) return `\`${yamlValue(defaultValue(key))}\``;
  if (key.info.prefault) return "";
  return key.info.optional ? "unset" : "required";
}

// ---------- Markdown ----------

function wrap(text: string, width = WIDTH, prefix = ""): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(prefix + line);
  return lines.join("\n");
}

/** Paragraphs wrapped to the width; tables and other blocks that start with `|` are kept as they are. */
function paragraphs(text: string): string {
  return text
    .split("\n\n")
    .map((p) => (p.startsWith("|") ? p : wrap(p)))
    .join("\n\n");
}

function sectionMarkdown(section: ReturnType<typeof sections>[number]): string {
  const keys = keysOf(section.schema, "");
  const header = ["key", "type", "default", "description"];
  const rows = keys.map((k) => [
    `\`${k.label}\``,
    k.doc.secret ? "secret" : typeText(k.info),
    defaultText(k),
    k.doc.sources === undefined
      ? k.doc.description
      : `${k.doc.sources.join(", ")} only: ${k.doc.description.charAt(0).toLowerCase()}${k.doc.description.slice(1)}`,
  ]);
  const notes: string[] = [];
  for (const k of keys) {
    const values = enumValues(k.info) ?? enumValues(unwrap(elementOf(k.schema) ?? k.schema));
    const long = values !== undefined && values.join(", ").length > SHORT_ENUM;
    const parts = [
      ...(k.doc.secret
        ? [
            `A secret: never logged, masked by \`check-config\`; \`${k.key}_file\` reads it from a file instead ` +
              "(a Docker secret, a systemd credential).",
          ]
        : []),
      ...(long ? [`One of ${values.map((v) => `\`${v}\``).join(", ")}.`] : []),
      ...(k.doc.details === undefined ? [] : [k.doc.details]),
    ];
    if (parts.length > 0) notes.push(wrap(`**\`${k.label}\`**: ${parts.join(" ")}`));
  }
  const title = `## \`${section.name}${section.list ? "[]" : ""}\``;
  return [
    title,
    wrap(`${section.doc.description}.`),
    markdownTable(header, rows),
    ...notes,
    ...(section.doc.details === undefined ? [] : [paragraphs(section.doc.details)]),
  ].join("\n\n");
}

export function renderConfigurationMd(): string {
  const root = docOf(configSchema, "(root)");
  const all = sections();
  const toc = all.map((s) => `[\`${s.name}\`](#${s.name})`).join(" · ");
  return `${[
    "# Configuration reference",
    `<!--\n${wrap(
      "Generated from the config schema by `npm run docs` (src/config/docs.ts). Edit the descriptions " +
        "beside each key in src/*/config.ts, not this file: a test fails when the two differ.",
    )}\n-->`,
    paragraphs(root.details ?? ""),
    wrap(`Sections: ${toc}.`),
    ...all.map(sectionMarkdown),
  ].join("\n\n")}\n`;
}

// ---------- reference YAML ----------

/** The YAML comment of a key: what it is, and what it accepts when the value does not show it. */
function comment(key: Key): string {
  const plain = (text: string) => text.replace(/`/g, "");
  const sentences = [`${plain(key.doc.description)}.`];
  if (!key.info.optional && !key.info.hasDefault && !key.info.prefault) sentences.push("Required.");
  if (key.doc.sources !== undefined) sentences.push(`Only for source ${key.doc.sources.join(", ")}.`);
  const values = enumValues(key.info) ?? enumValues(unwrap(elementOf(key.schema) ?? key.schema));
  if (values !== undefined) sentences.push(`Values: ${values.join(" | ")}.`);
  if (key.doc.default !== undefined && !key.info.hasDefault)
    sentences.push(`Default: ${plain(key.doc.default)}.`);
  if (key.doc.secret) sentences.push(`Or ${key.key}_file: a file holding it.`);
  return sentences.join(" ");
}

/** The lines of the keys of one object, at `indent`; in a commented block, examples rather than defaults. */
function yamlKeys(
  schema: Schema,
  indent: string,
  where: string,
  commented: boolean,
  firstLead?: string,
): string[] {
  const lines: string[] = [];
  for (const [index, [name, child]] of shapeOf(schema).entries()) {
    if (index > 0) lines.push("");
    const key: Key = {
      label: name,
      key: name,
      schema: child,
      doc: docOf(child, `${where}.${name}`),
      info: unwrap(child),
    };
    const lead = index === 0 && firstLead !== undefined ? firstLead : indent;
    lines.push(...yamlKey(key, indent, lead, `${where}.${name}`, commented));
  }
  return lines;
}

function yamlKey(key: Key, indent: string, lead: string, where: string, inCommented: boolean): string[] {
  const own = key.doc.reference ?? (key.info.optional && !key.info.hasDefault ? "commented" : "set");
  const commented = inCommented || own === "commented";
  // A commented key keeps its indentation, then `# `.
  const keyLine = (text: string) => (commented ? text.replace(/^(\s*)/, "$1# ") : text);
  // The comment of a list's first key sits at the dash.
  const lines = [wrap(comment(key), WIDTH, `${lead.replace(/- $/, "")}# `)];
  if (unwrap(key.schema).core._zod.def.type === "object") {
    lines.push(keyLine(`${lead}${key.key}:`), ...yamlKeys(key.schema, `${indent}  `, where, commented));
    return lines;
  }
  // A commented key shows an example of what to write; a set one its default.
  const value =
    (commented ? key.doc.example : undefined) ?? (key.info.hasDefault ? defaultValue(key) : key.doc.example);
  if (value === undefined) throw new Error(`config key ${where} needs an example for the reference YAML`);
  lines.push(keyLine(`${lead}${key.key}: ${yamlValue(value)}`));
  if (key.doc.secret) lines.push(`${indent}# ${key.key}_file: /run/secrets/${key.key}`);
  return lines;
}

const YAML_HEADER = [
  "mde-siem-forwarder: every configuration key, set to its default (or an example), with what it does.",
  "Generated from the config schema by `npm run docs`; docs/configuration.md explains each key, and",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
  "forwarder.example.yaml is a minimal file. Durations: 250ms, 30s, 5m, 2h, 7d. ${VAR} and ${VAR:-default}",
  "expand from the environment ($$ is a literal $); every secret key x also accepts x_file, a file holding it.",
  "http:// URLs are accepted only for loopback hosts (the simulator); anything else must be https://.",
];

export function renderReferenceYaml(): string {
  const out = YAML_HEADER.map((l) => `# ${l}`);
  for (const section of sections()) {
    out.push("");
    const key: Key = {
      label: section.name,
      key: section.name,
      schema: section.schema,
      doc: section.doc,
      info: unwrap(shapeOf(configSchema).find(([n]) => n === section.name)?.[1] ?? section.schema),
    };
    if (section.list) {
      out.push(wrap(comment(key), WIDTH, "# "), `${section.name}:`);
      out.push(...yamlKeys(section.schema, "    ", section.name, false, "  - "));
    } else {
      out.push(...yamlKey(key, "", "", section.name, false));
    }
  }
  return `${out.join("\n")}\n`;
}

// ---------- npm run docs ----------

export const GENERATED = [
  { path: "docs/configuration.md", render: renderConfigurationMd },
  { path: "config/forwarder.reference.yaml", render: renderReferenceYaml },
] as const;

const root = new URL("../../", import.meta.url);

/** Writes the generated files; with `--check`, only says which are stale (exit 1). */
function main(args: readonly string[]): number {
  const check = args.includes("--check");
  let stale = 0;
  for (const { path, render } of GENERATED) {
    const file = new URL(path, root);
    const text = render();
    let current: string | undefined;
    try {
      current = readFileSync(file, "utf8");
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    stale++;
    if (check) process.stderr.write(`${path} is stale: run npm run docs\n`);
    else {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
