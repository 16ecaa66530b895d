import assert from "node:assert/strict";
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import {
  ASSERTION_LIFETIME_SECONDS,
  createClientAssertionSigner,
} from "../../../src/source/client-assertion.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";

const skip = hasOpenssl() ? false : "openssl is not installed";
const AUDIENCE = "https://login.microsoftonline.com/tid/oauth2/v2.0/token";
const CLIENT_ID = "00000000-1111-2222-3333-444444444444";

let pki: TestPki;

before(() => {
  if (!skip) pki = makeTestPki({ rsaClient: true, client: true });
});
after(() => pki?.cleanup());

function rsa() {
  const pair = pki.rsaClient;
  assert.ok(pair);
  return pair;
}

function decode(part: string | undefined): Record<string, unknown> {
  assert.ok(part);
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

function configError(fn: () => unknown): ForwarderError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ForwarderError, String(err));
    assert.equal(err.code, "E_CONFIG_INVALID");
    return err;
  }
  assert.fail("expected E_CONFIG_INVALID");
}

test("the assertion verifies with the certificate's public key; header and claims as Azure AD asks", {
  skip,
}, () => {
  const pair = rsa();
  const now = Date.now();
  const signer = createClientAssertionSigner({ certificateFile: pair.certFile, keyFile: pair.keyFile }, now);
  const jwt = signer.assertion(CLIENT_ID, AUDIENCE, now);
  const [header, payload, signature] = jwt.split(".");
  assert.ok(header && payload && signature);

  const cert = new X509Certificate(pair.cert);
  const valid = verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    createPublicKey(cert.publicKey.export({ format: "pem", type: "spki" })),
    Buffer.from(signature, "base64url"),
  );
  assert.equal(valid, true, "RS256 signature by the certificate's key");

  const der = cert.raw;
  assert.deepEqual(decode(header), {
    alg: "RS256",
    typ: "JWT",
    x5t: createHash("sha1").update(der).digest("base64url"),
    "x5t#S256": createHash("sha256").update(der).digest("base64url"),
  });
  // The thumbprints are those of the certificate (cross-checked against Node's own fingerprints).
  assert.equal(
    Buffer.from(String(decode(header).x5t), "base64url")
      .toString("hex")
      .toUpperCase(),
    cert.fingerprint.replace(/:/g, ""),
  );
  assert.equal(
    Buffer.from(String(decode(header)["x5t#S256"]), "base64url")
      .toString("hex")
      .toUpperCase(),
    cert.fingerprint256.replace(/:/g, ""),
  );

  const claims = decode(payload);
  const seconds = Math.floor(now / 1000);
  assert.equal(claims.aud, AUDIENCE);
  assert.equal(claims.iss, CLIENT_ID);
  assert.equal(claims.sub, CLIENT_ID);
  assert.match(String(claims.jti), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(claims.nbf, seconds);
  assert.equal(claims.iat, seconds);
  assert.equal(claims.exp, seconds + ASSERTION_LIFETIME_SECONDS);
  assert.equal(ASSERTION_LIFETIME_SECONDS, 600);
  assert.deepEqual(Object.keys(claims).sort(), ["aud", "exp", "iat", "iss", "jti", "nbf", "sub"]);

  assert.equal(signer.certificate.thumbprint, cert.fingerprint.replace(/:/g, ""));
  assert.equal(signer.certificate.notAfter, Date.parse(cert.validTo));
});

test("each assertion is fresh: a new jti, and the times of its own issue", { skip }, () => {
  const pair = rsa();
  const now = Date.now();
  const signer = createClientAssertionSigner({ certificateFile: pair.certFile, keyFile: pair.keyFile }, now);
  const a = decode(signer.assertion(CLIENT_ID, AUDIENCE, now).split(".")[1]);
  const b = decode(signer.assertion(CLIENT_ID, AUDIENCE, now + 61_000).split(".")[1]);
  assert.notEqual(a.jti, b.jti);
  assert.equal(Number(b.iat) - Number(a.iat), 61);
});

test("a PKCS#1 key and a combined key+certificate file work too", { skip }, () => {
  const pair = rsa();
  const now = Date.now();
  const combined = path.join(pki.dir, "combined.pem");
  fs.writeFileSync(combined, `${pair.key}${pair.cert}`);
  for (const files of [
    { certificateFile: pair.certFile, keyFile: pair.pkcs1KeyFile },
    { certificateFile: combined, keyFile: combined },
  ]) {
    const jwt = createClientAssertionSigner(files, now).assertion(CLIENT_ID, AUDIENCE, now);
    const [h, p, s] = jwt.split(".");
    assert.ok(
      verify(
        "sha256",
        Buffer.from(`${h}.${p}`),
        new X509Certificate(pair.cert).publicKey,
        Buffer.from(s ?? "", "base64url"),
      ),
    );
  }
});

test("start-up checks name the file at fault and never show key material", { skip }, () => {
  const pair = rsa();
  const now = Date.now();
  const other = pki.issueClient("other-app", "rsa");
  const ec = pki.client;
  assert.ok(ec);
  const keyText = fs.readFileSync(pair.keyFile, "utf8");
  const keyBody = keyText.split("\n")[1] ?? "";
  const cases: Array<{ files: { certificateFile: string; keyFile: string }; at?: number; expect: RegExp }> = [
    {
      files: { certificateFile: pair.certFile, keyFile: other.keyFile },
      expect: new RegExp(
        `client_key_file ${escapeRegExp(other.keyFile)} is not the private key of client_certificate_file`,
      ),
    },
    {
      files: { certificateFile: ec.certFile, keyFile: ec.keyFile },
      expect: new RegExp(
        `client_key_file ${escapeRegExp(ec.keyFile)} holds a key of type ec; .*needs an RSA key`,
      ),
    },
    {
      files: { certificateFile: pair.certFile, keyFile: pki.keyAs(pair, "encrypted-pkcs8") },
      expect: /is encrypted/,
    },
    {
      files: { certificateFile: pair.certFile, keyFile: pki.keyAs(pair, "encrypted-traditional") },
      expect: /is encrypted/,
    },
    {
      files: { certificateFile: pair.certFile, keyFile: pair.keyFile },
      at: now + 3 * 86_400_000, // the test certificates are valid for 2 days
      expect: new RegExp(`client_certificate_file ${escapeRegExp(pair.certFile)} expired on `),
    },
    {
      files: { certificateFile: path.join(pki.dir, "missing.pem"), keyFile: pair.keyFile },
      expect: /client_certificate_file .*missing\.pem: cannot read \(ENOENT\)/,
    },
    {
      files: { certificateFile: pair.keyFile, keyFile: pair.keyFile },
      expect: /holds no PEM certificate/,
    },
    {
      files: { certificateFile: pair.certFile, keyFile: pair.certFile },
      expect: new RegExp(`client_key_file ${escapeRegExp(pair.certFile)} holds no readable PEM private key`),
    },
  ];
  for (const c of cases) {
    const err = configError(() => createClientAssertionSigner(c.files, c.at ?? now));
    assert.match(err.message, c.expect);
    assert.ok(!err.message.includes("PRIVATE KEY"), err.message);
    assert.ok(!err.message.includes(keyBody), err.message);
    assert.ok(!JSON.stringify(err.details).includes(keyBody));
  }
});

test("the signer exposes no key material", { skip }, () => {
  const pair = rsa();
  const signer = createClientAssertionSigner(
    { certificateFile: pair.certFile, keyFile: pair.keyFile },
    Date.now(),
  );
  const shown = JSON.stringify(signer);
  assert.ok(!shown.includes("PRIVATE"));
  assert.deepEqual(Object.keys(signer).sort(), ["assertion", "certificate"]);
  assert.deepEqual(Object.keys(signer.certificate).sort(), [
    "certificateFile",
    "keyFile",
    "notAfter",
    "subject",
    "thumbprint",
  ]);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
