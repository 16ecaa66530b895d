// Every error the forwarder raises on purpose is a ForwarderError with a stable code.
// Codes are a public contract: they label `mde_errors_total` and docs/runbook.md lists them.
// Error messages never carry secrets or tokens: callers pass only safe context.

export const ERROR_CODES = {
  E_CONFIG_INVALID: "permanent",
  E_CONFIG_READ: "permanent",
  E_AUTH_TOKEN: "permanent",
  E_AUTH_UNAVAILABLE: "retryable",
  E_API_UNAUTHORIZED: "permanent",
  E_API_FORBIDDEN: "permanent",
  E_API_THROTTLED: "throttled",
  E_API_SERVER: "retryable",
  E_API_NETWORK: "retryable",
  E_API_TIMEOUT: "retryable",
  E_API_BAD_RESPONSE: "retryable",
  E_API_CLIENT: "permanent",
  // Bounds of one poll: the same request would exceed them again at once, so they end the poll (keeping
  // what it stored) instead of being retried in it; the next poll goes on from the checkpoint.
  E_API_TOO_LARGE: "retryable",
  E_POLL_TOO_MANY_REQUESTS: "retryable",
  E_STATE_OPEN: "permanent",
  E_STATE_CORRUPT: "permanent",
  E_STATE_WRITE: "permanent",
  E_STATE_LOCKED: "permanent",
  E_FORMAT: "permanent",
  E_SINK_CONNECT: "retryable",
  E_SINK_WRITE: "retryable",
  E_SINK_TLS: "retryable",
  E_SINK_TIMEOUT: "retryable",
  E_SINK_PROTOCOL: "retryable",
  E_SINK_REJECTED: "retryable",
  E_SINK_TOO_LARGE: "permanent",
  E_METRICS_LISTEN: "permanent",
  E_SHUTDOWN: "permanent",
  E_INTERNAL: "permanent",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that end a poll rather than being retried within it (see ERROR_CODES). */
export const POLL_BOUND_CODES: ReadonlySet<ErrorCode> = new Set([
  "E_API_TOO_LARGE",
  "E_POLL_TOO_MANY_REQUESTS",
]);

/**
 * What the store raises when the database or the file system refused a read or a write: nothing can be
 * stored or acknowledged any more, so the poll or drain that meets one stops the daemon (a bug in a store
 * call is E_INTERNAL, which does not).
 */
export const STATE_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set([
  "E_STATE_OPEN",
  "E_STATE_CORRUPT",
  "E_STATE_WRITE",
  "E_STATE_LOCKED",
]);

export function isStateFailure(error: ForwarderError): boolean {
  return STATE_FAILURE_CODES.has(error.code);
}

/** How a caller should react: never retry, retry with backoff, or wait at least `retryAfterMs`. */
export type ErrorClass = "permanent" | "retryable" | "throttled";

export interface ForwarderErrorOptions {
  cause?: unknown;
  /** Server-requested delay (Retry-After), for throttled errors. */
  retryAfterMs?: number;
  /** Overrides the default class of the code (a 5xx from the token endpoint is retryable, say). */
  errorClass?: ErrorClass;
  /** Safe, non-secret context (tenant, destination, HTTP status, key path...). */
  details?: Record<string, string | number | boolean | undefined>;
}

export class ForwarderError extends Error {
  readonly code: ErrorCode;
  readonly errorClass: ErrorClass;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, string | number | boolean | undefined>;

  constructor(code: ErrorCode, message: string, options: ForwarderErrorOptions = {}) {
    // Messages reach logs, `status` and the state file: whatever a remote peer managed to put into one
    // (a reflected Authorization header, say) loses its credentials here, whoever built the message.
    super(redactCredentials(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ForwarderError";
    this.code = code;
    this.errorClass = options.errorClass ?? ERROR_CODES[code];
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
  }

  get permanent(): boolean {
    return this.errorClass === "permanent";
  }
}

/** `Bearer <token>` and the like; eight characters at least, so that prose ("basic auth") is left alone. */
const BEARER = /\b(bearer|basic|negotiate)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/gi;
/** A JWT or a prefix of one: base64url of `{"` is `eyJ`. Access tokens and client assertions are JWTs. */
const JWT = /\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
/** `access_token=...` (a form or a query) and `"access_token": "..."` (JSON). */
const CREDENTIAL_PARAM =
  /\b(access_token|refresh_token|id_token|client_secret|client_assertion|password)=(?!\[redacted\])[^\s&"',;]+/gi;
const CREDENTIAL_JSON =
  /("(?:access_token|refresh_token|id_token|client_secret|client_assertion|password|authorization)"\s*:\s*")(?!\[redacted\])[^"]*/gi;
/** A raw `Authorization: <credentials>` header line without a scheme (with one, BEARER applies). */
const AUTHORIZATION_HEADER =
  /\b((?:proxy-)?authorization:\s*)(?!\[redacted\]|bearer|basic|negotiate)[^\s,;]+/gi;

/**
 * Replaces anything bearer- or JWT-like, and the value of credential-named fields, with `[redacted]`. For
 * any text that may carry a remote peer's words, wherever it is rendered.
 */
export function redactCredentials(text: string): string {
  if (!/bearer|basic|negotiate|eyJ|authorization|token|secret|assertion|password/i.test(text)) return text;
  return text
    .replace(BEARER, "$1$2[redacted]")
    .replace(JWT, "[redacted]")
    .replace(CREDENTIAL_PARAM, "$1=[redacted]")
    .replace(CREDENTIAL_JSON, "$1[redacted]")
    .replace(AUTHORIZATION_HEADER, "$1[redacted]");
}

/** One problem in a config file: the key path (`destinations[0].port`), the line if known, a reason. */
export interface ConfigIssue {
  path: string;
  line?: number;
  message: string;
}

/** A key path as ConfigIssue writes it: `destinations[0].mapping.fields.Actor`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

export class ConfigError extends ForwarderError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;

  constructor(issues: readonly ConfigIssue[], file?: string, code: ErrorCode = "E_CONFIG_INVALID") {
    super(code, formatConfigIssues(issues, file), { details: { file } });
    this.name = "ConfigError";
    this.issues = issues;
    this.file = file;
  }
}

export function formatConfigIssues(issues: readonly ConfigIssue[], file?: string): string {
  const head = `${file ?? "config"}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  const lines = issues.map((i) => {
    const where = i.line === undefined ? "" : ` (line ${i.line})`;
    return `  - ${i.path || "(root)"}${where}: ${i.message}`;
  });
  return [head, ...lines].join("\n");
}

/** E_SHUTDOWN: work abandoned because the forwarder is stopping (never a failure to report). */
export function shutdownError(
  message = "stopped by shutdown",
  details?: ForwarderErrorOptions["details"],
): ForwarderError {
  return new ForwarderError("E_SHUTDOWN", message, { details });
}

export function isForwarderError(err: unknown): err is ForwarderError {
  return err instanceof ForwarderError;
}

/** Wraps anything thrown into a ForwarderError so metrics and logs always have a code. */
export function toForwarderError(err: unknown, fallback: ErrorCode = "E_INTERNAL"): ForwarderError {
  if (err instanceof ForwarderError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ForwarderError(fallback, message, { cause: err });
}

/** Exit codes of the CLI (sysexits for config). */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 78,
} as const;
