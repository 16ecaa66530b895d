// Small zod building blocks shared by every module's config schema.
import { z } from "zod";
import { valueTypes } from "./key-doc.js";

/** The process environment, or what a test passes for it (`${VAR}` in the config, proxy variables). */
export type Env = Readonly<Record<string, string | undefined>>;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30s`, `5m`, `2h`, `7d`, `250ms` (or a plain number of seconds) into milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1_000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = UNITS[m[2] ?? ""];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** A duration in the YAML (`5m`), in milliseconds once parsed. */
export function duration(options: { min?: number } = {}) {
  const min = options.min ?? 0;
  const schema = z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a duration (use 30s, 5m, 2h, 7d)` });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min} ms` });
      return z.NEVER;
    }
    return ms;
  });
  return schema.register(valueTypes, { type: "duration", min });
}

/** An integer that may arrive as a string after `${VAR}` expansion. */
export function int(options: { min?: number; max?: number } = {}) {
  let schema = z.number().int("must be a whole number");
  if (options.min !== undefined) schema = schema.min(options.min, `must be at least ${options.min}`);
  if (options.max !== undefined) schema = schema.max(options.max, `must be at most ${options.max}`);
  const parsed = z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^\s*-?\d+\s*$/, "must be a whole number")
          .transform(Number),
      ],
      {
        error: "must be a whole number",
      },
    )
    .pipe(schema);
  return parsed.register(valueTypes, { type: "integer", ...options });
}

export function bool() {
  return z
    .union([
      z.boolean(),
      z.enum(["true", "false"], { error: "must be true or false" }).transform((v) => v === "true"),
    ])
    .register(valueTypes, { type: "boolean" });
}

/** `[a-z0-9_-]+`: tenant and destination names, used in state, logs and metric labels. */
export function name() {
  return z
    .string()
    .min(1, "must not be empty")
    .max(64, "must be at most 64 characters")
    .regex(/^[a-z0-9_-]+$/, "must match [a-z0-9_-]+")
    .register(valueTypes, { type: "name" });
}

export function nonEmpty() {
  return z.string().trim().min(1, "must not be empty");
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** An https URL; `http://` only for loopback hosts (the simulator, a local proxy). */
export function httpsUrl() {
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: `"${value}" is not a URL` });
        return z.NEVER;
      }
      if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({ code: "custom", message: "http:// is allowed only for loopback hosts; use https://" });
        return z.NEVER;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        ctx.addIssue({ code: "custom", message: "must be an https:// URL" });
        return z.NEVER;
      }
      return value.replace(/\/+$/, "");
    })
    .register(valueTypes, { type: "url" });
}

/** A duration in its YAML form: `2h`, `5m`, `250ms` (the largest unit that divides it). */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};

/** Parses `64MiB`, `512KiB`, `1GiB`, `10MB`, `4096B` (or a plain number of bytes) into bytes. */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? "b").toLowerCase()] ?? Number.NaN));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size in the YAML (`64MiB`), in bytes once parsed. */
export function byteSize(options: { min?: number; max?: number } = {}) {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const bytes = parseByteSize(value);
      if (bytes === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `"${value}" is not a size (use 64MiB, 512KiB, 1GiB or bytes)`,
        });
        return z.NEVER;
      }
      if (bytes < min || bytes > max) {
        ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max} bytes` });
        return z.NEVER;
      }
      return bytes;
    })
    .register(valueTypes, { type: "size", min, max });
}

/** A size in its YAML form: `64MiB`, `512KiB`, `1GiB` (the largest binary unit that divides it), else bytes. */
export function formatByteSize(bytes: number): string {
  for (const unit of ["GiB", "MiB", "KiB"]) {
    const size = SIZE_UNITS[unit.toLowerCase()] ?? 1;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
