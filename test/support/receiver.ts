// A real syslog receiver for tests: TCP, TLS or UDP on 127.0.0.1 (port 0 by default). Stream
// transports accept LF framing and octet counting (RFC 6587 / 5425), auto-detected per frame the
// way rsyslog does: a frame starting with a digit is octet-counted. It collects every message,
// can be stopped and restarted on the same port, and can reset all its connections at once.
//
//   const rx = await startReceiver({ protocol: "tcp" });
//   t.after(() => rx.close());
//   ... send to 127.0.0.1:rx.port ...
//   await rx.waitForMessages(10);
import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";

export type ReceiverProtocol = "tcp" | "tls" | "udp";
export type ReceiverFraming = "auto" | "lf" | "octet-counting";

export interface ReceiverOptions {
  protocol: ReceiverProtocol;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Stream framing; default "auto". */
  framing?: ReceiverFraming;
  /** Required for tls. */
  tls?: ReceiverTlsOptions;
  /** tcp only: accept connections but never read from them, so the sender's buffers fill up. */
  neverRead?: boolean;
}

export interface ReceiverTlsOptions {
  /** PEM text. */
  cert: string;
  key: string;
  ca?: string;
  /** Demands a client certificate and verifies it against `ca` during the handshake (an alert on failure). */
  requestCert?: boolean;
  /**
   * Asks for a client certificate but lets the handshake complete without one, then drops the
   * connection if it is missing or not verified by `ca`, without an alert: what rsyslog's gtls driver does.
   */
  lateReject?: boolean;
  /** Protocol versions and cipher string, e.g. a TLS 1.1-only server (`ciphers: "DEFAULT:@SECLEVEL=0"`). */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
}

export interface Receiver {
  readonly protocol: ReceiverProtocol;
  readonly host: string;
  /** Fixed after the first start, kept across stop/start. */
  readonly port: number;
  readonly listening: boolean;
  /** Every message received so far, in arrival order, decoded as UTF-8 (live array). */
  readonly messages: string[];
  /** performance.now() at the arrival of each message, parallel to `messages`. */
  readonly arrivedAt: number[];
  /** Connections accepted so far (stream transports). */
  readonly accepted: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Connections the sender ended politely (FIN, after close_notify on TLS) rather than reset. */
  readonly endedBySender: number;
  /** Subject CN of the client certificate of each verified TLS connection. */
  readonly clientCertificates: string[];
  /** Handshake failures seen by the TLS server. */
  readonly tlsErrors: Error[];
  /** Framing errors (a bad octet count); the connection is dropped, as rsyslog does. */
  readonly framingErrors: string[];
  /** Resolves when `predicate` holds, checked after every message and connection; rejects after `timeoutMs`. */
  waitUntil(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  waitForMessages(count: number, timeoutMs?: number): Promise<void>;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Resets (TCP RST) every open connection at once; keeps listening. */
  killConnections(): void;
  /** tls: serves this certificate (and trusts this CA for client certificates) on new connections; open ones keep theirs. */
  setTls(tls: Pick<ReceiverTlsOptions, "cert" | "key" | "ca">): void;
  /** Stops listening. Open connections are reset (`abrupt`, the default) or ended after what was read. */
  stop(options?: { abrupt?: boolean }): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops (abruptly) for good; for `t.after`. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 10_000;
const GRACEFUL_STOP_MS = 2_000;
const LF = 0x0a;
const SPACE = 0x20;

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const receiver = new SyslogReceiver(options);
  await receiver.start();
  return receiver;
}

interface Waiter {
  predicate: () => boolean;
  resolve: () => void;
}

class SyslogReceiver implements Receiver {
  readonly protocol: ReceiverProtocol;
  readonly host: string;
  port: number;
  readonly messages: string[] = [];
  readonly arrivedAt: number[] = [];
  accepted = 0;
  endedBySender = 0;
  readonly clientCertificates: string[] = [];
  readonly tlsErrors: Error[] = [];
  readonly framingErrors: string[] = [];
  private options: ReceiverOptions;
  private server: net.Server | undefined;
  private udp: dgram.Socket | undefined;
  /** Raw TCP sockets (under TLS too): resetting them is the abrupt kill. */
  private readonly sockets = new Set<net.Socket>();
  /** The sockets messages are read from (the TLS sockets under TLS): ending them is the graceful stop. */
  private readonly streams = new Set<net.Socket>();
  private readonly waiters = new Set<Waiter>();

  constructor(options: ReceiverOptions) {
    if (options.protocol === "tls" && options.tls === undefined)
      throw new Error("tls receiver needs tls.cert/key");
    this.options = options;
    this.protocol = options.protocol;
    this.host = options.host ?? "127.0.0.1";
    this.port = options.port ?? 0;
  }

  get listening(): boolean {
    return this.server?.listening === true || this.udp !== undefined;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async start(): Promise<void> {
    if (this.listening) return;
    if (this.protocol === "udp") {
      const socket = dgram.createSocket(net.isIPv6(this.host) ? "udp6" : "udp4");
      socket.on("message", (msg) => this.add(msg));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.port, this.host, () => {
          socket.removeListener("error", reject);
          resolve();
        });
      });
      this.udp = socket;
      this.port = socket.address().port;
      return;
    }
    const server = this.protocol === "tls" ? this.tlsServer() : this.tcpServer();
    server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      this.accepted++;
      socket.on("error", () => {});
      socket.once("close", () => {
        this.sockets.delete(socket);
        this.check();
      });
      this.check();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, this.host, () => {
        server.removeListener("error", reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address();
    if (address !== null && typeof address === "object") this.port = address.port;
  }

  private tcpServer(): net.Server {
    const neverRead = this.options.neverRead === true;
    return net.createServer({ pauseOnConnect: neverRead }, (socket) => {
      if (neverRead) this.streams.add(socket);
      else this.readFrames(socket);
    });
  }

  private tlsServer(): tls.Server {
    const t = this.options.tls;
    if (t === undefined) throw new Error("unreachable");
    const server = tls.createServer(secureContextOptions(t), (socket) => {
      if (t.lateReject === true && !socket.authorized) {
        this.tlsErrors.push(
          new Error(
            `client refused after the handshake: ${String(socket.authorizationError ?? "no certificate")}`,
          ),
        );
        socket.destroy();
        this.check();
        return;
      }
      const peer = socket.getPeerCertificate();
      if (peer?.subject?.CN !== undefined) this.clientCertificates.push(String(peer.subject.CN));
      this.readFrames(socket);
    });
    server.on("tlsClientError", (err) => {
      this.tlsErrors.push(err);
      this.check();
    });
    return server;
  }

  private readFrames(socket: net.Socket): void {
    const framing = this.options.framing ?? "auto";
    let buffer: Buffer = Buffer.alloc(0);
    this.streams.add(socket);
    socket.once("close", () => this.streams.delete(socket));
    socket.once("end", () => {
      this.endedBySender++;
      this.check();
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      let offset = 0;
      for (;;) {
        if (offset >= buffer.length) break;
        const first = buffer[offset] ?? 0;
        const octet = framing === "octet-counting" || (framing === "auto" && first >= 0x30 && first <= 0x39);
        if (octet) {
          const space = buffer.indexOf(SPACE, offset);
          if (space === -1) {
            if (buffer.length - offset > 10) return this.badFrame(socket, "no space after the octet count");
            break;
          }
          const digits = buffer.toString("latin1", offset, space);
          if (!/^[1-9][0-9]{0,9}$/.test(digits)) return this.badFrame(socket, `bad octet count "${digits}"`);
          const end = space + 1 + Number(digits);
          if (end > buffer.length) break;
          this.add(buffer.subarray(space + 1, end));
          offset = end;
        } else {
          const lf = buffer.indexOf(LF, offset);
          if (lf === -1) break;
          this.add(buffer.subarray(offset, lf));
          offset = lf + 1;
        }
      }
      buffer = offset >= buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(offset));
    });
  }

  private badFrame(socket: net.Socket, reason: string): void {
    this.framingErrors.push(reason);
    socket.destroy();
    this.check();
  }

  private add(message: Buffer): void {
    this.messages.push(message.toString("utf8"));
    this.arrivedAt.push(performance.now());
    this.check();
  }

  private check(): void {
    for (const waiter of this.waiters) {
      if (waiter.predicate()) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  waitUntil(predicate: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `receiver: timed out after ${timeoutMs} ms waiting for ${what} (have ${this.messages.length} messages, ${this.accepted} connections)`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  waitForMessages(count: number, timeoutMs?: number): Promise<void> {
    return this.waitUntil(() => this.messages.length >= count, `${count} messages`, timeoutMs);
  }

  waitForConnections(count: number, timeoutMs?: number): Promise<void> {
    return this.waitUntil(() => this.accepted >= count, `${count} connections`, timeoutMs);
  }

  killConnections(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  setTls(options: Pick<ReceiverTlsOptions, "cert" | "key" | "ca">): void {
    const current = this.options.tls;
    if (current === undefined) throw new Error("setTls: not a tls receiver");
    const { ca: _, ...rest } = current;
    const next = { ...rest, ...options };
    this.options = { ...this.options, tls: next };
    // Client-certificate checks are the server's, not the context's: they stay as started.
    if (this.server instanceof tls.Server) this.server.setSecureContext(secureContextOptions(next));
  }

  async stop(options: { abrupt?: boolean } = {}): Promise<void> {
    if (this.udp !== undefined) {
      const socket = this.udp;
      this.udp = undefined;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return;
    }
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (options.abrupt === false) {
      for (const socket of this.streams) socket.end();
      // A connection that does not close in time (a TLS handshake in progress) is reset.
      const timer = setTimeout(() => this.killConnections(), GRACEFUL_STOP_MS);
      await closed;
      clearTimeout(timer);
    } else {
      this.killConnections();
      await closed;
    }
  }

  async close(): Promise<void> {
    await this.stop({ abrupt: true });
  }
}

function secureContextOptions(t: ReceiverTlsOptions): tls.TlsOptions {
  const ask = t.requestCert === true || t.lateReject === true;
  return {
    cert: t.cert,
    key: t.key,
    ...(t.ca === undefined ? {} : { ca: t.ca }),
    ...(t.minVersion === undefined ? {} : { minVersion: t.minVersion }),
    ...(t.maxVersion === undefined ? {} : { maxVersion: t.maxVersion }),
    ...(t.ciphers === undefined ? {} : { ciphers: t.ciphers }),
    requestCert: ask,
    rejectUnauthorized: ask && t.lateReject !== true,
  };
}
