import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { frameMessage, frameMessages, hasLineBreak } from "../../../src/sink/framing.js";

const b = (s: string) => Buffer.from(s, "utf8");

test("lf framing terminates each message with one LF", () => {
  assert.equal(frameMessages([b("<13>one"), b("<13>two")], "lf").toString(), "<13>one\n<13>two\n");
  assert.equal(frameMessage(b("x"), "lf").toString(), "x\n");
});

test("lf framing turns a raw LF or CR inside a message into a space, without touching the input", () => {
  const input = b("CEF:0|a|b\nsplit\r\nhere\r");
  const framed = frameMessages([input, b("next")], "lf");
  assert.equal(framed.toString(), "CEF:0|a|b split  here \nnext\n");
  assert.equal(input.toString(), "CEF:0|a|b\nsplit\r\nhere\r");
  assert.equal(hasLineBreak(input), true);
  assert.equal(hasLineBreak(b("clean")), false);
});

test("octet counting prefixes the byte length, not the character count", () => {
  assert.equal(frameMessage(b("abc"), "octet-counting").toString(), "3 abc");
  // é is 2 bytes, € 3, 😀 4: 9 bytes for 3 characters.
  assert.equal(frameMessage(b("é€😀"), "octet-counting").toString(), "9 é€😀");
  const long = b("x".repeat(12_345));
  assert.equal(frameMessage(long, "octet-counting").subarray(0, 6).toString(), "12345 ");
});

test("octet counting is transparent: LF, CR and leading digits stay as they are", () => {
  const framed = frameMessages([b("12 a\nb"), b("\r")], "octet-counting");
  assert.equal(framed.toString(), "6 12 a\nb1 \r");
});

test("no messages frame to nothing", () => {
  assert.equal(frameMessages([], "lf").length, 0);
  assert.equal(frameMessages([], "octet-counting").length, 0);
});

/** An independent reader of octet-counted frames. */
function readOctetFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const space = buf.indexOf(0x20, offset);
    const len = Number(buf.toString("latin1", offset, space));
    out.push(buf.subarray(space + 1, space + 1 + len));
    offset = space + 1 + len;
  }
  return out;
}

test("property: octet-counted frames read back to the same messages", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 20 }), (texts) => {
      const messages = texts.map(b);
      const read = readOctetFrames(frameMessages(messages, "octet-counting"));
      assert.deepEqual(
        read.map((m) => m.toString("hex")),
        messages.map((m) => m.toString("hex")),
      );
    }),
  );
});

test("property: lf framing gives exactly one LF per message and keeps every other byte", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 20 }), (texts) => {
      const messages = texts.map(b);
      const framed = frameMessages(messages, "lf");
      const lines = framed.toString("utf8").split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, messages.length);
      lines.forEach((line, i) => {
        assert.equal(line, (texts[i] ?? "").replace(/[\r\n]/g, " "));
      });
    }),
  );
});
