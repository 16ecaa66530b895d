// The RELP session without a socket: the open handshake and its offers, transaction numbers, the window,
// answers (200, 500, to nothing), serverclose, close, and a session whose transaction numbers run out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RelpProtocolError } from "../../../src/sink/relp-frame.js";
import { RelpSession, type RelpSessionEvent } from "../../../src/sink/relp-session.js";

const OPEN_OK =
  "200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";

function rsp(txnr: number, data: string): Buffer {
  const body = Buffer.from(data);
  return Buffer.from(`${txnr} rsp ${body.length}${body.length > 0 ? ` ${data}` : ""}\n`);
}

function opened(windowSize = 4, maxTxnr?: number): RelpSession<string> {
  const session = new RelpSession<string>({ windowSize, software: "test,1", maxTxnr });
  session.open();
  const events = session.receive(rsp(1, OPEN_OK));
  assert.equal(events[0]?.type, "opened");
  return session;
}

const kinds = (events: Array<RelpSessionEvent<string>>) =>
  events.map((e) =>
    e.type === "acked"
      ? `acked ${e.ref}`
      : e.type === "refused"
        ? `refused ${e.ref} ${e.code} ${e.text}`
        : e.type,
  );

test("open: transaction 1 with relp_version, relp_software and commands=syslog; ready only after the answer", () => {
  const session = new RelpSession<string>({ windowSize: 4, software: "mde-siem-forwarder,0.1.0" });
  assert.equal(session.state, "idle");
  assert.equal(
    session.open().toString(),
    "1 open 69 relp_version=0\nrelp_software=mde-siem-forwarder,0.1.0\ncommands=syslog\n",
  );
  assert.equal(session.state, "opening");
  assert.equal(session.canSend, false, "nothing goes out before the answer to open");
  assert.throws(() => session.syslog(Buffer.from("m"), "a"), /state opening/);
  // The answer may arrive in pieces.
  const answer = rsp(1, OPEN_OK);
  assert.deepEqual(session.receive(answer.subarray(0, 10)), []);
  const events = session.receive(answer.subarray(10));
  assert.equal(events.length, 1);
  const [event] = events;
  assert.ok(event?.type === "opened");
  assert.deepEqual(event.offers.get("relp_software"), ["librelp", "1.11.0", "http://librelp.adiscon.com"]);
  assert.equal(session.state, "ready");
  assert.equal(session.canSend, true);
  assert.equal(
    session.syslog(Buffer.from("<13>1 - h a - - - x"), "a").toString(),
    "2 syslog 19 <13>1 - h a - - - x\n",
  );
});

test("open refused or incomplete: a protocol error (the caller closes the connection)", () => {
  const answers: Array<[string, RegExp]> = [
    [
      "500 required command not supported by client",
      /refused the session: 500 required command not supported/,
    ],
    ["200 OK\nrelp_software=x\ncommands=syslog", /no relp_version offer/],
    ["200 OK\nrelp_version=zero\ncommands=syslog", /no relp_version offer/],
    ["200 OK\nrelp_version=0\ncommands=eventlog", /does not offer the syslog command/],
    ["200 OK\nrelp_version=0", /does not offer the syslog command/],
    ["OK", /three-digit status/],
  ];
  for (const [answer, reason] of answers) {
    const session = new RelpSession<string>({ windowSize: 4, software: "t" });
    session.open();
    assert.throws(
      () => session.receive(rsp(1, answer)),
      (err: unknown) => {
        assert.ok(err instanceof RelpProtocolError, answer);
        assert.match(err.message, reason, answer);
        return true;
      },
    );
    assert.notEqual(session.state, "ready", answer);
  }
});

test("window: at most windowSize unanswered; each answer frees one place", () => {
  const session = opened(3);
  const frames = ["a", "b", "c"].map((ref) => session.syslog(Buffer.from(ref), ref).toString());
  assert.deepEqual(frames, ["2 syslog 1 a\n", "3 syslog 1 b\n", "4 syslog 1 c\n"]);
  assert.equal(session.inFlight, 3);
  assert.equal(session.canSend, false);
  assert.throws(() => session.syslog(Buffer.from("d"), "d"), /window full \(3 unanswered\)/);
  assert.deepEqual(kinds(session.receive(rsp(2, "200 OK"))), ["acked a"]);
  assert.equal(session.canSend, true);
  assert.equal(session.syslog(Buffer.from("d"), "d").toString(), "5 syslog 1 d\n");
  assert.equal(session.canSend, false);
  // Several answers in one chunk, an error among them.
  const events = session.receive(
    Buffer.concat([rsp(3, "200 OK"), rsp(4, "500 queue full"), rsp(5, "200 OK")]),
  );
  assert.deepEqual(kinds(events), ["acked b", "refused c 500 queue full", "acked d"]);
  assert.equal(session.inFlight, 0);
  assert.deepEqual(session.unanswered(), []);
});

test("answers are matched by transaction number; an answer to nothing is a protocol error", () => {
  const session = opened(8);
  for (const ref of ["a", "b", "c"]) session.syslog(Buffer.from(ref), ref);
  // librelp answers in order; matching by number also copes with a server that does not.
  assert.deepEqual(kinds(session.receive(rsp(3, "200 OK"))), ["acked b"]);
  assert.deepEqual(session.unanswered(), ["a", "c"]);
  assert.throws(() => session.receive(rsp(3, "200 OK")), /answered transaction 3, which is not waiting/);
  assert.throws(() => opened(8).receive(rsp(9, "200 OK")), /answered transaction 9/);
  assert.throws(() => opened(8).receive(Buffer.from("7 syslog 1 x\n")), /sent the command "syslog"/);
});

test("serverclose: the session ends; what is unanswered is returned in the order sent", () => {
  const session = opened(8);
  for (const ref of ["a", "b", "c", "d"]) session.syslog(Buffer.from(ref), ref);
  const events = session.receive(Buffer.concat([rsp(2, "200 OK"), Buffer.from("0 serverclose 0\n")]));
  assert.deepEqual(kinds(events), ["acked a", "serverclose"]);
  assert.equal(session.state, "closed");
  assert.equal(session.canSend, false);
  assert.deepEqual(session.unanswered(), ["b", "c", "d"]);
  assert.throws(() => session.receive(rsp(3, "200 OK")), /after the session ended/);
});

test("an unknown hint is ignored; close is answered with an empty rsp", () => {
  const session = opened(8);
  session.syslog(Buffer.from("a"), "a");
  assert.deepEqual(kinds(session.receive(Buffer.from("0 nudge 3 abc\n"))), []);
  assert.deepEqual(kinds(session.receive(rsp(2, "200 OK"))), ["acked a"]);
  assert.equal(session.close().toString(), "3 close 0\n");
  assert.equal(session.state, "closing");
  assert.throws(() => session.syslog(Buffer.from("b"), "b"), /state closing/);
  assert.deepEqual(kinds(session.receive(Buffer.concat([rsp(3, ""), Buffer.from("0 serverclose 0\n")]))), [
    "closed",
  ]);
  assert.equal(session.state, "closed");
});

test("transaction numbers: never past the maximum; the last one is kept for close", () => {
  // open = 1, syslog 2..4, close = 5.
  const session = opened(8, 5);
  for (const ref of ["a", "b", "c"]) session.syslog(Buffer.from(ref), ref);
  assert.equal(session.exhausted, true);
  assert.equal(session.canSend, false);
  assert.throws(() => session.syslog(Buffer.from("d"), "d"), /transaction numbers used up/);
  session.receive(Buffer.concat([rsp(2, "200 OK"), rsp(3, "200 OK"), rsp(4, "200 OK")]));
  assert.equal(session.canSend, false, "still used up once answered");
  assert.equal(session.close().toString(), "5 close 0\n");
  // The real maximum is 999,999,999 (9 digits), which librelp never wraps correctly: the session stops there.
  const big = new RelpSession<string>({ windowSize: 1, software: "t" });
  assert.equal(big.exhausted, false);
});

test("a bad frame from the server is a protocol error", () => {
  const session = opened(8);
  assert.throws(() => session.receive(Buffer.from("HTTP/1.1 400 Bad Request\r\n")), RelpProtocolError);
  const huge = opened(8);
  assert.throws(() => huge.receive(Buffer.from("2 rsp 999999999 ")), /data length over 65536 bytes/);
});
