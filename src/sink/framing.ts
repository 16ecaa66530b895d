// Stream framing of syslog messages (RFC 6587 for TCP, RFC 5425 for TLS). Pure functions.
// UDP needs none: one message per datagram (RFC 5426).
// Messages come as text and leave as one buffer per send: each is encoded to UTF-8 straight into that
// buffer, so a batch costs one allocation and one copy instead of a Buffer per message copied again.
import type { Framing } from "./config.js";

const LF = 0x0a;
const LINE_BREAK = /[\r\n]/g;

/**
 * The bytes one message occupies on the wire.
 * - `lf`: message + LF. A raw CR or LF inside would split the event at the receiver, so it
 *   becomes a space: encoders escape them already, this guards against an encoder bug.
 * - `octet-counting`: `<byte length> SP message`, transparent for any content.
 */
export function frameMessage(message: string, framing: Framing): Buffer {
  return frameMessages([message], framing);
}

/** Frames every message (UTF-8) into one buffer, so a send costs one socket write. */
export function frameMessages(messages: readonly string[], framing: Framing): Buffer {
  const n = messages.length;
  const texts = framing === "lf" ? messages.map(withoutLineBreaks) : messages;
  const lengths = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const length = Buffer.byteLength(texts[i] as string, "utf8");
    lengths[i] = length;
    total += framing === "lf" ? length + 1 : decimalDigits(length) + 1 + length;
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i] as number;
    // Prefixes are ASCII digits and a space: one byte per character.
    if (framing !== "lf") offset += out.write(`${length} `, offset, "latin1");
    offset += out.write(texts[i] as string, offset, "utf8");
    if (framing === "lf") out[offset++] = LF;
  }
  return out;
}

/** True when the message contains a character that LF framing would rewrite (CR and LF are one byte each). */
export function hasLineBreak(message: string): boolean {
  return message.includes("\n") || message.includes("\r");
}

/** In UTF-8 a CR or LF byte is only ever that character, so replacing characters is replacing bytes. */
function withoutLineBreaks(message: string): string {
  return hasLineBreak(message) ? message.replace(LINE_BREAK, " ") : message;
}

function decimalDigits(n: number): number {
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  return digits;
}
