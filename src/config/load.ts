// Reads the YAML config: parse, expand ${VAR} / ${VAR:-default}, resolve `<secret>_file`, validate with
// the one schema. Every problem is collected with its key path and line, so a user fixes all at once.
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { type Config, configSchema, SECRET_KEYS } from "./schema.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadedConfig {
  config: Config;
  file: string;
  /** Key paths whose value came from a `*_file` (for check-config's output). */
  secretFiles: ReadonlyMap<string, string>;
}

export function loadConfigFile(file: string, env: Env = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const reason = code === "ENOENT" ? "file not found" : `cannot read (${code})`;
    throw new ConfigError([{ path: "", message: reason }], file, "E_CONFIG_READ");
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file = "config", env: Env = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: "", line: lineOf(e.pos[0]), message: `YAML: ${firstLine(e.message)}` })),
      file,
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const issues: ConfigIssue[] = [];
  const locate = (path: readonly PropertyKey[]): number | undefined => lineOf(nodeAt(doc.contents, path));

  const expanded = expandEnv(raw, [], env, (path, message) =>
    issues.push({ path: formatPath(path), line: locate(path), message }),
  );
  const secretFiles = new Map<string, string>();
  resolveSecretFiles(expanded, [], secretFiles, (path, message) =>
    issues.push({ path: formatPath(path), line: locate(path), message }),
  );
  if (issues.length > 0) throw new ConfigError(issues, file);

  const result = configSchema.safeParse(expanded, {
    error: (iss) => (iss.input === undefined && iss.code === "invalid_type" ? "is required" : undefined),
  });
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((iss) => toIssue(iss, locate)),
      file,
    );
  }
  return { config: result.data, file, secretFiles };
}

function toIssue(
  iss: z.core.$ZodIssue,
  locate: (p: readonly PropertyKey[]) => number | undefined,
): ConfigIssue {
  const path = iss.path as PropertyKey[];
  if (iss.code === "unrecognized_keys") {
    const keys = iss.keys;
    const first = keys[0];
    return {
      path: formatPath(path),
      line: locate(first === undefined ? path : [...path, first]),
      message: `unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}`,
    };
  }
  return { path: formatPath(path), line: locate(path), message: iss.message };
}

/** Offset of the node at `path`, or of the nearest ancestor that exists (a missing key points at its parent). */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = root;
  let offset = root?.range?.[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      // The key's line reads best in a message ("port (line 12)"), also when the value is a block below it.
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

const VAR = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}` in every string; `$$` is a literal `$`. */
function expandEnv(
  value: unknown,
  path: PropertyKey[],
  env: Env,
  report: (path: PropertyKey[], message: string) => void,
): unknown {
  if (typeof value === "string") {
    return value.replace(VAR, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$$") return "$";
      const v = name === undefined ? undefined : env[name];
      if (v !== undefined && v !== "") return v;
      if (fallback !== undefined) return fallback;
      report(path, `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
      return "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, [...path, i], env, report));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, [...path, k], env, report);
    return out;
  }
  return value;
}

/** Replaces `client_secret_file: /run/secrets/x` by `client_secret: <file content>` (Docker secrets). */
function resolveSecretFiles(
  value: unknown,
  path: PropertyKey[],
  secretFiles: Map<string, string>,
  report: (path: PropertyKey[], message: string) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      resolveSecretFiles(v, [...path, i], secretFiles, report);
    });
    return;
  }
  if (value === null || typeof value !== "object") return;
  const obj = value as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    const fileKey = `${key}_file`;
    if (!(fileKey in obj)) continue;
    const filePath = obj[fileKey];
    if (key in obj) {
      report([...path, fileKey], `set either ${key} or ${fileKey}, not both`);
    } else if (typeof filePath !== "string" || filePath.trim() === "") {
      report([...path, fileKey], "must be a file path");
    } else {
      try {
        const content = readFileSync(filePath.trim(), "utf8").replace(/\r?\n$/, "");
        if (content === "") report([...path, fileKey], `file ${filePath} is empty`);
        obj[key] = content;
        secretFiles.set(formatPath([...path, key]), filePath.trim());
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "error";
        report([...path, fileKey], `cannot read ${filePath} (${code})`);
      }
    }
    delete obj[fileKey];
  }
  for (const [k, v] of Object.entries(obj)) resolveSecretFiles(v, [...path, k], secretFiles, report);
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
