// The Azure AD token endpoints, client-credentials flow: v1 (`POST /{tenantId}/oauth2/token`, with a
// `resource`) and v2 (`POST /{tenantId}/oauth2/v2.0/token`, with a `scope` ending in `/.default`),
// each taking a client secret or a signed client assertion. Tokens are opaque and remember their
// tenant and audience, so that each API accepts only tokens meant for it. Error bodies copy Azure
// AD's shape and AADSTS codes so that clients meet what they will meet in production; secrets and
// assertions are never echoed, not even in part.
import { randomBytes, randomUUID } from "node:crypto";
import { type Audience, audienceOf } from "./audiences.js";
import {
  type AssertionVerifier,
  createAssertionVerifier,
  type RegisteredCertificate,
} from "./client-assertion.js";
import type { SimTenant } from "./types.js";

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
}

export interface TokenRequestContext {
  version: "v1" | "v2";
  /** The URL the request was sent to: a client assertion's `aud` must name it. */
  endpointUrl: string;
}

export type TokenCheck =
  | { ok: true; tenantId: string; audience: Audience | undefined; version: "v1" | "v2" }
  | { ok: false; reason: "missing" | "invalid" | "expired" };

export interface TokenIssuer {
  request(tenantId: string, form: URLSearchParams, context: TokenRequestContext): TokenResult;
  /**
   * The tenant of a token the SIEM API accepts: any live v1 token (whatever its resource, as before
   * the newer APIs existed) or a v2 token for the SIEM API; undefined otherwise.
   */
  verify(authorization: string | undefined): string | undefined;
  /** What an `Authorization: Bearer` header holds, for APIs that check the audience. */
  inspect(authorization: string | undefined): TokenCheck;
  /** Invalidates every token issued so far; returns how many were live. */
  expireAll(): number;
  readonly issued: number;
}

export interface TokenIssuerOptions {
  tenants: readonly SimTenant[];
  /** Registered certificates by tenant id (lower case). */
  certificates: ReadonlyMap<string, RegisteredCertificate>;
  lifetimeSeconds: number;
  clock: () => number;
}

interface IssuedToken {
  tenantId: string;
  expiresAt: number;
  audience: Audience | undefined;
  version: "v1" | "v2";
}

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEFAULT_SUFFIX = "/.default";

export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const { clock, lifetimeSeconds } = options;
  const tenants = new Map(options.tenants.map((t) => [t.tenantId.toLowerCase(), t]));
  const assertions: AssertionVerifier = createAssertionVerifier(clock);
  const live = new Map<string, IssuedToken>();
  let issued = 0;

  function request(tenantId: string, form: URLSearchParams, context: TokenRequestContext): TokenResult {
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

    let resource: string;
    if (context.version === "v2") {
      const scope = form.get("scope");
      if (!scope) return missingParameter("scope", clock);
      const scopes = scope.trim().split(/\s+/);
      // Client credentials get a token for one resource, named by its `/.default` scope.
      const only = scopes.length === 1 ? scopes[0] : undefined;
      if (only === undefined) {
        return aadError(
          400,
          "invalid_scope",
          70011,
          `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. A client credentials request names exactly one resource.`,
          clock,
        );
      }
      if (!only.toLowerCase().endsWith(DEFAULT_SUFFIX)) {
        return aadError(
          400,
          "invalid_scope",
          1002012,
          `The provided value for scope ${only} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
          clock,
        );
      }
      resource = only.slice(0, -DEFAULT_SUFFIX.length);
    } else {
      resource = form.get("resource") ?? "";
    }

    const refused = checkCredentials(tenant, clientId, form, context);
    if (refused !== undefined) return refused;

    const audience = audienceOf(resource);
    if (context.version === "v1") {
      // The v1 endpoint needs to know which API the token is for; the page sends graph.windows.net.
      // Any resource is accepted here (as before the newer APIs existed); its audience decides where
      // the token works.
      if (!resource) return missingParameter("resource", clock);
    } else if (audience === undefined) {
      return aadError(
        400,
        "invalid_resource",
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        clock,
      );
    }

    const now = clock();
    prune(now);
    const token = `sim.${randomBytes(32).toString("base64url")}`;
    live.set(token, {
      tenantId: tenant.tenantId,
      expiresAt: now + lifetimeSeconds * 1000,
      audience,
      version: context.version,
    });
    issued++;
    if (context.version === "v2") {
      // v2 sends numbers as numbers, and no resource or expires_on.
      return {
        status: 200,
        body: {
          token_type: "Bearer",
          expires_in: lifetimeSeconds,
          ext_expires_in: lifetimeSeconds,
          access_token: token,
        },
      };
    }
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

  /** A refusal, or undefined when the client proved itself with a secret or an assertion. */
  function checkCredentials(
    tenant: SimTenant,
    clientId: string,
    form: URLSearchParams,
    context: TokenRequestContext,
  ): TokenResult | undefined {
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret && assertion) {
      return aadError(
        400,
        "invalid_request",
        9002313,
        "Invalid request. Request is malformed or invalid. Send either 'client_secret' or 'client_assertion', not both.",
        clock,
      );
    }
    if (!secret && !assertion) {
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
    if (assertion) {
      const type = form.get("client_assertion_type");
      if (!type) return missingParameter("client_assertion_type", clock);
      if (type !== JWT_BEARER) {
        return aadError(
          400,
          "invalid_request",
          9002313,
          `Invalid request. Request is malformed or invalid. client_assertion_type must be ${JWT_BEARER}.`,
          clock,
        );
      }
      const result = assertions.verify({
        certificate: options.certificates.get(tenant.tenantId.toLowerCase()),
        clientId,
        assertion,
        audience: context.endpointUrl,
        replayScope: tenant.tenantId.toLowerCase(),
      });
      return result.ok ? undefined : aadError(result.status, result.error, result.code, result.text, clock);
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
    return undefined;
  }

  function prune(now: number): void {
    for (const [token, t] of live) if (t.expiresAt <= now) live.delete(token);
  }

  function inspect(authorization: string | undefined): TokenCheck {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    const token = m?.[1];
    if (token === undefined) return { ok: false, reason: "missing" };
    const t = live.get(token);
    if (t === undefined) return { ok: false, reason: "invalid" };
    if (t.expiresAt <= clock()) return { ok: false, reason: "expired" };
    return { ok: true, tenantId: t.tenantId, audience: t.audience, version: t.version };
  }

  return {
    request,
    verify(authorization) {
      const check = inspect(authorization);
      if (!check.ok) return undefined;
      return check.version === "v1" || check.audience === "siem" ? check.tenantId : undefined;
    },
    inspect,
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
