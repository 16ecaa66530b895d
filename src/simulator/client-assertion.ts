// Certificate credentials: a client proves itself with a JWT it signed (RFC 7523 `private_key_jwt`)
// instead of a secret. The simulator checks it for real, the way Azure AD documents: RS256 over the
// tenant's registered certificate, found by its `x5t#S256` (or legacy SHA-1 `x5t`) thumbprint; aud =
// the token endpoint; iss = sub = client_id; a bounded validity window; a jti used once. Refusals
// carry Azure AD's codes and never repeat any part of the assertion.
import { createHash, type KeyObject, verify, X509Certificate } from "node:crypto";

/** Azure AD's own clients sign assertions valid for 10 minutes; longer ones are refused. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;
/** Tolerance for clients whose clock (or rounding) runs slightly ahead: nbf and exp may lead by this. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 60;

export interface RegisteredCertificate {
  readonly publicKey: KeyObject;
  /** base64url SHA-256 of the DER. */
  readonly x5tS256: string;
  /** base64url SHA-1 of the DER. */
  readonly x5t: string;
}

export type AssertionResult =
  | { ok: true }
  | { ok: false; status: number; error: string; code: number; text: string };

export interface AssertionCheck {
  /** undefined when the app has no certificate registered. */
  certificate: RegisteredCertificate | undefined;
  clientId: string;
  assertion: string;
  /** The token endpoint URL the request was sent to (compared case-insensitively). */
  audience: string;
  /** Tenant-scoped key for the jti replay cache. */
  replayScope: string;
}

export interface AssertionVerifier {
  verify(check: AssertionCheck): AssertionResult;
}

/** Parses a tenant's PEM; throws (with the reason) when it is not an RSA certificate. */
export function registerCertificate(pem: string): RegisteredCertificate {
  const cert = new X509Certificate(pem);
  if (cert.publicKey.asymmetricKeyType !== "rsa") {
    throw new Error(`client certificates must have RSA keys, not ${cert.publicKey.asymmetricKeyType}`);
  }
  return {
    publicKey: cert.publicKey,
    x5tS256: createHash("sha256").update(cert.raw).digest("base64url"),
    x5t: createHash("sha1").update(cert.raw).digest("base64url"),
  };
}

export function createAssertionVerifier(clock: () => number): AssertionVerifier {
  /** scope + jti → when the entry can be forgotten (the assertion's exp, in ms). */
  const used = new Map<string, number>();

  return {
    verify(check) {
      const now = clock();
      for (const [key, until] of used) if (until <= now) used.delete(key);

      const parts = check.assertion.split(".");
      const header = parts.length === 3 ? decodeJson(parts[0] ?? "") : undefined;
      const claims = parts.length === 3 ? decodeJson(parts[1] ?? "") : undefined;
      if (header === undefined || claims === undefined) {
        return refuse(50027, "JWT token is invalid or malformed.");
      }
      if (header.alg !== "RS256") {
        return refuse(5002730, "Invalid JWT token. The client assertion must be signed with RS256.");
      }
      const cert = check.certificate;
      const thumbprintS256 = typeof header["x5t#S256"] === "string" ? header["x5t#S256"] : undefined;
      const thumbprint = typeof header.x5t === "string" ? header.x5t : undefined;
      const keyFound =
        cert !== undefined &&
        (thumbprintS256 !== undefined
          ? thumbprintS256 === cert.x5tS256
          : thumbprint !== undefined && thumbprint === cert.x5t);
      if (cert === undefined || !keyFound) {
        return refuse(
          700027,
          `Client assertion contains an invalid signature. [Reason - The key was not found. Please visit the Azure Portal to see the keys configured for app '${check.clientId}'.]`,
        );
      }
      const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
      const signature = Buffer.from(parts[2] ?? "", "base64url");
      if (!verify("sha256", signed, cert.publicKey, signature)) {
        return refuse(
          700027,
          "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]",
        );
      }
      if (claims.iss !== check.clientId || claims.sub !== check.clientId) {
        return refuse(700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
      }
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => typeof a === "string" && a.toLowerCase() === check.audience.toLowerCase())) {
        return refuse(
          700023,
          "Client assertion audience claim does not match Realm issuer. The aud claim must be the token endpoint URL.",
        );
      }
      const exp = claims.exp;
      const nbf = claims.nbf;
      if (typeof exp !== "number" || typeof nbf !== "number") {
        return refuse(50027, "JWT token is invalid or malformed. The exp and nbf claims are required.");
      }
      const nowSeconds = now / 1000;
      if (
        exp <= nowSeconds ||
        nbf > nowSeconds + ASSERTION_CLOCK_SKEW_SECONDS ||
        exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_CLOCK_SKEW_SECONDS
      ) {
        return refuse(
          700024,
          `Client assertion is not within its valid time range. Current time: ${iso(nowSeconds)}, assertion valid from ${iso(nbf)}, expiry time of assertion ${iso(exp)}. Assertions may be valid for at most ${MAX_ASSERTION_LIFETIME_SECONDS / 60} minutes.`,
        );
      }
      if (typeof claims.jti !== "string" || claims.jti === "") {
        return refuse(50027, "JWT token is invalid or malformed. The jti claim is required.");
      }
      const key = `${check.replayScope}\n${claims.jti}`;
      if (used.has(key)) {
        return refuse(
          50013,
          "Assertion is invalid: its jti was already used. Sign a new assertion for every request.",
        );
      }
      used.set(key, exp * 1000);
      return { ok: true };
    },
  };
}

function refuse(code: number, text: string): AssertionResult {
  return { ok: false, status: 401, error: "invalid_client", code, text };
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function iso(seconds: number): string {
  const ms = seconds * 1000;
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : "(invalid)";
}
