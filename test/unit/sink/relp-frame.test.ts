// RELP frames: the encoder, the incremental parser (partial frames, several frames in one chunk, bad frames,
// big data lengths), responses and offers. Byte strings are written out by hand from librelp's doc/relp.md.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  encodeFrame,
  encodeOffers,
  parseOffers,
  parseResponse,
  type RelpFrame,
  RelpFrameParser,
  RelpProtocolError,
} from "../../../src/sink/relp-frame.js";

const b = (text: string) => Buffer.from(text, "utf8");
const plain = (frames: RelpFrame[]) => frames.map((f) => [f.txnr, f.command, f.data.toString("utf8")]);

test("encodeFrame: header, data and trailer; no data and no space when DATALEN is 0", () => {
  assert.equal(encodeFrame(1, "open", b("relp_version=0")).toString(), "1 open 14 relp_version=0\n");
  assert.equal(encodeFrame(42, "close").toString(), "42 close 0\n");
  // DATALEN counts octets, not characters; the data may hold LF.
  assert.equal(encodeFrame(7, "syslog", b("é\nx")).toString(), "7 syslog 4 é\nx\n");
  assert.equal(encodeFrame(999_999_999, "syslog", b("m")).toString(), "999999999 syslog 1 m\n");
});

test("one frame, several frames in one chunk, and an empty-data frame", () => {
  const parser = new RelpFrameParser(1024);
  assert.deepEqual(plain(parser.push(b("1 rsp 6 200 OK\n"))), [[1, "rsp", "200 OK"]]);
  assert.deepEqual(plain(parser.push(b("2 rsp 6 200 OK\n3 rsp 9 500 error\n0 serverclose 0\n4 rsp 0\n"))), [
    [2, "rsp", "200 OK"],
    [3, "rsp", "500 error"],
    [0, "serverclose", ""],
    [4, "rsp", ""],
  ]);
  assert.equal(parser.idle, true);
});

test("a frame split at every byte boundary, and data holding LF and the text of another frame", () => {
  const stream = b("12 rsp 20 200 OK\n13 rsp 6 200 \n0 serverclose 0\n");
  const expected = [
    [12, "rsp", "200 OK\n13 rsp 6 200 "],
    [0, "serverclose", ""],
  ];
  for (let cut = 1; cut < stream.length; cut++) {
    const parser = new RelpFrameParser(1024);
    const frames = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
    assert.deepEqual(plain(frames), expected, `cut at ${cut}`);
  }
  const parser = new RelpFrameParser(1024);
  const frames: RelpFrame[] = [];
  for (const byte of stream) {
    frames.push(...parser.push(Buffer.from([byte])));
    if (frames.length < 2) assert.equal(parser.idle, frames.length === 1 && byte === 0x0a);
  }
  assert.deepEqual(plain(frames), expected);
});

test("any frames, cut into any chunks, parse back to themselves", () => {
  const frameArb = fc.record({
    txnr: fc.integer({ min: 0, max: 999_999_999 }),
    command: fc.stringMatching(/^[A-Za-z]{1,32}$/),
    data: fc.uint8Array({ maxLength: 300 }),
  });
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.txnr, f.command, Buffer.from(f.data))));
        const points = [...new Set(cuts.map((c) => c % stream.length))].sort((x, y) => x - y);
        const parser = new RelpFrameParser(300);
        const out: RelpFrame[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          out.push(...parser.push(stream.subarray(from, p)));
          from = p;
        }
        assert.deepEqual(
          out.map((f) => [f.txnr, f.command, [...f.data]]),
          frames.map((f) => [f.txnr, f.command, [...f.data]]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("bad frames are refused at the first wrong byte, and the parser stays broken", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["leading letter", "rsp 6 200 OK\n", /must start with a transaction number/],
    ["leading space", " 1 rsp 6 200 OK\n", /must start with a transaction number/],
    ["10-digit transaction number", "1234567890 rsp 0\n", /transaction number longer than 9 digits/],
    ["digit in the command", "1 rsp2 0\n", /bad byte "2" in the command/],
    ["empty command", "1  0\n", /bad byte 0x20 in the command/],
    ["33-letter command", `1 ${"a".repeat(33)} 0\n`, /command longer than 32 letters/],
    ["letter in the data length", "1 rsp 6x 200 OK\n", /expected a space after the data length/],
    ["no data length", "1 rsp \n", /where the data length starts/],
    ["no trailer", "1 rsp 6 200 OKX", /expected LF after 6 bytes of data/],
    ["data longer than announced", "1 rsp 2 200 OK\n", /expected LF after 2 bytes of data/],
    ["a space after a zero data length", "1 rsp 0 \n", /expected LF after a zero data length/],
    ["CR LF trailer", "1 rsp 6 200 OK\r\n", /expected LF after 6 bytes of data, got 0x0d/],
  ];
  for (const [name, text, reason] of cases) {
    const parser = new RelpFrameParser(1024);
    assert.throws(
      () => parser.push(b(text)),
      (err: unknown) => {
        assert.ok(err instanceof RelpProtocolError, name);
        assert.match(err.message, reason, name);
        return true;
      },
    );
    assert.equal(parser.idle, false, `${name}: broken`);
    assert.throws(() => parser.push(b("1 rsp 6 200 OK\n")), RelpProtocolError, `${name}: stays broken`);
  }
  // Frames completed before the bad byte of the same chunk are lost with the connection: that is the
  // protocol's rule (the peer that sees a framing error closes at once), and the test pins it.
  const parser = new RelpFrameParser(1024);
  assert.throws(() => parser.push(b("1 rsp 6 200 OK\nX")), RelpProtocolError);
});

test("big data lengths: over the limit is refused at the header, before any data arrives", () => {
  const parser = new RelpFrameParser(64 * 1024);
  // 999,999,999 bytes announced: refused at the digit that crosses the limit, nothing buffered.
  assert.throws(() => parser.push(b("1 rsp 999999999")), /data length over 65536 bytes in a rsp frame/);
  assert.throws(
    () => new RelpFrameParser(64 * 1024).push(b("1 rsp 1234567890")),
    /over 65536 bytes|longer than 9/,
  );
  assert.throws(() => new RelpFrameParser(999_999_999).push(b("1 rsp 1234567890 ")), /longer than 9 digits/);
  // Exactly the limit is accepted, delivered in pieces.
  const exact = new RelpFrameParser(65_536);
  const data = Buffer.alloc(65_536, 0x61);
  const stream = encodeFrame(5, "rsp", data);
  const frames = [
    ...exact.push(stream.subarray(0, 1000)),
    ...exact.push(stream.subarray(1000, 40_000)),
    ...exact.push(stream.subarray(40_000)),
  ];
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.data.length, 65_536);
  assert.ok(frames[0]?.data.equals(data));
  assert.throws(() => new RelpFrameParser(65_536).push(b("1 rsp 65537 ")), /over 65536 bytes/);
});

test("parseResponse: status, human text (at most 80 printable characters) and body", () => {
  assert.deepEqual(parseResponse(b("200 OK")), { code: 200, text: "OK", body: Buffer.alloc(0) });
  const open = parseResponse(b("200 OK\nrelp_version=0\ncommands=syslog"));
  assert.equal(open.code, 200);
  assert.equal(open.text, "OK");
  assert.equal(open.body.toString(), "relp_version=0\ncommands=syslog");
  assert.deepEqual(parseResponse(b("500 command disabled")), {
    code: 500,
    text: "command disabled",
    body: Buffer.alloc(0),
  });
  assert.equal(parseResponse(b("200")).code, 200);
  assert.equal(parseResponse(b(`500 ${"x".repeat(200)}`)).text.length, 80);
  assert.equal(
    parseResponse(b("500 bad\u001b[31m\u0000")).text,
    "bad?[31m?",
    "no control character survives",
  );
  assert.throws(() => parseResponse(b("OK")), /without a three-digit status/);
  assert.throws(() => parseResponse(b("")), /without a three-digit status/);
  assert.throws(() => parseResponse(b("2000 OK")), /not followed by a space/);
});

test("offers: encode and parse back; values split on commas; a name without value", () => {
  const encoded = encodeOffers([
    ["relp_version", ["0"]],
    ["relp_software", ["mde-siem-forwarder", "0.1.0"]],
    ["commands", ["syslog"]],
  ]);
  assert.equal(encoded.toString(), "relp_version=0\nrelp_software=mde-siem-forwarder,0.1.0\ncommands=syslog");
  const offers = parseOffers(
    b(
      "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog,eventlog\nflag\n",
    ),
  );
  assert.deepEqual(offers.get("relp_version"), ["0"]);
  assert.deepEqual(offers.get("relp_software"), ["librelp", "1.11.0", "http://librelp.adiscon.com"]);
  assert.deepEqual(offers.get("commands"), ["syslog", "eventlog"]);
  assert.deepEqual(offers.get("flag"), []);
});
