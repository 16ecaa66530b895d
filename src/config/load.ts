// Reads the YAML config: parse, expand ${VAR} / ${VAR:-default}, resolve `<secret>_file`, validate with
// the one schema. Every problem is collected with its key path and line, so a user fixes all at once.
//
// What comes from where, and what is expanded:
// - The config file and every `*_file` it names are read only if they are regular files within a size
//   limit (read-file.ts): a FIFO, a device such as /dev/zero or a huge file is a config error, never a hang.
// - `$` is special in the YAML's string values only: `${VAR}`, `${VAR:-default}`, and `$$` for a literal `$`;
//   a `${` that starts neither form is an error (write `$${`); any other `$` is kept as is. The value of a
//   variable and the content of a `*_file` are used exactly as they are, never expanded.
import type { z } from "zod";
import { didYouMean } from "../did-you-mean.js";
import { ConfigError, type ConfigIssue, formatPath } from "../errors.js";
import { maskUrlCredentials } from "../url-credentials.js";
import {
  FileRefusedError,
  inspectFile,
  MAX_CA_FILE_BYTES,
  MAX_CONFIG_FILE_BYTES,
  MAX_FILE_BYTES,
  readSmallFile,
} from "./read-file.js";
import { type Config, configSchema, SECRET_KEYS } from "./schema.js";
import type { Env } from "./types.js";
import { parseYaml } from "./yaml.js";

export interface LoadedConfig {
  config: Config;
  file: string;
  /** Key paths whose value came from a `*_file` (for check-config's output). */
  secretFiles: ReadonlyMap<string, string>;
}

export function loadConfigFile(file: string, env: Env = process.env): LoadedConfig {
  return parseConfig(readConfigText(file), file, env);
}

/** The part of the config that `send-test` needs: what it sends to, and how it logs. */
export type DestinationsConfig = Pick<Config, "destinations" | "log">;

export interface LoadedDestinations {
  config: DestinationsConfig;
  file: string;
  /** Problems in the other sections (tenants without credentials yet, say): not errors for this use. */
  notes: readonly ConfigIssue[];
}

const DESTINATION_KEYS = ["destinations", "log"] as const;
const destinationsSchema = configSchema.pick({ destinations: true, log: true });

/**
 * Loads only `destinations` and `log`, for commands that never touch a tenant: a SIEM engineer tests the
 * receiver before the Azure app exists. Problems there throw a ConfigError as usual; problems anywhere
 * else (an unset ${MDE_CLIENT_SECRET}, a tenant not filled in yet) are returned as notes.
 */
export function loadDestinationsFile(file: string, env: Env = process.env): LoadedDestinations {
  const text = readConfigText(file);
  const { value: raw, locate } = parseYaml(text, file);
  const { expanded, issues } = prepare(raw, locate, env);
  const result = configSchema.safeParse(expanded, PARSE_OPTIONS);
  const all = result.success
    ? issues
    : [...issues, ...result.error.issues.flatMap((iss) => toIssues(iss, locate, expanded))];
  const inScope = (i: ConfigIssue) => (DESTINATION_KEYS as readonly string[]).includes(topKey(i.path));
  const errors = all.filter(inScope);
  if (errors.length > 0) throw new ConfigError(errors, file);
  // An unset variable also fails its key's check: one note per key.
  const notes = all.filter((i, index) => !inScope(i) && all.findIndex((j) => j.path === i.path) === index);
  // The other sections are left out rather than checked again (strip, not strict).
  const own = destinationsSchema.safeParse(pick(expanded, DESTINATION_KEYS), PARSE_OPTIONS);
  if (!own.success) {
    throw new ConfigError(
      own.error.issues.flatMap((iss) => toIssues(iss, locate, expanded)),
      file,
    );
  }
  return { config: own.data, file, notes };
}

function readConfigText(file: string): string {
  try {
    return readSmallFile(file, MAX_CONFIG_FILE_BYTES).toString("utf8");
  } catch (err) {
    const refused = err instanceof FileRefusedError ? err : undefined;
    const reason =
      refused?.errno === "ENOENT"
        ? "file not found (start from config/forwarder.example.yaml; another file: --config FILE or $MDE_FORWARDER_CONFIG)"
        : (refused?.reason ?? "cannot read");
    throw new ConfigError([{ path: "", message: reason }], file, "E_CONFIG_READ");
  }
}

const PARSE_OPTIONS = {
  error: (iss: z.core.$ZodRawIssue) =>
    iss.input === undefined && iss.code === "invalid_type" ? "is required" : undefined,
};

export function parseConfig(text: string, file = "config", env: Env = process.env): LoadedConfig {
  const { value: raw, locate } = parseYaml(text, file);
  const { expanded, issues, secretFiles } = prepare(raw, locate, env);
  if (issues.length > 0) throw new ConfigError(issues, file);

  const result = configSchema.safeParse(expanded, PARSE_OPTIONS);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.flatMap((iss) => toIssues(iss, locate, expanded)),
      file,
    );
  }
  return { config: result.data, file, secretFiles };
}

/** Expands variables and reads `*_file` secrets, collecting every problem with its path and line. */
function prepare(raw: unknown, locate: (p: readonly PropertyKey[]) => number | undefined, env: Env) {
  const issues: ConfigIssue[] = [];
  const report = (path: PropertyKey[], message: string) =>
    issues.push({ path: formatPath(path), line: locate(path), message });
  const expanded = expandEnv(raw, [], env, report);
  const secretFiles = new Map<string, string>();
  resolveFiles(expanded, [], secretFiles, report);
  return { expanded, issues, secretFiles };
}

/** `tenants` of `tenants[0].client_id`; `` for the root. */
function topKey(path: string): string {
  return /^[^.[]*/.exec(path)?.[0] ?? "";
}

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

function toIssues(
  iss: z.core.$ZodIssue,
  locate: (p: readonly PropertyKey[]) => number | undefined,
  input: unknown,
): ConfigIssue[] {
  const path = iss.path as PropertyKey[];
  if (iss.code === "invalid_value") {
    // `source: grpah`: the allowed value it most looks like (only an allowed value is ever quoted).
    const given = valueAt(input, path);
    const allowed = iss.values.filter((v): v is string => typeof v === "string");
    const hint = typeof given === "string" ? didYouMean(given, allowed) : "";
    return [
      { path: formatPath(path), line: locate(path), message: `${maskUrlCredentials(iss.message)}${hint}` },
    ];
  }
  if (iss.code === "unrecognized_keys") {
    // One issue per key, on its own line, with the allowed key it most looks like.
    const allowed = keysAt(configSchema, path);
    return iss.keys.map((key) => ({
      path: formatPath(path),
      line: locate([...path, key]),
      message: `unknown key "${key}"${didYouMean(key, allowed)}`,
    }));
  }
  // A message may quote the value (`"..." is not a URL`): never with the URL's credentials.
  return [{ path: formatPath(path), line: locate(path), message: maskUrlCredentials(iss.message) }];
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** The keys a strict object of the schema allows at `path` (for "did you mean"); [] if none is known. */
export function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = schema;
  let i = 0;
  while (node !== undefined) {
    const def: z.core.$ZodTypeDef = node._zod.def;
    switch (def.type) {
      case "object": {
        const { shape } = def as z.core.$ZodObjectDef;
        if (i === path.length) return Object.keys(shape);
        node = shape[String(path[i++])];
        break;
      }
      case "array":
        if (typeof path[i] !== "number") return [];
        i++;
        node = (def as z.core.$ZodArrayDef).element;
        break;
      case "pipe":
        node = (def as z.core.$ZodPipeDef).in;
        break;
      case "default":
      case "prefault":
      case "optional":
      case "nullable":
      case "readonly":
        node = (def as z.core.$ZodOptionalDef).innerType;
        break;
      case "union": {
        const rest = path.slice(i);
        return [...new Set((def as z.core.$ZodUnionDef).options.flatMap((o) => keysAt(o, rest)))];
      }
      default:
        return [];
    }
  }
  return [];
}

// `$$`, a well-formed `${VAR}` / `${VAR:-default}`, or a `${` that is neither (an error).
const VAR = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/** Expands `${VAR}` and `${VAR:-default}` in every string; `$$` is a literal `$`. Never quotes the value. */
function expandEnv(
  value: unknown,
  path: PropertyKey[],
  env: Env,
  report: (path: PropertyKey[], message: string) => void,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    let malformed = false;
    const out = value.replace(VAR, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$$") return "$";
      if (name === undefined) {
        malformed = true;
        return match;
      }
      const v = env[name];
      if (v !== undefined && v !== "") return v;
      if (fallback !== undefined) return fallback;
      report(path, `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
      return "";
    });
    if (malformed) {
      report(
        path,
        `has a $\{ that is not $\{VAR} or $\{VAR:-default}; write $$ for a literal $ (or put a secret in a *_file, which is never expanded)`,
      );
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, [...path, i], env, report));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, [...path, k], env, report);
    return out;
  }
  return value;
}

/**
 * Replaces `client_secret_file: /run/secrets/x` by `client_secret: <file content>` (Docker secrets), and
 * checks every other `*_file` (certificates, keys, CA bundles, read later by their module) that exists:
 * a FIFO, a device or an oversized file is refused here, at start-up and by check-config.
 */
function resolveFiles(
  value: unknown,
  path: PropertyKey[],
  secretFiles: Map<string, string>,
  report: (path: PropertyKey[], message: string) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      resolveFiles(v, [...path, i], secretFiles, report);
    });
    return;
  }
  if (value === null || typeof value !== "object") return;
  const obj = value as Record<string, unknown>;
  const secretFileKeys = new Set<string>();
  for (const key of SECRET_KEYS) {
    const fileKey = `${key}_file`;
    if (!(fileKey in obj)) continue;
    secretFileKeys.add(fileKey);
    const filePath = obj[fileKey];
    if (key in obj) {
      report([...path, fileKey], `set either ${key} or ${fileKey}, not both`);
    } else if (typeof filePath !== "string" || filePath.trim() === "") {
      report([...path, fileKey], "must be a file path");
    } else {
      const file = filePath.trim();
      try {
        // Used as is: never expanded, only a trailing newline dropped (echo and editors add one).
        const content = readSmallFile(file, MAX_FILE_BYTES)
          .toString("utf8")
          .replace(/\r?\n$/, "");
        if (content === "") report([...path, fileKey], `file ${file} is empty`);
        obj[key] = content;
        secretFiles.set(formatPath([...path, key]), file);
      } catch (err) {
        const reason = err instanceof FileRefusedError ? err.reason : "cannot read";
        report([...path, fileKey], `${file}: ${reason}`);
      }
    }
    delete obj[fileKey];
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k.endsWith("_file") && !secretFileKeys.has(k) && typeof v === "string" && v.trim() !== "") {
      const refused = inspectFile(v.trim(), k === "ca_file" ? MAX_CA_FILE_BYTES : MAX_FILE_BYTES);
      if (refused) report([...path, k], `${v.trim()}: ${refused.reason}`);
      continue;
    }
    resolveFiles(v, [...path, k], secretFiles, report);
  }
}
