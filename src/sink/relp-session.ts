// One RELP session, client side, as a state machine without I/O: it builds the frames to write and turns
// the bytes read into events. The sink (relp.ts) owns the socket, the timers and the sends; everything the
// protocol decides (transaction numbers, the window, which answer settles which message, what the server
// may say when) lives here, so it can be tested byte for byte.
//
//   idle --open()--> opening --rsp 200 with relp_version and commands=syslog--> ready --close()--> closing
//   closing --rsp--> closed;   any state --serverclose hint--> closed
//
// Invariants:
// - Transaction numbers start at 1 (the `open`) and grow by one per command. The session never wraps them:
//   librelp's receiver expects 1,000,000,000 after 999,999,999 (10 digits, which its own frames refuse), so
//   a session that used them up is `exhausted` and the sink replaces it with a new one (back to 1).
// - At most `windowSize` syslog commands are unanswered; `canSend` says whether one more may go now, and
//   keeps one transaction number for the final `close`.
// - Every syslog command gets exactly one event (`acked` or `refused`) while the session lives; what is
//   still unanswered when it ends is `unanswered()`, in the order sent, and counts as not delivered.
import {
  encodeFrame,
  encodeOffers,
  MAX_TXNR,
  parseOffers,
  parseResponse,
  type RelpFrame,
  RelpFrameParser,
  type RelpOffers,
  RelpProtocolError,
} from "./relp-frame.js";

export interface RelpSessionOptions {
  /** Syslog commands sent and not yet answered, at most. */
  windowSize: number;
  /** The relp_software offer: `name,version[,url]`. */
  software: string;
  /** Largest DATA accepted in a frame from the server (default 64 KiB: answers are short). */
  maxResponseBytes?: number;
  /** The last transaction number the session may use (default 999,999,999; tests lower it). */
  maxTxnr?: number;
}

export type RelpSessionEvent<T> =
  /** The server accepted the session; syslog commands may follow. */
  | { readonly type: "opened"; readonly offers: RelpOffers }
  /** `rsp 200` for the message sent with `ref`. */
  | { readonly type: "acked"; readonly ref: T }
  /** Any other status for the message sent with `ref` (500 in practice). */
  | { readonly type: "refused"; readonly ref: T; readonly code: number; readonly text: string }
  /** The server is closing the session (hint, transaction 0); no answer follows. */
  | { readonly type: "serverclose" }
  /** The answer to our `close`: the session is over. */
  | { readonly type: "closed" };

export type RelpSessionState = "idle" | "opening" | "ready" | "closing" | "closed";

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
/** What we speak: relp_version 0 is what librelp and rsyslog use in practice. */
const RELP_VERSION = 0;

export class RelpSession<T> {
  private current: RelpSessionState = "idle";
  /** The last transaction number used. */
  private txnr = 0;
  /** Unanswered syslog commands by transaction number; a Map keeps the order they were sent in. */
  private readonly pending = new Map<number, T>();
  private openTxnr = 0;
  private closeTxnr = 0;
  private readonly parser: RelpFrameParser;
  private readonly windowSize: number;
  private readonly maxTxnr: number;

  constructor(private readonly options: RelpSessionOptions) {
    if (!Number.isInteger(options.windowSize) || options.windowSize < 1) {
      throw new RangeError(`windowSize must be a positive integer, got ${options.windowSize}`);
    }
    this.windowSize = options.windowSize;
    this.maxTxnr = Math.min(options.maxTxnr ?? MAX_TXNR, MAX_TXNR);
    this.parser = new RelpFrameParser(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  }

  get state(): RelpSessionState {
    return this.current;
  }

  /** Syslog commands sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** True when one more syslog command may be sent now. */
  get canSend(): boolean {
    return this.current === "ready" && this.pending.size < this.windowSize && this.txnr + 2 <= this.maxTxnr;
  }

  /** True when no transaction number is left for another syslog command: only `close` remains. */
  get exhausted(): boolean {
    return this.txnr + 2 > this.maxTxnr;
  }

  /** The `open` command with our offers. */
  open(): Buffer {
    this.expect("idle", "open");
    this.current = "opening";
    this.openTxnr = this.next();
    const offers = encodeOffers([
      ["relp_version", [String(RELP_VERSION)]],
      ["relp_software", [this.options.software]],
      ["commands", ["syslog"]],
    ]);
    return encodeFrame(this.openTxnr, "open", offers);
  }

  /** A `syslog` command carrying one message (its syslog header included). Only while `canSend`. */
  syslog(message: Buffer, ref: T): Buffer {
    if (!this.canSend) {
      throw new Error(
        this.current !== "ready"
          ? `cannot send a syslog command in state ${this.current}`
          : this.exhausted
            ? "transaction numbers used up: close this session and open a new one"
            : `window full (${this.windowSize} unanswered)`,
      );
    }
    const txnr = this.next();
    this.pending.set(txnr, ref);
    return encodeFrame(txnr, "syslog", message);
  }

  /** The `close` command; nothing may be sent after it. */
  close(): Buffer {
    if (this.current !== "ready") throw new Error(`cannot close a session in state ${this.current}`);
    this.current = "closing";
    this.closeTxnr = this.next();
    return encodeFrame(this.closeTxnr, "close");
  }

  /**
   * Feeds bytes read from the server; returns the events they complete, in order. Throws a
   * RelpProtocolError when the server breaks the protocol: the caller closes the connection at once.
   */
  receive(chunk: Buffer): Array<RelpSessionEvent<T>> {
    const events: Array<RelpSessionEvent<T>> = [];
    for (const frame of this.parser.push(chunk)) {
      if (this.current === "closed") {
        // librelp follows its answer to `close` with a serverclose hint: nothing more is expected.
        if (frame.txnr === 0) continue;
        throw new RelpProtocolError(`RELP server sent "${frame.command}" after the session ended`);
      }
      const event = this.handle(frame);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  /** The refs of the syslog commands still unanswered, in the order they were sent. */
  unanswered(): T[] {
    return [...this.pending.values()];
  }

  private handle(frame: RelpFrame): RelpSessionEvent<T> | undefined {
    if (frame.txnr === 0) {
      // Hints. serverclose is the only one defined; an unknown hint asks nothing of us (no answer, by design).
      if (frame.command !== "serverclose") return undefined;
      this.current = "closed";
      return { type: "serverclose" };
    }
    if (frame.command !== "rsp") {
      throw new RelpProtocolError(`RELP server sent the command "${frame.command}"; a server only answers`);
    }
    if (this.current === "opening" && frame.txnr === this.openTxnr) return this.opened(frame);
    if (this.current === "closing" && frame.txnr === this.closeTxnr) {
      this.current = "closed";
      return { type: "closed" };
    }
    const ref = this.pending.get(frame.txnr);
    if (ref === undefined) {
      throw new RelpProtocolError(
        `RELP server answered transaction ${frame.txnr}, which is not waiting for one`,
      );
    }
    this.pending.delete(frame.txnr);
    const response = parseResponse(frame.data);
    if (response.code === 200) return { type: "acked", ref };
    return { type: "refused", ref, code: response.code, text: response.text };
  }

  private opened(frame: RelpFrame): RelpSessionEvent<T> {
    const response = parseResponse(frame.data);
    if (response.code !== 200) {
      throw new RelpProtocolError(
        `RELP server refused the session: ${response.code}${response.text ? ` ${response.text}` : ""}`,
      );
    }
    const offers = parseOffers(response.body);
    const version = offers.get("relp_version")?.[0];
    if (version === undefined || !/^\d{1,9}$/.test(version)) {
      throw new RelpProtocolError("RELP server's answer to open has no relp_version offer");
    }
    if (!(offers.get("commands") ?? []).includes("syslog")) {
      throw new RelpProtocolError("RELP server does not offer the syslog command (commands=syslog)");
    }
    this.current = "ready";
    return { type: "opened", offers };
  }

  private next(): number {
    if (this.txnr >= this.maxTxnr) throw new Error("transaction numbers used up");
    this.txnr += 1;
    return this.txnr;
  }

  private expect(state: RelpSessionState, what: string): void {
    if (this.current !== state) throw new Error(`cannot ${what} a session in state ${this.current}`);
  }
}
