import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { frameMessage, frameMessages, hasLineBreak } from "../../../src/sink/framing.js";

test("lf framing terminates each message with one LF", () => {
  assert.equal(frameMessages(["<13>one", "<13>two"], "lf").toString(), "<13>one\n<13>two\n");
  assert.equal(frameMessage("x", "lf").toString(), "x\n");
});

test("lf framing turns a raw LF or CR inside a message into a space", () => {
  const input = "CEF:0|a|b\nsplit\r\nhere\r";
  const framed = frameMessages([input, "next"], "lf");
  assert.equal(framed.toString(), "CEF:0|a|b split  here \nnext\n");
  assert.equal(hasLineBreak(input), true);
  assert.equal(hasLineBreak("clean"), false);
});

test("octet counting prefixes the byte length, not the character count", () => {
  assert.equal(frameMessage("abc", "octet-counting").toString(), "3 abc");
  // é is 2 bytes, € 3, 😀 4: 9 bytes for 3 characters.
  assert.equal(frameMessage("é€😀", "octet-counting").toString(), "9 é€😀");
  const long = "x".repeat(12_345);
  assert.equal(frameMessage(long, "octet-counting").subarray(0, 6).toString(), "12345 ");
});

test("octet counting is transparent: LF, CR and leading digits stay as they are", () => {
  const framed = frameMessages(["12 a\nb", "\r"], "octet-counting");
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
      const read = readOctetFrames(frameMessages(texts, "octet-counting"));
      assert.deepEqual(
        read.map((m) => m.toString("hex")),
        texts.map((m) => Buffer.from(m, "utf8").toString("hex")),
      );
    }),
  );
});

test("property: lf framing gives exactly one LF per message and keeps every other byte", () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 20 }), (texts) => {
      const messages = texts;
      const framed = frameMessages(messages, "lf");
      // Byte for byte what each message's own UTF-8 encoding, line breaks made spaces, plus LF gives.
      assert.ok(
        framed.equals(
          Buffer.concat(
            texts.map((t) =>
              Buffer.concat([Buffer.from(t.replace(/[\r\n]/g, " "), "utf8"), Buffer.from("\n")]),
            ),
          ),
        ),
      );
      const lines = framed.toString("utf8").split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, messages.length);
      lines.forEach((line, i) => {
        assert.equal(line, (texts[i] ?? "").replace(/[\r\n]/g, " "));
      });
    }),
  );
});
