// Throwaway PKI for TLS tests: a CA, a server certificate for localhost / 127.0.0.1 / ::1 and,
// optionally, client certificates for mutual TLS. Made with the openssl CLI (Node cannot issue
// certificates); EC P-256 keys in PKCS#8 PEM unless an RSA key is asked for, and any key can be
// rewritten in another PEM form (PKCS#1 / SEC1, encrypted). Tests skip TLS cases when openssl is missing.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface CertPair {
  /** Subject CN. */
  readonly cn: string;
  readonly certFile: string;
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
  readonly keyFile: string;
  /** PEM text, for servers built in the test. */
  readonly cert: string;
  readonly key: string;
}

export interface RsaCertPair extends CertPair {
  /** The same key in PKCS#1 form (`BEGIN RSA PRIVATE KEY`). */
  readonly pkcs1KeyFile: string;
}

export type KeyType = "ec" | "rsa";

/**
 * - `traditional`: PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA, SEC1 (`BEGIN EC PRIVATE KEY`) for EC
 * - `encrypted-pkcs8`: `BEGIN ENCRYPTED PRIVATE KEY` (passphrase `test-passphrase`)
 * - `encrypted-traditional`: traditional with `Proc-Type: 4,ENCRYPTED` (same passphrase)
 */
export type KeyForm = "traditional" | "encrypted-pkcs8" | "encrypted-traditional";

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly server: CertPair;
  /** Present when made with `{ client: true }`: CN `mde-forwarder-test-client`, EC key. */
  readonly client: CertPair | undefined;
  /** Present when made with `{ rsaClient: true }`: CN `mde-forwarder-test-rsa-client`, RSA 2048 key. */
  readonly rsaClient: RsaCertPair | undefined;
  /** Issues another client certificate from this CA, in `dir`. */
  issueClient(cn: string, keyType?: KeyType): CertPair;
  /** Writes the key of `pair` in another PEM form to a new file in `dir`; returns its path. */
  keyAs(pair: CertPair, form: KeyForm): string;
  /** Removes the directory. Idempotent. */
  cleanup(): void;
}

export interface TestPkiOptions {
  /** Also issue a client certificate (CN `mde-forwarder-test-client`, EC key). */
  client?: boolean;
  /** Also issue a client certificate with an RSA key (CN `mde-forwarder-test-rsa-client`). */
  rsaClient?: boolean;
  /** Subject alternative names of the server certificate. */
  serverNames?: { dns?: readonly string[]; ip?: readonly string[] };
  /** Common name of the CA, to tell two PKIs apart. */
  caName?: string;
}

export const TEST_KEY_PASSPHRASE = "test-passphrase";

const CLIENT_EXTENSIONS =
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

let opensslChecked: boolean | undefined;
let serial = 0;

/** True when the openssl CLI can be run. */
export function hasOpenssl(): boolean {
  opensslChecked ??= spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;
  return opensslChecked;
}

export function makeTestPki(options: TestPkiOptions = {}): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-sink-pki-"));
  try {
    const file = (name: string) => path.join(dir, name);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const genKey = (out: string, type: KeyType) =>
      type === "rsa"
        ? openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", out)
        : openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out);

    genKey(file("ca.key"), "ec");
    openssl(
      "req",
      "-x509",
      "-new",
      "-key",
      file("ca.key"),
      "-sha256",
      "-days",
      "2",
      "-subj",
      `/CN=${options.caName ?? "mde-forwarder-test-ca"}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      file("ca.pem"),
    );

    const issue = (name: string, cn: string, extensions: string, keyType: KeyType = "ec"): CertPair => {
      genKey(file(`${name}.key`), keyType);
      openssl("req", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${cn}`, "-out", file(`${name}.csr`));
      fs.writeFileSync(file(`${name}.ext`), extensions);
      serial++;
      openssl(
        "x509",
        "-req",
        "-in",
        file(`${name}.csr`),
        "-CA",
        file("ca.pem"),
        "-CAkey",
        file("ca.key"),
        "-set_serial",
        `0x${Date.now().toString(16)}${serial.toString(16).padStart(4, "0")}`,
        "-days",
        "2",
        "-sha256",
        "-extfile",
        file(`${name}.ext`),
        "-out",
        file(`${name}.pem`),
      );
      return {
        cn,
        certFile: file(`${name}.pem`),
        keyFile: file(`${name}.key`),
        cert: fs.readFileSync(file(`${name}.pem`), "utf8"),
        key: fs.readFileSync(file(`${name}.key`), "utf8"),
      };
    };

    let converted = 0;
    const keyAs = (pair: CertPair, form: KeyForm): string => {
      const out = file(`${path.basename(pair.keyFile, ".key")}-${form}-${++converted}.key`);
      const traditional = form === "traditional" || form === "encrypted-traditional";
      const encrypted = form !== "traditional";
      openssl(
        "pkey",
        "-in",
        pair.keyFile,
        ...(traditional ? ["-traditional"] : []),
        ...(encrypted ? ["-aes256", "-passout", `pass:${TEST_KEY_PASSPHRASE}`] : []),
        "-out",
        out,
      );
      return out;
    };

    const dns = options.serverNames?.dns ?? ["localhost"];
    const ip = options.serverNames?.ip ?? ["127.0.0.1", "::1"];
    const san = [...dns.map((d) => `DNS:${d}`), ...ip.map((i) => `IP:${i}`)].join(",");
    const server = issue(
      "server",
      dns[0] ?? "localhost",
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    const client = options.client
      ? issue("client", "mde-forwarder-test-client", CLIENT_EXTENSIONS)
      : undefined;
    let rsaClient: RsaCertPair | undefined;
    if (options.rsaClient) {
      const pair = issue("rsa-client", "mde-forwarder-test-rsa-client", CLIENT_EXTENSIONS, "rsa");
      rsaClient = { ...pair, pkcs1KeyFile: keyAs(pair, "traditional") };
    }

    let issued = 0;
    return {
      dir,
      caFile: file("ca.pem"),
      ca: fs.readFileSync(file("ca.pem"), "utf8"),
      server,
      client,
      rsaClient,
      issueClient: (cn, keyType = "ec") => issue(`client-${++issued}`, cn, CLIENT_EXTENSIONS, keyType),
      keyAs,
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
