// A small RELP receiver for tests, on 127.0.0.1 (port 0 by default), written independently of the
// forwarder's RELP code so that a bug there cannot hide in both. It speaks what rsyslog's imrelp speaks
// (librelp): answers `open` with its offers, each `syslog` with `rsp 200 OK`, `close` with an empty `rsp`
// followed by the `serverclose` hint, and checks what librelp's server checks: transaction numbers start at
// 1 and grow by one, frames are well formed. Tests steer it: hold answers back, refuse messages (`rsp 500`),
// answer `open` differently, send serverclose, reset every connection, or write raw bytes.
//
//   const relp = await startRelpServer();
//   t.after(() => relp.close());
//   ... send to 127.0.0.1:relp.port ...
//   await relp.waitForMessages(10);
import net from "node:net";
import tls from "node:tls";

export interface RelpServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Serve TLS with this certificate; `ca` + `requestCert` demand a client certificate. */
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean };
}

export interface RelpServer {
  readonly port: number;
  /** The DATA of every syslog command received, in arrival order (resent ones again). */
  readonly messages: string[];
  /** Sessions opened (answered 200). */
  readonly opens: number;
  /** The DATA of every `open` received. */
  readonly openOffers: string[];
  /** `close` commands received. */
  readonly closes: number;
  /** Connections accepted. */
  readonly accepted: number;
  readonly openConnections: number;
  /** The most syslog commands a session had unanswered at once. */
  readonly maxUnanswered: number;
  /** Syslog commands received and not answered yet, over all sessions. */
  readonly unanswered: number;
  /** Protocol violations seen from the client (the connection is dropped, as librelp does). */
  readonly violations: string[];
  /** Subject CN of the client certificate of each TLS connection that had one. */
  readonly clientCertificates: string[];
  /** Stop answering syslog commands (they wait); `release()` answers them and resumes. */
  hold(): void;
  release(): void;
  /** Answer no more than this many syslog commands in all (the others wait, as with hold()) until release(). */
  answerLimit: number | undefined;
  /** Messages for which this returns a status other than 200 are answered with it (`500 ...`). */
  answerWith: ((message: string) => string) | undefined;
  /** The DATA of the answer to `open` (default: 200 OK with librelp's offers). */
  openAnswer: string | undefined;
  /** Never answer `open`. */
  ignoreOpen: boolean;
  /** Sends the serverclose hint on every connection, then ends them (what rsyslog does on shutdown). */
  serverClose(): void;
  /** Resets (RST) every connection at once; keeps listening. */
  killConnections(): void;
  /** Writes raw bytes to every open session. */
  inject(bytes: Buffer | string): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<void>;
  waitUntil(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Stops listening and resets every connection. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_OPEN_ANSWER =
  "200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";

function frame(txnr: number, command: string, data = ""): Buffer {
  const body = Buffer.from(data, "utf8");
  return Buffer.concat([
    Buffer.from(body.length > 0 ? `${txnr} ${command} ${body.length} ` : `${txnr} ${command} 0`, "latin1"),
    body,
    Buffer.from("\n"),
  ]);
}

interface Session {
  readonly socket: net.Socket;
  buffer: Buffer;
  expected: number;
  opened: boolean;
  /** Answers not written yet (held back, or waiting for the end of the chunk), in order. */
  held: Buffer[];
  unanswered: number;
}

export async function startRelpServer(options: RelpServerOptions = {}): Promise<RelpServer> {
  const knobs: Pick<RelpServer, "answerWith" | "openAnswer" | "ignoreOpen" | "answerLimit"> = {
    answerLimit: undefined,
    answerWith: undefined,
    openAnswer: undefined,
    ignoreOpen: false,
  };
  const sessions = new Set<Session>();
  const raw = new Set<net.Socket>();
  const waiters = new Set<() => void>();
  let holding = false;
  const state = {
    messages: [] as string[],
    openOffers: [] as string[],
    opens: 0,
    closes: 0,
    accepted: 0,
    maxUnanswered: 0,
    answered: 0,
    violations: [] as string[],
    clientCertificates: [] as string[],
  };
  const notify = () => {
    for (const w of waiters) w();
  };

  const violation = (session: Session, reason: string) => {
    state.violations.push(reason);
    session.socket.destroy();
  };

  /** Answers go out after the whole chunk was read, as one write (so pipelined commands show as unanswered). */
  const answer = (session: Session, bytes: Buffer) => {
    session.held.push(bytes);
  };
  const flush = (session: Session) => {
    if (holding || session.held.length === 0) return;
    const allowed =
      knobs.answerLimit === undefined ? session.held.length : Math.max(0, knobs.answerLimit - state.answered);
    const answers = session.held.splice(0, allowed);
    if (answers.length === 0) return;
    session.socket.write(Buffer.concat(answers));
    session.unanswered -= answers.length;
    state.answered += answers.length;
  };

  /** Parses every complete frame in the session's buffer (the client's frames are well formed or wrong). */
  const consume = (session: Session) => {
    for (;;) {
      if (session.buffer.length === 0) return;
      const text = session.buffer.toString("latin1", 0, Math.min(session.buffer.length, 64));
      // The header, up to the byte after DATALEN (SP before data, or the LF of an empty frame).
      const m = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])/.exec(text);
      if (m === null) {
        const partial = /^(\d{0,9}|\d{1,9} [A-Za-z]{0,32}|\d{1,9} [A-Za-z]{1,32} \d{0,9})$/;
        if (text.length >= 64 || !partial.test(text)) {
          violation(session, `bad frame header: ${JSON.stringify(text.slice(0, 40))}`);
        }
        return;
      }
      const [, txnrText, command, lengthText, separator] = m as unknown as [
        string,
        string,
        string,
        string,
        string,
      ];
      const length = Number(lengthText);
      const headLength = m[0].length - 1;
      if (length > 0 !== (separator === " ")) return violation(session, "bad separator after DATALEN");
      const dataStart = headLength + (length > 0 ? 1 : 0);
      const end = dataStart + length;
      if (session.buffer.length < end + 1) return;
      if (session.buffer[end] !== 0x0a) return violation(session, `no LF after ${length} bytes of data`);
      const data = session.buffer.toString("utf8", dataStart, end);
      session.buffer = session.buffer.subarray(end + 1);
      const txnr = Number(txnrText);
      if (txnr !== session.expected) {
        return violation(session, `transaction ${txnr} where ${session.expected} was due`);
      }
      session.expected = txnr >= 999_999_999 ? 1 : txnr + 1;
      if (!session.opened && command !== "open") return violation(session, `${command} before open`);
      switch (command) {
        case "open":
          state.openOffers.push(data);
          if (knobs.ignoreOpen) break;
          session.socket.write(frame(txnr, "rsp", knobs.openAnswer ?? DEFAULT_OPEN_ANSWER));
          session.opened = true;
          state.opens++;
          break;
        case "syslog": {
          state.messages.push(data);
          session.unanswered++;
          state.maxUnanswered = Math.max(state.maxUnanswered, session.unanswered);
          answer(session, frame(txnr, "rsp", knobs.answerWith?.(data) ?? "200 OK"));
          break;
        }
        case "close":
          state.closes++;
          session.socket.write(frame(txnr, "rsp"));
          session.socket.end(frame(0, "serverclose"));
          break;
        default:
          return violation(session, `unknown command ${command}`);
      }
      notify();
    }
  };

  const onConnection = (socket: net.Socket) => {
    state.accepted++;
    if (socket instanceof tls.TLSSocket) {
      const cn = socket.getPeerCertificate()?.subject?.CN;
      if (typeof cn === "string") state.clientCertificates.push(cn);
    }
    const session: Session = {
      socket,
      buffer: Buffer.alloc(0),
      expected: 1,
      opened: false,
      held: [],
      unanswered: 0,
    };
    sessions.add(session);
    socket.on("data", (chunk: Buffer) => {
      session.buffer = session.buffer.length === 0 ? chunk : Buffer.concat([session.buffer, chunk]);
      consume(session);
      if (!session.socket.destroyed) flush(session);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sessions.delete(session);
      notify();
    });
    notify();
  };

  const server = options.tls
    ? tls.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
          requestCert: options.tls.requestCert ?? false,
          rejectUnauthorized: options.tls.requestCert ?? false,
        },
        onConnection,
      )
    : net.createServer(onConnection);
  // The raw TCP sockets (under TLS too): resetting them is the abrupt kill.
  server.on("connection", (socket: net.Socket) => {
    raw.add(socket);
    socket.on("close", () => raw.delete(socket));
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;

  const waitUntil = (predicate: () => boolean, what: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        done();
        resolve();
      };
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const api: RelpServer = {
    port,
    get messages() {
      return state.messages;
    },
    get opens() {
      return state.opens;
    },
    get openOffers() {
      return state.openOffers;
    },
    get closes() {
      return state.closes;
    },
    get accepted() {
      return state.accepted;
    },
    get openConnections() {
      return sessions.size;
    },
    get maxUnanswered() {
      return state.maxUnanswered;
    },
    get unanswered() {
      let n = 0;
      for (const s of sessions) n += s.unanswered;
      return n;
    },
    get violations() {
      return state.violations;
    },
    get clientCertificates() {
      return state.clientCertificates;
    },
    get answerLimit() {
      return knobs.answerLimit;
    },
    set answerLimit(value) {
      knobs.answerLimit = value;
      for (const s of sessions) flush(s);
    },
    get answerWith() {
      return knobs.answerWith;
    },
    set answerWith(value) {
      knobs.answerWith = value;
    },
    get openAnswer() {
      return knobs.openAnswer;
    },
    set openAnswer(value) {
      knobs.openAnswer = value;
    },
    get ignoreOpen() {
      return knobs.ignoreOpen;
    },
    set ignoreOpen(value) {
      knobs.ignoreOpen = value;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      knobs.answerLimit = undefined;
      for (const s of sessions) flush(s);
    },
    serverClose() {
      for (const s of sessions) s.socket.end(frame(0, "serverclose"));
    },
    killConnections() {
      for (const socket of raw) socket.resetAndDestroy();
    },
    inject(bytes) {
      for (const s of sessions) s.socket.write(bytes);
    },
    waitForMessages(count, timeoutMs) {
      return waitUntil(() => state.messages.length >= count, `${count} RELP messages`, timeoutMs);
    },
    waitUntil,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of raw) socket.resetAndDestroy();
      });
      return closed;
    },
  };
  return api;
}
