import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import type { TlsOptions } from "../../../src/sink/config.js";
import { createSink, type Sink } from "../../../src/sink/index.js";
import { type Receiver, type ReceiverOptions, startReceiver } from "../../support/receiver.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";
import { idOf, message, recordUp, sinkDeps, sinkOptions } from "./helpers.js";

const skip = hasOpenssl() ? false : "the openssl CLI is not installed";

describe("TLS transport", { skip }, () => {
  let pki: TestPki;
  let other: TestPki;

  before(() => {
    pki = makeTestPki({ client: true });
    other = makeTestPki({ caName: "some-other-ca" });
  });
  after(() => {
    pki?.cleanup();
    other?.cleanup();
  });

  async function receiver(t: test.TestContext, extra: Partial<ReceiverOptions> = {}): Promise<Receiver> {
    const rx = await startReceiver({
      protocol: "tls",
      tls: { cert: pki.server.cert, key: pki.server.key },
      ...extra,
    });
    t.after(() => rx.close());
    return rx;
  }

  function tlsSink(t: test.TestContext, port: number, tlsOptions: Partial<TlsOptions>, extra = {}): Sink {
    const sink = createSink(
      sinkOptions({
        protocol: "tls",
        port,
        framing: "octet-counting",
        tls: { reject_unauthorized: true, ...tlsOptions },
        ...extra,
      }),
      sinkDeps(),
    );
    t.after(() => sink.close(100));
    return sink;
  }

  async function rejectsTls(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof ForwarderError, String(err));
      assert.equal(err.code, "E_SINK_TLS", err.message);
      assert.match(err.message, pattern);
      return true;
    });
  }

  test("a verified connection carries octet-counted messages", async (t) => {
    const rx = await receiver(t);
    const up = recordUp();
    const sink = createSink(
      sinkOptions({
        protocol: "tls",
        port: rx.port,
        framing: "octet-counting",
        tls: { reject_unauthorized: true, ca_file: pki.caFile },
      }),
      sinkDeps({ onUpChange: up.onUpChange }),
    );
    t.after(() => sink.close(100));
    const all = Array.from({ length: 500 }, (_, i) => message(i, " line\nbreak é"));
    await Promise.all([sink.send(all.slice(0, 250)), sink.send(all.slice(250))]);
    await rx.waitForMessages(500);
    assert.deepEqual(
      rx.messages.map(idOf),
      all.map((_, i) => i),
    );
    assert.ok(rx.messages.every((m) => m.endsWith(" line\nbreak é")));
    assert.deepEqual(up.calls, [[true, undefined]]);
  });

  test("lf framing works over TLS too, and server_name is what the certificate is checked against", async (t) => {
    const rx = await receiver(t, { framing: "lf" });
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile, server_name: "localhost" }, { framing: "lf" });
    await sink.send([message(1), message(2)]);
    await rx.waitForMessages(2);
    assert.deepEqual(rx.messages.map(idOf), [1, 2]);
  });

  test("a server certificate from an untrusted CA is rejected with E_SINK_TLS", async (t) => {
    const rx = await receiver(t);
    const sink = tlsSink(t, rx.port, { ca_file: other.caFile });
    await rejectsTls(sink.send([message(1)]), /TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate/);
    assert.equal(sink.up, false);
    assert.equal(rx.messages.length, 0);
  });

  test("a server name the certificate does not cover is rejected with E_SINK_TLS", async (t) => {
    const rx = await receiver(t);
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile, server_name: "wrong.example" });
    await rejectsTls(sink.send([message(1)]), /does not match.*wrong\.example/);
  });

  test("reject_unauthorized: false connects despite an untrusted certificate", async (t) => {
    const rx = await receiver(t);
    const sink = tlsSink(t, rx.port, { ca_file: other.caFile, reject_unauthorized: false });
    await sink.send([message(1)]);
    await rx.waitForMessages(1);
    assert.equal(sink.up, true);
  });

  test("mutual TLS: a server that requires a client certificate accepts ours", async (t) => {
    const rx = await receiver(t, {
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
    });
    const client = pki.client;
    assert.ok(client !== undefined);
    const sink = tlsSink(t, rx.port, {
      ca_file: pki.caFile,
      cert_file: client.certFile,
      key_file: client.keyFile,
    });
    await sink.send([message(1)]);
    await rx.waitForMessages(1);
    assert.deepEqual(rx.clientCertificates, ["mde-forwarder-test-client"]);
  });

  test("mutual TLS: without a client certificate the server refuses and the send rejects E_SINK_TLS", async (t) => {
    const rx = await receiver(t, {
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
    });
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile });
    await rejectsTls(sink.send([message(1)]), /certificate/);
    assert.equal(rx.messages.length, 0);
  });

  test("an unreadable CA file is E_SINK_TLS naming the file; the file is read again at the next connect", async (t) => {
    const rx = await receiver(t);
    const caFile = path.join(pki.dir, "rotated-ca.pem");
    const sink = tlsSink(t, rx.port, { ca_file: caFile });
    await rejectsTls(sink.send([message(1)]), /cannot read tls\.ca_file .*rotated-ca\.pem: ENOENT/);

    fs.writeFileSync(caFile, "not a certificate\n");
    await rejectsTls(sink.send([message(2)]), /invalid TLS material in tls\.ca_file .*rotated-ca\.pem/);

    fs.writeFileSync(caFile, other.ca);
    await rejectsTls(sink.send([message(3)]), /certificate/);

    fs.writeFileSync(caFile, pki.ca);
    await sink.send([message(4)]);
    await rx.waitForMessages(1);
    assert.deepEqual(rx.messages.map(idOf), [4]);
  });

  test("a key that does not match the client certificate is E_SINK_TLS naming cert_file/key_file", async (t) => {
    const rx = await receiver(t);
    const client = pki.client;
    assert.ok(client !== undefined);
    const sink = tlsSink(t, rx.port, {
      ca_file: pki.caFile,
      cert_file: client.certFile,
      key_file: pki.server.keyFile,
    });
    await rejectsTls(sink.send([message(1)]), /tls\.cert_file .*client\.pem \/ tls\.key_file .*server\.key/);
  });

  test("a handshake that never completes is bounded by connect_timeout (E_SINK_CONNECT)", async (t) => {
    // A plain TCP listener that never reads: TCP connects, the TLS handshake hangs.
    const rx = await startReceiver({ protocol: "tcp", neverRead: true });
    t.after(() => rx.close());
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile }, { connect_timeout: 200 });
    await assert.rejects(sink.send([message(1)]), (err: unknown) => {
      assert.ok(err instanceof ForwarderError);
      assert.equal(err.code, "E_SINK_CONNECT");
      assert.match(err.message, /TLS handshake with 127\.0\.0\.1:\d+ timed out after 200 ms/);
      return true;
    });
  });

  test("a receiver reset mid-stream rejects unconfirmed sends; the next send reconnects", async (t) => {
    const rx = await receiver(t);
    const sink = createSink(
      sinkOptions({
        protocol: "tls",
        port: rx.port,
        framing: "octet-counting",
        tls: { reject_unauthorized: true, ca_file: pki.caFile },
      }),
      sinkDeps({ confirmAfterMs: 60_000 }),
    );
    const pending = sink.send([message(1)]);
    pending.catch(() => {});
    await rx.waitForMessages(1);
    rx.killConnections();
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof ForwarderError && err.code === "E_SINK_WRITE",
    );
    const again = sink.send([message(1)]);
    again.catch(() => {});
    await rx.waitForMessages(2);
    assert.equal(rx.accepted, 2);
    // close() lets the confirmable send finish, within its timeout: 60 s would not fit, so it is aborted.
    await sink.close(100);
    await assert.rejects(again, (err: unknown) => err instanceof ForwarderError && err.code === "E_SHUTDOWN");
  });
});
