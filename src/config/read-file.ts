// Reading a file the config names (the config itself, a secret, a certificate, a key, a CA bundle) without
// trusting what is at that path. It is opened with O_NONBLOCK, so that a FIFO without a writer cannot hang
// the open, and checked with fstat on that very descriptor (no window between the check and the read):
// only a regular file within the size limit is read, and never more than the limit, even if it grows.
import {
  close,
  closeSync,
  constants,
  fstat,
  fstatSync,
  open,
  openSync,
  read,
  readSync,
  type Stats,
} from "node:fs";
import { promisify } from "node:util";

/** A secret, a certificate or a key: far more than any of them needs. */
export const MAX_FILE_BYTES = 64 * 1024;
/** A CA bundle may be a whole trust store (Debian's ca-certificates.crt is 215 KiB). */
export const MAX_CA_FILE_BYTES = 1024 * 1024;
/** The config file itself (a thousand tenants fit in a tenth of it). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Why a file was refused, in words fit for a config error: `is a FIFO, not a regular file`. Never its content. */
export class FileRefusedError extends Error {
  constructor(
    readonly reason: string,
    readonly errno?: string,
  ) {
    super(reason);
    this.name = "FileRefusedError";
  }
}

/** Reads a regular file of at most `maxBytes`; throws FileRefusedError otherwise. Never blocks on a FIFO. */
export function readSmallFile(file: string, maxBytes = MAX_FILE_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(file, FLAGS);
  } catch (err) {
    throw refusedByErrno(err);
  }
  try {
    check(fstatSync(fd), maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(maxBytes);
    }
    return buffer.subarray(0, length);
  } catch (err) {
    throw err instanceof FileRefusedError ? err : refusedByErrno(err);
  } finally {
    closeSync(fd);
  }
}

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);
const closeAsync = promisify(close);

/** readSmallFile for code on the event loop's hot path (a TLS connect): same checks, no blocking read. */
export async function readSmallFileAsync(file: string, maxBytes = MAX_FILE_BYTES): Promise<Buffer> {
  let fd: number;
  try {
    fd = await openAsync(file, FLAGS);
  } catch (err) {
    throw refusedByErrno(err);
  }
  try {
    check(await fstatAsync(fd), maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await readAsync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(maxBytes);
    }
    return buffer.subarray(0, length);
  } catch (err) {
    throw err instanceof FileRefusedError ? err : refusedByErrno(err);
  } finally {
    await closeAsync(fd);
  }
}

/**
 * Checks a file without reading it: undefined when it is missing (the module that reads it reports that),
 * else as readSmallFile would refuse it. Lets config loading refuse a FIFO in `tls.ca_file` at start-up.
 */
export function inspectFile(file: string, maxBytes = MAX_FILE_BYTES): FileRefusedError | undefined {
  let fd: number;
  try {
    fd = openSync(file, FLAGS);
  } catch (err) {
    const refused = refusedByErrno(err);
    return refused.errno === "ENOENT" ? undefined : refused;
  }
  try {
    check(fstatSync(fd), maxBytes);
    return undefined;
  } catch (err) {
    return err instanceof FileRefusedError ? err : refusedByErrno(err);
  } finally {
    closeSync(fd);
  }
}

function check(stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new FileRefusedError(`is ${kindOf(stats)}, not a regular file`);
  if (stats.size > maxBytes) {
    throw new FileRefusedError(
      `is ${formatBytes(stats.size)}, more than the limit of ${formatBytes(maxBytes)}`,
    );
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}

function tooLarge(maxBytes: number): FileRefusedError {
  return new FileRefusedError(`is larger than the limit of ${formatBytes(maxBytes)}`);
}

function refusedByErrno(err: unknown): FileRefusedError {
  const errno =
    typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
      ? err.code
      : undefined;
  return new FileRefusedError(`cannot read (${errno ?? "error"})`, errno);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
