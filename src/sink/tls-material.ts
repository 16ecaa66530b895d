// The TLS files of a destination, read and validated into a SecureContext at every connect (so that
// rotated files are picked up), and a cheap fingerprint of each file for the rotation watcher.
//
// Each file is checked on its own before the context is built, so that an error names the file at
// fault: createSecureContext says "no start line" or "key values mismatch" without saying which file.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import tls from "node:tls";
import {
  FileRefusedError,
  MAX_CA_FILE_BYTES,
  MAX_FILE_BYTES,
  readSmallFileAsync,
} from "../config/read-file.js";
import type { ForwarderError } from "../errors.js";
import { describeTlsError, errnoOf, tlsError } from "./failures.js";
import type { SinkOptions } from "./types.js";

export type TlsFileKey = "ca_file" | "cert_file" | "key_file";

const TLS_FILE_KEYS: readonly TlsFileKey[] = ["ca_file", "cert_file", "key_file"];

/** What stat says about each configured file; it changes when a file is rewritten, replaced or removed. */
export type TlsFileStamps = Readonly<Partial<Record<TlsFileKey, string>>>;

export interface TlsMaterial {
  readonly context: tls.SecureContext;
  /** Taken before the files were read: a change during the read shows up later as a change, never as none. */
  readonly stamps: TlsFileStamps;
}

/** The TLS files the destination names, as [key, path]. */
export function configuredTlsFiles(options: SinkOptions): Array<[TlsFileKey, string]> {
  const out: Array<[TlsFileKey, string]> = [];
  for (const key of TLS_FILE_KEYS) {
    const file = options.tls[key];
    if (file !== undefined) out.push([key, file]);
  }
  return out;
}

/**
 * dev, inode, size, mtime and ctime of each file (following symlinks, so a Kubernetes secret's
 * `..data` swap counts). ctime too, because copying tools may preserve mtime.
 */
export async function stampTlsFiles(options: SinkOptions): Promise<TlsFileStamps> {
  const entries = await Promise.all(
    configuredTlsFiles(options).map(async ([key, file]): Promise<[TlsFileKey, string]> => {
      try {
        const s = await stat(file, { bigint: true });
        return [key, `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`];
      } catch (err) {
        return [key, `unreadable:${errnoOf(err)}`];
      }
    }),
  );
  // In config order whatever order the stats finish in, so that equal stamps serialize equally.
  return Object.fromEntries(entries);
}

/** The keys whose stamp differs, in config order. */
export function changedTlsFiles(before: TlsFileStamps, after: TlsFileStamps): TlsFileKey[] {
  return TLS_FILE_KEYS.filter((key) => before[key] !== after[key]);
}

/** Reads and validates the files; rejects with E_SINK_TLS naming the file at fault. */
export async function loadTlsMaterial(options: SinkOptions): Promise<TlsMaterial> {
  const stamps = await stampTlsFiles(options);
  const { ca_file, cert_file, key_file } = options.tls;
  const [ca, cert, key] = await Promise.all([
    readTlsFile(options, "ca_file", ca_file),
    readTlsFile(options, "cert_file", cert_file),
    readTlsFile(options, "key_file", key_file),
  ]);
  // createSecureContext silently ignores a CA file without any certificate in it.
  if (ca !== undefined) checkCertificate(options, "ca_file", ca);
  if (cert !== undefined) checkCertificate(options, "cert_file", cert);
  if (key !== undefined) checkKey(options, key);
  try {
    return { context: tls.createSecureContext({ minVersion: "TLSv1.2", ca, cert, key }), stamps };
  } catch (err) {
    // Each file parsed on its own: what is left is a CA bundle OpenSSL refuses, or a pair that does not fit.
    let culprit = `tls.cert_file ${cert_file ?? "(unset)"} / tls.key_file ${key_file ?? "(unset)"} (invalid, or the key does not match the certificate)`;
    try {
      tls.createSecureContext({ ca });
    } catch {
      culprit = `tls.ca_file ${ca_file ?? ""}`;
    }
    throw tlsError(options, `invalid TLS material in ${culprit}: ${describeTlsError(err)}`, err);
  }
}

async function readTlsFile(
  options: SinkOptions,
  key: TlsFileKey,
  file: string | undefined,
): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    // Never a FIFO or a device (a connect would hang or read without end), never past the size limit.
    return await readSmallFileAsync(file, key === "ca_file" ? MAX_CA_FILE_BYTES : MAX_FILE_BYTES);
  } catch (err) {
    const reason = err instanceof FileRefusedError ? (err.errno ?? err.reason) : errnoOf(err);
    throw tlsError(options, `cannot read tls.${key} ${file}: ${reason}`, err);
  }
}

function checkCertificate(options: SinkOptions, key: "ca_file" | "cert_file", pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw tlsError(
      options,
      `invalid TLS material in tls.${key} ${options.tls[key] ?? ""}: no PEM certificate (or a truncated one)`,
      err,
    );
  }
}

const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type:\s*4,ENCRYPTED/m;

/** PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys are fine; a passphrase-protected one is refused by name. */
function checkKey(options: SinkOptions, pem: Buffer): void {
  const file = options.tls.key_file ?? "";
  const encrypted = (): ForwarderError =>
    tlsError(
      options,
      `tls.key_file ${file} is encrypted (passphrase-protected), which is not supported: store it decrypted ` +
        "(openssl pkey -in encrypted.key -out plain.key) and readable only by the forwarder",
    );
  if (ENCRYPTED_PEM.test(pem.toString("latin1"))) throw encrypted();
  try {
    createPrivateKey(pem);
  } catch (err) {
    if (errnoOf(err) === "ERR_MISSING_PASSPHRASE") throw encrypted();
    throw tlsError(
      options,
      `invalid TLS material in tls.key_file ${file}: no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC; or a truncated one)`,
      err,
    );
  }
}
