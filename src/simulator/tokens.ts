// The Azure AD v1 token endpoint (`POST /{tenantId}/oauth2/token`, client credentials) and the
// bearer tokens it issues. Error bodies copy Azure AD's shape and AADSTS codes so that clients meet
// what they will meet in production; the client secret is never echoed, not even in part.
import { randomBytes, randomUUID } from "node:crypto";
import type { SimTenant } from "./types.js";

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
}

export interface TokenIssuer {
  request(tenantId: string, form: URLSearchParams): TokenResult;
  /** The tenant a valid `Authorization: Bearer` header belongs to; undefined if missing, unknown or expired. */
  verify(authorization: string | undefined): string | undefined;
  /** Invalidates every token issued so far; returns how many were live. */
  expireAll(): number;
  readonly issued: number;
}

export interface TokenIssuerOptions {
  tenants: readonly SimTenant[];
  lifetimeSeconds: number;
  clock: () => number;
}

interface IssuedToken {
  tenantId: string;
  expiresAt: number;
}

export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const { clock, lifetimeSeconds } = options;
  const tenants = new Map(options.tenants.map((t) => [t.tenantId.toLowerCase(), t]));
  const live = new Map<string, IssuedToken>();
  let issued = 0;

  function request(tenantId: string, form: URLSearchParams): TokenResult {
    // Azure AD treats tenant GUIDs case-insensitively.
    const tenant = tenants.get(tenantId.toLowerCase());
    if (tenant === undefined) {
      return aadError(
        400,
        "invalid_request",
        90002,
        `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        clock,
      );
    }
    const grantType = form.get("grant_type");
    if (!grantType) return missingParameter("grant_type", clock);
    if (grantType !== "client_credentials") {
      // Microsoft's page also names the authorization-code flow; the simulator serves daemons only.
      return aadError(
        400,
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
        clock,
      );
    }
    const clientId = form.get("client_id");
    if (!clientId) return missingParameter("client_id", clock);
    const secret = form.get("client_secret");
    if (!secret) {
      return aadError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        clock,
      );
    }
    if (clientId !== tenant.clientId) {
      return aadError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
        clock,
      );
    }
    if (secret !== tenant.clientSecret) {
      return aadError(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        clock,
      );
    }
    // The v1 endpoint needs to know which API the token is for; the page sends graph.windows.net.
    const resource = form.get("resource");
    if (!resource) return missingParameter("resource", clock);

    const now = clock();
    prune(now);
    const token = `sim.${randomBytes(32).toString("base64url")}`;
    live.set(token, { tenantId: tenant.tenantId, expiresAt: now + lifetimeSeconds * 1000 });
    issued++;
    const nowSeconds = Math.floor(now / 1000);
    return {
      status: 200,
      // Azure AD v1 sends these numbers as strings ("3599"); the page's example shows numbers.
      // Clients must accept both; the simulator sends strings, the stricter case.
      body: {
        token_type: "Bearer",
        expires_in: String(lifetimeSeconds),
        ext_expires_in: "0",
        expires_on: String(nowSeconds + lifetimeSeconds),
        not_before: String(nowSeconds),
        resource,
        access_token: token,
      },
    };
  }

  function prune(now: number): void {
    for (const [token, t] of live) if (t.expiresAt <= now) live.delete(token);
  }

  return {
    request,
    verify(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
      const token = m?.[1];
      if (token === undefined) return undefined;
      const t = live.get(token);
      if (t === undefined || t.expiresAt <= clock()) return undefined;
      return t.tenantId;
    },
    expireAll() {
      const n = live.size;
      live.clear();
      return n;
    },
    get issued() {
      return issued;
    },
  };
}

function missingParameter(name: string, clock: () => number): TokenResult {
  return aadError(
    400,
    "invalid_request",
    900144,
    `The request body must contain the following parameter: '${name}'.`,
    clock,
  );
}

function aadError(
  status: number,
  error: string,
  code: number,
  text: string,
  clock: () => number,
): TokenResult {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = `${new Date(clock()).toISOString().slice(0, 19).replace("T", " ")}Z`;
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}
