// Throwaway PKI for TLS tests: a CA, a server certificate for localhost / 127.0.0.1 / ::1 and,
// optionally, a client certificate for mutual TLS. Made with the openssl CLI (Node cannot issue
// certificates); EC P-256 keys in PKCS#8 PEM. Tests skip TLS cases when openssl is missing.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM text, for servers built in the test. */
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly server: CertPair;
  /** Present when made with `{ client: true }`. */
  readonly client: CertPair | undefined;
  /** Removes the directory. Idempotent. */
  cleanup(): void;
}

export interface TestPkiOptions {
  /** Also issue a client certificate (CN `mde-forwarder-test-client`). */
  client?: boolean;
  /** Subject alternative names of the server certificate. */
  serverNames?: { dns?: readonly string[]; ip?: readonly string[] };
  /** Common name of the CA, to tell two PKIs apart. */
  caName?: string;
}

let opensslChecked: boolean | undefined;

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

    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("ca.key"));
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

    const issue = (name: string, cn: string, extensions: string): CertPair => {
      openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        file(`${name}.key`),
      );
      openssl("req", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${cn}`, "-out", file(`${name}.csr`));
      fs.writeFileSync(file(`${name}.ext`), extensions);
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
        `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
        "-days",
        "2",
        "-sha256",
        "-extfile",
        file(`${name}.ext`),
        "-out",
        file(`${name}.pem`),
      );
      return {
        certFile: file(`${name}.pem`),
        keyFile: file(`${name}.key`),
        cert: fs.readFileSync(file(`${name}.pem`), "utf8"),
        key: fs.readFileSync(file(`${name}.key`), "utf8"),
      };
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
      ? issue(
          "client",
          "mde-forwarder-test-client",
          "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
        )
      : undefined;

    return {
      dir,
      caFile: file("ca.pem"),
      ca: fs.readFileSync(file("ca.pem"), "utf8"),
      server,
      client,
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
