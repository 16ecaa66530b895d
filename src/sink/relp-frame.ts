// RELP frames (the Reliable Event Logging Protocol of rsyslog's librelp, doc/relp.md):
//   TXNR SP COMMAND SP DATALEN [SP DATA] LF
// TXNR and DATALEN have 1 to 9 digits, COMMAND 1 to 32 letters; DATA (and its SP) is there only when
// DATALEN > 0, and the LF after it is not counted. Pure functions and an incremental parser, no I/O.
//
// The parser reads what a server sends (`rsp` answers and `serverclose` hints) from a byte stream that
// splits and joins frames anywhere. It refuses a frame as soon as a byte is wrong (a RELP peer that sees
// a framing error closes the connection at once), and a DATALEN above its limit before any data arrives,
// so a hostile length never costs memory.

export const MAX_TXNR = 999_999_999;
const MAX_DIGITS = 9;
const MAX_COMMAND = 32;
/** librelp limits the human text of a response to 80 characters. */
const MAX_RESPONSE_TEXT = 80;

const LF = 0x0a;
const SP = 0x20;

export interface RelpFrame {
  readonly txnr: number;
  readonly command: string;
  /** Empty when DATALEN is 0. */
  readonly data: Buffer;
}

/** A violation of the RELP framing or session rules by the peer; the connection must be closed. */
export class RelpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelpProtocolError";
  }
}

/** One frame on the wire. */
export function encodeFrame(txnr: number, command: string, data: Buffer = EMPTY): Buffer {
  const head = data.length > 0 ? `${txnr} ${command} ${data.length} ` : `${txnr} ${command} 0`;
  const out = Buffer.allocUnsafe(head.length + data.length + 1);
  // The header is ASCII digits, letters and spaces: one byte per character.
  let offset = out.write(head, 0, "latin1");
  offset += data.copy(out, offset);
  out[offset] = LF;
  return out;
}

const EMPTY = Buffer.alloc(0);

type ParserState = "begin" | "txnr" | "command" | "datalen" | "afterDatalen" | "data" | "trailer";

/** Incremental frame parser: push chunks as they arrive, get every frame they complete. */
export class RelpFrameParser {
  private state: ParserState = "begin";
  private txnr = 0;
  private digits = 0;
  private command = "";
  private dataLength = 0;
  private parts: Buffer[] = [];
  private received = 0;
  /** Set once a frame was refused: the stream cannot be resynchronised. */
  private broken: RelpProtocolError | undefined;

  /** `maxDataBytes`: the largest DATALEN accepted. */
  constructor(private readonly maxDataBytes: number) {}

  /** Every frame the chunk completes, in order. Throws RelpProtocolError at the first bad byte. */
  push(chunk: Buffer): RelpFrame[] {
    if (this.broken) throw this.broken;
    const frames: RelpFrame[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "data") {
        const take = Math.min(this.dataLength - this.received, chunk.length - i);
        this.parts.push(chunk.subarray(i, i + take));
        this.received += take;
        i += take;
        if (this.received === this.dataLength) this.state = "trailer";
        continue;
      }
      const c = chunk[i++] as number;
      switch (this.state) {
        case "begin":
          if (!isDigit(c)) this.fail(`a frame must start with a transaction number, got ${describe(c)}`);
          this.txnr = c - 0x30;
          this.digits = 1;
          this.state = "txnr";
          break;
        case "txnr":
          if (isDigit(c)) {
            if (++this.digits > MAX_DIGITS) this.fail(`transaction number longer than ${MAX_DIGITS} digits`);
            this.txnr = this.txnr * 10 + (c - 0x30);
          } else if (c === SP) {
            this.state = "command";
          } else {
            this.fail(`bad byte ${describe(c)} in the transaction number`);
          }
          break;
        case "command":
          if (isLetter(c)) {
            if (this.command.length === MAX_COMMAND) this.fail(`command longer than ${MAX_COMMAND} letters`);
            this.command += String.fromCharCode(c);
          } else if (c === SP && this.command.length > 0) {
            this.digits = 0;
            this.dataLength = 0;
            this.state = "datalen";
          } else {
            this.fail(`bad byte ${describe(c)} in the command`);
          }
          break;
        case "datalen":
          if (isDigit(c)) {
            if (++this.digits > MAX_DIGITS) this.fail(`data length longer than ${MAX_DIGITS} digits`);
            this.dataLength = this.dataLength * 10 + (c - 0x30);
            if (this.dataLength > this.maxDataBytes) {
              this.fail(`data length over ${this.maxDataBytes} bytes in a ${this.command} frame`);
            }
            break;
          }
          if (this.digits === 0) this.fail(`bad byte ${describe(c)} where the data length starts`);
          this.state = "afterDatalen";
          i--; // this byte is the separator: look at it again in the next state
          break;
        case "afterDatalen":
          if (this.dataLength === 0) {
            // No data, so no SP either: the trailer follows the length.
            if (c !== LF) this.fail(`expected LF after a zero data length, got ${describe(c)}`);
            frames.push(this.finish());
          } else if (c === SP) {
            this.state = "data";
          } else {
            this.fail(`expected a space after the data length, got ${describe(c)}`);
          }
          break;
        case "trailer":
          if (c !== LF) this.fail(`expected LF after ${this.dataLength} bytes of data, got ${describe(c)}`);
          frames.push(this.finish());
          break;
      }
    }
    return frames;
  }

  /** True between frames: a connection that ends here ended cleanly. */
  get idle(): boolean {
    return this.state === "begin" && this.broken === undefined;
  }

  private finish(): RelpFrame {
    const data =
      this.parts.length === 0
        ? EMPTY
        : this.parts.length === 1
          ? Buffer.from(this.parts[0] as Buffer)
          : Buffer.concat(this.parts, this.dataLength);
    const frame: RelpFrame = { txnr: this.txnr, command: this.command, data };
    this.state = "begin";
    this.txnr = 0;
    this.command = "";
    this.dataLength = 0;
    this.parts = [];
    this.received = 0;
    return frame;
  }

  private fail(reason: string): never {
    this.broken = new RelpProtocolError(`RELP framing error: ${reason}`);
    throw this.broken;
  }
}

export interface RelpResponse {
  /** The three-digit status: 200 is OK, anything else an error (500 in practice). */
  readonly code: number;
  /** The human text after the code (at most 80 characters, printable). */
  readonly text: string;
  /** What follows the first LF: the offers, in the answer to `open`. */
  readonly body: Buffer;
}

/** The DATA of an `rsp` frame: `CODE [SP TEXT] [LF BODY]`. */
export function parseResponse(data: Buffer): RelpResponse {
  if (data.length < 3 || !isDigit(data[0] ?? 0) || !isDigit(data[1] ?? 0) || !isDigit(data[2] ?? 0)) {
    throw new RelpProtocolError(
      `RELP response without a three-digit status: ${printable(data.subarray(0, 20))}`,
    );
  }
  const code = Number(data.toString("latin1", 0, 3));
  const after = data[3];
  if (after !== undefined && after !== SP && after !== LF) {
    throw new RelpProtocolError(
      `RELP response status not followed by a space: ${printable(data.subarray(0, 20))}`,
    );
  }
  let lf = data.indexOf(LF, 3);
  if (lf === -1) lf = data.length;
  const text = after === SP ? printable(data.subarray(4, Math.min(lf, 4 + MAX_RESPONSE_TEXT))) : "";
  return { code, text, body: data.subarray(Math.min(lf + 1, data.length)) };
}

/** Offers, `name=value,value` one per line (the data of `open` and of its answer). */
export type RelpOffers = ReadonlyMap<string, readonly string[]>;

export function parseOffers(body: Buffer): RelpOffers {
  const offers = new Map<string, string[]>();
  for (const line of body.toString("utf8").split("\n")) {
    if (line === "") continue;
    const eq = line.indexOf("=");
    const name = eq === -1 ? line : line.slice(0, eq);
    const values =
      eq === -1
        ? []
        : line
            .slice(eq + 1)
            .split(",")
            .filter((v) => v !== "");
    offers.set(name, values);
  }
  return offers;
}

export function encodeOffers(offers: ReadonlyArray<readonly [string, readonly string[]]>): Buffer {
  return Buffer.from(offers.map(([name, values]) => `${name}=${values.join(",")}`).join("\n"), "utf8");
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function describe(c: number): string {
  return c >= 0x21 && c <= 0x7e ? `"${String.fromCharCode(c)}"` : `0x${c.toString(16).padStart(2, "0")}`;
}

/** Peer text for logs and errors: printable ASCII only. */
function printable(bytes: Buffer): string {
  return bytes.toString("latin1").replace(/[^\x20-\x7e]/g, "?");
}
