// Signs client assertions the way MSAL does (RS256, x5t#S256 header), with knobs to break them.
import { createHash, randomUUID, sign, X509Certificate } from "node:crypto";

export interface AssertionOptions {
  /** PEM private key that signs. */
  key: string;
  /** PEM certificate whose thumbprint goes into the header. */
  cert: string;
  clientId: string;
  /** The token endpoint URL. */
  aud: string;
  /** ms; the signer's idea of now. */
  now: number;
  /** Seconds of validity; default 600. */
  lifetime?: number;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

export function thumbprintS256(certPem: string): string {
  return createHash("sha256").update(new X509Certificate(certPem).raw).digest("base64url");
}

export function signAssertion(o: AssertionOptions): string {
  const nowSeconds = Math.floor(o.now / 1000);
  const header = { alg: "RS256", typ: "JWT", "x5t#S256": thumbprintS256(o.cert), ...o.header };
  const claims = {
    aud: o.aud,
    iss: o.clientId,
    sub: o.clientId,
    jti: randomUUID(),
    nbf: nowSeconds,
    iat: nowSeconds,
    exp: nowSeconds + (o.lifetime ?? 600),
    ...o.claims,
  };
  const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), o.key).toString("base64url")}`;
}
