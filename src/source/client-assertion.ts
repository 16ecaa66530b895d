// Certificate credentials: a JWT client assertion (RFC 7523, OpenID Connect `private_key_jwt`) signed with
// the app's certificate key, sent instead of a client secret. The certificate and key are read and checked
// once, when the token provider is made, so that a wrong file stops the start with a message naming it;
// each token request then gets a fresh assertion. The private key stays inside the closure: nothing that
// is returned, logged or thrown carries it.
//
// Header: `alg: RS256`, `typ: JWT`, and both thumbprints of the certificate: `x5t#S256` (SHA-256, what
// Microsoft's current "certificate credentials" page asks for) and `x5t` (SHA-1, what its earlier
// revision, the one that documents RS256, asks for). Azure AD looks the key up by thumbprint; sending both
// keeps the assertion valid for either lookup, and neither is secret.
import { createHash, createPrivateKey, type KeyObject, randomUUID, sign, X509Certificate } from "node:crypto";
import { FileRefusedError, readSmallFile } from "../config/read-file.js";
import { ForwarderError } from "../errors.js";

/** RFC 7523's value of `client_assertion_type`. */
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** How long an assertion is valid: Microsoft asks for a short life, 5 to 10 minutes after `nbf`. */
export const ASSERTION_LIFETIME_SECONDS = 600;

export interface ClientCertificateFiles {
  /** PEM certificate registered on the app (the first certificate of the file is used). */
  readonly certificateFile: string;
  /** Its private key: PEM, RSA, unencrypted (PKCS#8 or PKCS#1). */
  readonly keyFile: string;
}

export interface CertificateInfo {
  readonly certificateFile: string;
  readonly keyFile: string;
  /** SHA-1 thumbprint in upper-case hex, as the Azure portal lists it under "Certificates & secrets". */
  readonly thumbprint: string;
  readonly subject: string;
  /** Expiry, ms since the epoch. */
  readonly notAfter: number;
}

export interface ClientAssertionSigner {
  readonly certificate: CertificateInfo;
  /** A new signed assertion for `clientId` at the token endpoint `audience`, issued at `nowMs`. */
  assertion(clientId: string, audience: string, nowMs: number): string;
}

/**
 * Reads and checks the certificate and key: both readable PEM, the key RSA and unencrypted, the key the
 * certificate's, the certificate not expired at `nowMs`. Throws E_CONFIG_INVALID naming the file at fault.
 */
export function createClientAssertionSigner(
  files: ClientCertificateFiles,
  nowMs: number,
): ClientAssertionSigner {
  const { certificateFile, keyFile } = files;
  const certificate = readCertificate(certificateFile);
  const key = readKey(keyFile);

  if (!certificate.checkPrivateKey(key)) {
    throw configError(
      `client_key_file ${keyFile} is not the private key of client_certificate_file ${certificateFile}`,
      keyFile,
    );
  }
  // Only the end is checked: Azure AD rejects an expired certificate, and a start a little in the future
  // is more likely this host's clock than a reason to refuse to start.
  const notAfter = Date.parse(certificate.validTo);
  if (Number.isFinite(notAfter) && notAfter <= nowMs) {
    throw configError(
      `client_certificate_file ${certificateFile} expired on ${new Date(notAfter).toISOString()}; register a new certificate on the app`,
      certificateFile,
    );
  }

  const der = certificate.raw;
  const header = base64url(
    JSON.stringify({
      alg: "RS256",
      typ: "JWT",
      x5t: base64url(createHash("sha1").update(der).digest()),
      "x5t#S256": base64url(createHash("sha256").update(der).digest()),
    }),
  );
  const info: CertificateInfo = {
    certificateFile,
    keyFile,
    thumbprint: createHash("sha1").update(der).digest("hex").toUpperCase(),
    subject: certificate.subject.replace(/\n/g, ", "),
    notAfter,
  };

  return {
    certificate: info,
    assertion(clientId, audience, now) {
      const seconds = Math.floor(now / 1000);
      const payload = base64url(
        JSON.stringify({
          aud: audience,
          iss: clientId,
          sub: clientId,
          jti: randomUUID(),
          nbf: seconds,
          iat: seconds,
          exp: seconds + ASSERTION_LIFETIME_SECONDS,
        }),
      );
      const input = `${header}.${payload}`;
      // RSASSA-PKCS1-v1_5 with SHA-256: RS256.
      const signature = sign("sha256", Buffer.from(input), key);
      return `${input}.${base64url(signature)}`;
    },
  };
}

function readCertificate(file: string): X509Certificate {
  const text = readText(file, "client_certificate_file");
  // A combined file (key and certificate, or a chain) is common: take the first certificate block.
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (pem === undefined) {
    throw configError(`client_certificate_file ${file} holds no PEM certificate (BEGIN CERTIFICATE)`, file);
  }
  try {
    return new X509Certificate(pem);
  } catch {
    throw configError(`client_certificate_file ${file}: the certificate cannot be parsed`, file);
  }
}

function readKey(file: string): KeyObject {
  const text = readText(file, "client_key_file");
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw configError(
      `client_key_file ${file} is encrypted; give the key unencrypted (openssl pkey -in KEY -out KEY.pem) and protect the file instead`,
      file,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    // OpenSSL's message can quote the input; say what is wrong without it.
    throw configError(`client_key_file ${file} holds no readable PEM private key`, file);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw configError(
      `client_key_file ${file} holds a key of type ${key.asymmetricKeyType ?? "unknown"}; the client assertion is signed RS256 and needs an RSA key`,
      file,
    );
  }
  return key;
}

function readText(file: string, key: string): string {
  try {
    return readSmallFile(file).toString("utf8");
  } catch (err) {
    const reason = err instanceof FileRefusedError ? err.reason : "cannot read";
    throw configError(`${key} ${file}: ${reason}`, file);
  }
}

function configError(message: string, file: string): ForwarderError {
  return new ForwarderError("E_CONFIG_INVALID", message, { details: { file } });
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}
