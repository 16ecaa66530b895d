// Stream framing of syslog messages (RFC 6587 for TCP, RFC 5425 for TLS). Pure functions.
// UDP needs none: one message per datagram (RFC 5426).
import type { Framing } from "./config.js";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/**
 * The bytes one message occupies on the wire.
 * - `lf`: message + LF. A raw CR or LF inside would split the event at the receiver, so it
 *   becomes a space: encoders escape them already, this guards against an encoder bug.
 * - `octet-counting`: `<byte length> SP message`, transparent for any content.
 */
export function frameMessage(message: Buffer, framing: Framing): Buffer {
  return frameMessages([message], framing);
}

/** Frames every message into one buffer, so a send costs one socket write. */
export function frameMessages(messages: readonly Buffer[], framing: Framing): Buffer {
  let total = 0;
  const prefixes: string[] = [];
  for (const message of messages) {
    if (framing === "lf") {
      total += message.length + 1;
    } else {
      const prefix = `${message.length} `;
      prefixes.push(prefix);
      total += prefix.length + message.length;
    }
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  messages.forEach((message, i) => {
    if (framing === "lf") {
      message.copy(out, offset);
      if (hasLineBreak(message)) replaceLineBreaks(out.subarray(offset, offset + message.length));
      offset += message.length;
      out[offset++] = LF;
    } else {
      // Prefixes are ASCII digits and a space: one byte per character.
      offset += out.write(prefixes[i] ?? "", offset, "latin1");
      offset += message.copy(out, offset);
    }
  });
  return out;
}

/** True when the message contains a byte that LF framing would rewrite. */
export function hasLineBreak(message: Buffer): boolean {
  return message.includes(LF) || message.includes(CR);
}

function replaceLineBreaks(buf: Buffer): void {
  for (const byte of [LF, CR]) {
    for (let i = buf.indexOf(byte); i !== -1; i = buf.indexOf(byte, i + 1)) buf[i] = SPACE;
  }
}
