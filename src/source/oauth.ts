// OAuth2 client credentials against Azure AD. The SIEM API takes a v1 token, as Microsoft's SIEM API page
// shows: POST {authority}/{tenant_id}/oauth2/token with `resource`; the Alerts API and Graph take a v2 token:
// POST {authority}/{tenant_id}/oauth2/v2.0/token with `scope` (tokenRequestOf in clouds.ts chooses).
// The app proves itself with its client secret, or with a client assertion signed by its certificate.
// One request in flight at a time; the token is cached until shortly before it expires.
// Neither the secret, the assertion nor the token ever goes into a log line or an error message.
import { ForwarderError } from "../errors.js";
import { createEvents, type SourceEvents, type TokenFailure } from "../events/index.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import {
  CLIENT_ASSERTION_TYPE,
  type ClientAssertionSigner,
  createClientAssertionSigner,
} from "./client-assertion.js";
import { type TenantEndpoints, tokenRequestOf } from "./clouds.js";
import type { TenantConfig } from "./config.js";
import { type HttpClient, parseRetryAfter, TransportFailure } from "./http.js";

export interface TokenProvider {
  /** A valid access token, from the cache or fetched (once, however many callers wait). */
  getToken(signal?: AbortSignal): Promise<string>;
  /** Forgets `token` if it is the cached one (after a 401 from the API). */
  invalidate(token: string): void;
}

export interface TokenProviderDeps {
  log: Logger;
  metrics: Metrics;
  /** Token requests are counted and logged through these; events over `metrics` when absent. */
  events?: SourceEvents;
  http: HttpClient;
  clock?: () => number;
  timeoutMs: number;
}

/** Refresh this long before expiry, so a token never expires between fetch and use. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** A token response is a few kB; more is not Azure AD. */
const MAX_TOKEN_RESPONSE_BYTES = 1_048_576;

/** A certificate this close to its end gets a warning at start-up. */
const CERTIFICATE_WARNING_MS = 30 * 86_400_000;

/** What the token provider reads of a tenant. */
export type TokenTenant = TenantEndpoints &
  Pick<TenantConfig, "name" | "client_id" | "client_secret" | "client_certificate_file" | "client_key_file">;

interface CachedToken {
  value: string;
  refreshAt: number;
}

/**
 * Throws E_CONFIG_INVALID when the tenant has no credential, or when its certificate or key file is
 * unreadable, not RSA, mismatched or expired (the message names the file).
 */
export function createTokenProvider(tenant: TokenTenant, deps: TokenProviderDeps): TokenProvider {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ component: "oauth", tenant: tenant.name });
  const request = tokenRequestOf(tenant);
  const url = request.endpoint;
  // Certificate validity is a fact of the real world: checked on the wall clock, not on `deps.clock`
  // (which tests move, and which also dates the assertions, so that a simulator on that clock agrees).
  const signer = certificateSigner(tenant, Date.now());
  if (signer) {
    const { thumbprint, notAfter, certificateFile } = signer.certificate;
    const left = notAfter - Date.now();
    if (left < CERTIFICATE_WARNING_MS) {
      log.warn(
        { certificateFile, thumbprint, expiresAt: new Date(notAfter).toISOString() },
        "The client certificate expires soon; register a new one on the app.",
      );
    }
  }
  const credentialHint = signer
    ? `the certificate (thumbprint ${signer.certificate.thumbprint} must be registered on the app)`
    : "client_secret";
  let cached: CachedToken | undefined;
  let inFlight: Promise<string> | undefined;

  const events = deps.events ?? createEvents({ metrics: deps.metrics });
  /** Counts and logs the failure, and returns the error for the caller to throw. */
  const failed = (outcome: TokenFailure, error: ForwarderError): ForwarderError => {
    events.tokenFailed(log, tenant.name, outcome, error);
    return error;
  };

  async function fetchToken(signal?: AbortSignal): Promise<string> {
    const started = clock();
    let res: Awaited<ReturnType<HttpClient["request"]>>;
    try {
      res = await deps.http.request({
        method: "POST",
        url,
        form: tokenForm(),
        timeoutMs: deps.timeoutMs,
        signal,
        maxBytes: MAX_TOKEN_RESPONSE_BYTES,
      });
    } catch (err) {
      if (err instanceof TransportFailure && err.kind === "aborted") {
        throw failed("error", new ForwarderError("E_SHUTDOWN", "token request aborted by shutdown"));
      }
      if (err instanceof TransportFailure && err.proxy !== undefined) {
        // The proxy, not Azure AD, is at fault: the same code as an API call through it.
        throw failed(
          "error",
          new ForwarderError(
            "E_API_NETWORK",
            `token request for tenant ${tenant.name} failed: ${err.reason}`,
            {
              cause: err,
              details: { tenant: tenant.name, proxy: err.proxy },
            },
          ),
        );
      }
      const reason = err instanceof TransportFailure ? err.reason : "error";
      if (err instanceof TransportFailure && err.kind === "too_large") {
        throw failed(
          "error",
          new ForwarderError(
            "E_AUTH_UNAVAILABLE",
            `token endpoint for tenant ${tenant.name} sent a ${reason}; request aborted`,
            { cause: err, details: { tenant: tenant.name } },
          ),
        );
      }
      throw failed(
        "error",
        new ForwarderError(
          "E_AUTH_UNAVAILABLE",
          `token endpoint unreachable for tenant ${tenant.name}: ${reason}`,
          {
            cause: err,
            details: { tenant: tenant.name },
          },
        ),
      );
    }

    if (res.status === 200) {
      const parsed = parseTokenResponse(res.body, started);
      if (parsed) {
        cached = parsed;
        events.tokenObtained(log, tenant.name, Math.round((parsed.refreshAt - clock()) / 1000));
        return parsed.value;
      }
      throw failed(
        "error",
        new ForwarderError(
          "E_AUTH_UNAVAILABLE",
          `token endpoint for tenant ${tenant.name} answered 200 without a usable access_token`,
          { details: { tenant: tenant.name, status: 200 } },
        ),
      );
    }

    const aad = describeAadError(res.body);
    if (res.status === 429 || res.status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers["retry-after"], clock());
      throw failed(
        "error",
        new ForwarderError(
          res.status === 429 ? "E_API_THROTTLED" : "E_AUTH_UNAVAILABLE",
          `token endpoint for tenant ${tenant.name} answered ${res.status}${aad}`,
          { retryAfterMs, details: { tenant: tenant.name, status: res.status } },
        ),
      );
    }
    // 400/401: wrong tenant, client or secret, or an expired secret. Retrying will not fix it.
    throw failed(
      "rejected",
      new ForwarderError(
        "E_AUTH_TOKEN",
        `token request for tenant ${tenant.name} rejected with ${res.status}${aad}; check tenant_id, client_id and ${credentialHint}`,
        { details: { tenant: tenant.name, status: res.status } },
      ),
    );
  }

  function tokenForm(): Record<string, string> {
    const form: Record<string, string> = { grant_type: "client_credentials", client_id: tenant.client_id };
    if (signer) {
      form.client_assertion_type = CLIENT_ASSERTION_TYPE;
      form.client_assertion = signer.assertion(tenant.client_id, url, clock());
    } else {
      form.client_secret = tenant.client_secret ?? "";
    }
    if (request.version === "v1") form.resource = request.resource;
    else form.scope = request.scope;
    return form;
  }

  return {
    getToken(signal) {
      if (cached && clock() < cached.refreshAt) return Promise.resolve(cached.value);
      if (!inFlight) {
        inFlight = fetchToken(signal).finally(() => {
          inFlight = undefined;
        });
      }
      return inFlight;
    },
    invalidate(token) {
      if (cached?.value === token) cached = undefined;
    },
  };

  function parseTokenResponse(body: string, requestedAt: number): CachedToken | undefined {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (typeof json !== "object" || json === null) return undefined;
    const t = json as Record<string, unknown>;
    if (typeof t.access_token !== "string" || t.access_token === "") return undefined;
    // Azure AD v1 sends numbers as strings ("3599"); accept both. Prefer expires_in, measured from when we
    // asked, over expires_on, which depends on the clocks agreeing.
    const expiresIn = Number(t.expires_in);
    const expiresOn = Number(t.expires_on);
    let expiresAt: number;
    if (Number.isFinite(expiresIn) && expiresIn > 0) expiresAt = requestedAt + expiresIn * 1000;
    else if (Number.isFinite(expiresOn) && expiresOn > 0) expiresAt = expiresOn * 1000;
    else expiresAt = requestedAt + 3_600_000;
    const lifetime = Math.max(0, expiresAt - requestedAt);
    // A short-lived token is refreshed at half its life rather than 5 minutes before its end.
    const margin = Math.min(REFRESH_MARGIN_MS, lifetime / 2);
    return { value: t.access_token, refreshAt: expiresAt - margin };
  }
}

function certificateSigner(tenant: TokenTenant, now: number): ClientAssertionSigner | undefined {
  if (tenant.client_secret !== undefined) return undefined;
  const certificateFile = tenant.client_certificate_file;
  const keyFile = tenant.client_key_file;
  if (certificateFile === undefined || keyFile === undefined) {
    throw new ForwarderError(
      "E_CONFIG_INVALID",
      `tenant ${tenant.name} has no credential: set client_secret, or client_certificate_file and client_key_file`,
      { details: { tenant: tenant.name } },
    );
  }
  try {
    return createClientAssertionSigner({ certificateFile, keyFile }, now);
  } catch (err) {
    if (err instanceof ForwarderError) {
      throw new ForwarderError(err.code, `tenant ${tenant.name}: ${err.message}`, {
        details: { ...err.details, tenant: tenant.name },
      });
    }
    throw err;
  }
}

/** ` (invalid_client, AADSTS7000215)` from an Azure AD error body: the codes, not the free text. */
function describeAadError(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    const parts: string[] = [];
    if (typeof json.error === "string" && /^[a-z_]{1,64}$/.test(json.error)) parts.push(json.error);
    if (typeof json.error_description === "string") {
      const code = /AADSTS\d{1,8}/.exec(json.error_description)?.[0];
      if (code) parts.push(code);
    }
    return parts.length > 0 ? ` (${parts.join(", ")})` : "";
  } catch {
    return "";
  }
}
