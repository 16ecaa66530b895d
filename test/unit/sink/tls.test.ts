import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { ForwarderError } from "../../../src/errors.js";
import type { TlsOptions } from "../../../src/sink/config.js";
import { createSink, type Sink } from "../../../src/sink/index.js";
import { type Receiver, type ReceiverOptions, startReceiver } from "../../support/receiver.js";
import { type CertPair, hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";
import {
  captureLog,
  idOf,
  message,
  recordUp,
  sinkDeps,
  sinkOptions,
  type TestSinkDeps,
  watch,
} from "./helpers.js";

const skip = hasOpenssl() ? false : "the openssl CLI is not installed";

describe("TLS transport", { skip }, () => {
  let pki: TestPki;
  let other: TestPki;

  before(() => {
    pki = makeTestPki({ client: true, rsaClient: true });
    other = makeTestPki({ caName: "some-other-ca", client: true });
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

  function tlsSink(
    t: test.TestContext,
    port: number,
    tlsOptions: Partial<TlsOptions>,
    extra = {},
    deps: TestSinkDeps = {},
  ): Sink {
    const sink = createSink(
      sinkOptions({
        protocol: "tls",
        port,
        framing: "octet-counting",
        tls: { reject_unauthorized: true, ...tlsOptions },
        ...extra,
      }),
      sinkDeps(deps),
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
    // Under TLS 1.3 the refusal (an alert) comes after the client's handshake is done, while the send
    // waits for confirmation: the default 1 s, not the 50 ms of the other tests, which a loaded machine
    // can exceed.
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile }, {}, { confirmAfterMs: 1_000 });
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

  /** A directory of its own for files the test rewrites; removed after the test. */
  function workDir(t: test.TestContext): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-sink-tls-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Copies of a client pair's files that the test may rewrite. */
  function clientFiles(dir: string, pair: CertPair): { certFile: string; keyFile: string } {
    const certFile = path.join(dir, "client.pem");
    const keyFile = path.join(dir, "client.key");
    fs.copyFileSync(pair.certFile, certFile);
    fs.copyFileSync(pair.keyFile, keyFile);
    return { certFile, keyFile };
  }

  /** Replaces a file the way deploy tools do: write aside, then rename over it. */
  function replaceFile(file: string, content: string): void {
    fs.writeFileSync(`${file}.new`, content);
    fs.renameSync(`${file}.new`, file);
  }

  const ROTATED = "TLS files changed on disk; reconnecting with them once the sends in flight are confirmed.";
  const UNUSABLE =
    "TLS files changed on disk but are not usable; the current connection stays on the old ones.";

  describe("rotation of the TLS files", () => {
    test("a rotated CA file: the connection ends politely and the next one verifies with the new CA", async (t) => {
      const rx = await receiver(t);
      const caFile = path.join(workDir(t), "ca.pem");
      fs.copyFileSync(pki.caFile, caFile);
      const logs = captureLog();
      const sink = tlsSink(t, rx.port, { ca_file: caFile }, {}, { log: logs.log, tlsWatchIntervalMs: 10 });
      await sink.send([message(1)]);

      // The receiver moves to a certificate of another CA, which the old CA file would refuse.
      rx.setTls({ cert: other.server.cert, key: other.server.key });
      replaceFile(caFile, other.ca);
      const rotated = await logs.waitFor((l) => l.msg === ROTATED, "the rotation");
      assert.equal(rotated.level, "info");
      assert.deepEqual(rotated.changed, ["tls.ca_file"]);
      assert.deepEqual(rotated.files, [caFile]);
      await rx.waitUntil(() => rx.endedBySender === 1, "the old connection ended by the sender");

      await sink.send([message(2)]);
      assert.deepEqual(rx.messages.map(idOf), [1, 2]);
      assert.equal(rx.accepted, 2);
      assert.deepEqual(rx.tlsErrors, []);
      assert.equal(sink.up, true);
    });

    test("sends in flight at the rotation are confirmed on the old connection; later ones wait for the new one", async (t) => {
      const rx = await receiver(t);
      const caFile = path.join(workDir(t), "ca.pem");
      fs.copyFileSync(pki.caFile, caFile);
      const logs = captureLog();
      // Long enough a confirmation that the rotation surely comes while the first send is in flight.
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: caFile },
        {},
        { log: logs.log, tlsWatchIntervalMs: 10, confirmAfterMs: 1_000 },
      );
      const first = watch(sink.send([message(1)]));
      await rx.waitForMessages(1);
      rx.setTls({ cert: other.server.cert, key: other.server.key });
      replaceFile(caFile, other.ca);
      await logs.waitFor((l) => l.msg === ROTATED, "the rotation");
      assert.equal(first.settled, false, "the rotation came while the first send was in flight");
      const second = sink.send([message(2)]);

      await first.promise;
      assert.equal(rx.accepted, 1, "the first send was confirmed before the old connection ended");
      await second;
      assert.deepEqual(rx.messages.map(idOf), [1, 2]);
      assert.equal(rx.accepted, 2);
      await rx.waitUntil(() => rx.endedBySender === 1, "the old connection ended politely, not reset");
    });

    test("a rotated client certificate: the receiver sees the new one on the next connection", async (t) => {
      const rx = await receiver(t, {
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
      });
      const client = pki.client;
      assert.ok(client !== undefined);
      const files = clientFiles(workDir(t), client);
      const logs = captureLog();
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile, cert_file: files.certFile, key_file: files.keyFile },
        {},
        { log: logs.log, tlsWatchIntervalMs: 10 },
      );
      await sink.send([message(1)]);

      const next = pki.issueClient("mde-forwarder-rotated-client");
      // Two renames: the watcher may see the new key with the old certificate in between; that
      // mismatch must not rotate (it is logged), the complete pair must.
      replaceFile(files.keyFile, next.key);
      replaceFile(files.certFile, next.cert);
      const rotated = await logs.waitFor((l) => l.msg === ROTATED, "the rotation");
      assert.deepEqual(rotated.changed, ["tls.cert_file", "tls.key_file"]);
      await sink.send([message(2)]);
      assert.deepEqual(rx.clientCertificates, ["mde-forwarder-test-client", "mde-forwarder-rotated-client"]);
      assert.deepEqual(rx.messages.map(idOf), [1, 2]);
      assert.ok(
        logs.lines.every((l) => !JSON.stringify(l).includes("BEGIN")),
        "no file contents in the logs",
      );
    });

    test("a half-written certificate: logged once, the old connection carries on; a reconnect names the file", async (t) => {
      const rx = await receiver(t, {
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
      });
      const client = pki.client;
      assert.ok(client !== undefined);
      const files = clientFiles(workDir(t), client);
      const logs = captureLog();
      const up = recordUp();
      const errors: string[] = [];
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile, cert_file: files.certFile, key_file: files.keyFile },
        {},
        {
          log: logs.log,
          tlsWatchIntervalMs: 10,
          onUpChange: up.onUpChange,
          onError: (e) => errors.push(e.code),
        },
      );
      await sink.send([message(1)]);

      // A truncated certificate, put in place in one step: a plain write would first show an empty
      // file, a version of its own (reported too, which would make the count below vary).
      replaceFile(files.certFile, client.cert.slice(0, Math.floor(client.cert.length / 2)));
      const unusable = await logs.waitFor((l) => l.msg === UNUSABLE, "the invalid files reported");
      assert.equal(unusable.level, "error");
      assert.equal(unusable.code, "E_SINK_TLS");
      assert.deepEqual(unusable.changed, ["tls.cert_file"]);
      assert.match(String(unusable.reason), /invalid TLS material in tls\.cert_file .*client\.pem/);
      assert.deepEqual(errors, ["E_SINK_TLS"], "counted once (mde_errors_total)");

      // The old connection still works.
      await sink.send([message(2)]);
      assert.equal(rx.accepted, 1);
      assert.equal(sink.up, true);

      // When it breaks, the reconnect fails on the broken file, by name, and the destination is down.
      rx.killConnections();
      await logs.waitFor((l) => l.msg === "Idle connection lost.", "the reset noticed");
      await rejectsTls(sink.send([message(3)]), /invalid TLS material in tls\.cert_file .*client\.pem/);
      assert.deepEqual(up.calls, [
        [true, undefined],
        [false, "E_SINK_TLS"],
      ]);

      // Once the file is whole again, the next send gets through.
      replaceFile(files.certFile, client.cert);
      await sink.send([message(4)]);
      assert.deepEqual(rx.messages.map(idOf), [1, 2, 4]);
      assert.equal(
        logs.lines.filter((l) => l.msg === UNUSABLE).length,
        1,
        "reported once, not at every check",
      );
      assert.ok(logs.lines.every((l) => l.msg !== ROTATED));
    });

    test("the watcher runs only while a connection is open: a lost connection and close() stop it", async (t) => {
      const rx = await receiver(t);
      const logs = captureLog();
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile },
        {},
        { log: logs.log, tlsWatchIntervalMs: 60_000 },
      );
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      const before = timers();
      await sink.send([message(1)]);
      assert.equal(timers(), before + 1, "one watcher timer while connected");
      rx.killConnections();
      await logs.waitFor((l) => l.msg === "Idle connection lost.", "the reset noticed");
      assert.equal(timers(), before, "no watcher without a connection");
      await sink.send([message(2)]);
      assert.equal(timers(), before + 1);
      await sink.close();
      assert.equal(timers(), before, "close() leaves no timer");
    });
  });

  describe("client keys", () => {
    const forms: Array<[string, () => { pair: CertPair; keyFile: string }, RegExp]> = [
      [
        "EC, PKCS#8",
        () => ({ pair: pkiClient(), keyFile: pkiClient().keyFile }),
        /^-----BEGIN PRIVATE KEY-----/,
      ],
      [
        "EC, SEC1",
        () => ({ pair: pkiClient(), keyFile: pki.keyAs(pkiClient(), "traditional") }),
        /^-----BEGIN EC PRIVATE KEY-----/,
      ],
      [
        "RSA, PKCS#8",
        () => ({ pair: rsaClient(), keyFile: rsaClient().keyFile }),
        /^-----BEGIN PRIVATE KEY-----/,
      ],
      [
        "RSA, PKCS#1",
        () => ({ pair: rsaClient(), keyFile: rsaClient().pkcs1KeyFile }),
        /^-----BEGIN RSA PRIVATE KEY-----/,
      ],
    ];
    for (const [name, pick, header] of forms) {
      test(`mutual TLS with an ${name} client key`, async (t) => {
        const { pair, keyFile } = pick();
        assert.match(fs.readFileSync(keyFile, "utf8"), header);
        const rx = await receiver(t, {
          tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
        });
        const sink = tlsSink(t, rx.port, {
          ca_file: pki.caFile,
          cert_file: pair.certFile,
          key_file: keyFile,
        });
        await sink.send([message(1)]);
        assert.deepEqual(rx.clientCertificates, [pair.cn]);
        assert.deepEqual(rx.messages.map(idOf), [1]);
      });
    }

    for (const form of ["encrypted-pkcs8", "encrypted-traditional"] as const) {
      test(`an encrypted key (${form}) is refused with E_SINK_TLS naming key_file, before connecting`, async (t) => {
        const pair = form === "encrypted-pkcs8" ? pkiClient() : rsaClient();
        const keyFile = pki.keyAs(pair, form);
        const rx = await receiver(t);
        const sink = tlsSink(t, rx.port, {
          ca_file: pki.caFile,
          cert_file: pair.certFile,
          key_file: keyFile,
        });
        await rejectsTls(
          sink.send([message(1)]),
          new RegExp(`tls\\.key_file ${escapeRegExp(keyFile)} is encrypted \\(passphrase-protected\\)`),
        );
        assert.equal(rx.accepted, 0);
      });
    }

    test("a key file without a key, or a certificate file without a certificate, is named", async (t) => {
      const client = pkiClient();
      const rx = await receiver(t);
      const noKey = tlsSink(t, rx.port, {
        ca_file: pki.caFile,
        cert_file: client.certFile,
        key_file: client.certFile,
      });
      await rejectsTls(
        noKey.send([message(1)]),
        /invalid TLS material in tls\.key_file .*client\.pem: no PEM private key/,
      );
      const noCert = tlsSink(t, rx.port, {
        ca_file: pki.caFile,
        cert_file: client.keyFile,
        key_file: client.keyFile,
      });
      await rejectsTls(
        noCert.send([message(1)]),
        /invalid TLS material in tls\.cert_file .*client\.key: no PEM certificate/,
      );
      assert.equal(rx.accepted, 0);
    });
  });

  test("a server that offers only TLS 1.1 is refused: the minimum is TLS 1.2", async (t) => {
    const rx = await receiver(t, {
      tls: {
        cert: pki.server.cert,
        key: pki.server.key,
        minVersion: "TLSv1.1",
        maxVersion: "TLSv1.1",
        ciphers: "DEFAULT:@SECLEVEL=0",
      },
    });
    // Control: this OpenSSL still speaks TLS 1.1 when allowed to, so the refusal below is the sink's.
    const control = tls.connect({
      host: "127.0.0.1",
      port: rx.port,
      ca: pki.ca,
      servername: "localhost",
      minVersion: "TLSv1.1",
      ciphers: "DEFAULT:@SECLEVEL=0",
    });
    const protocol = await new Promise<string | null>((resolve) => {
      control.once("secureConnect", () => resolve(control.getProtocol()));
      control.once("error", () => resolve(null));
    });
    control.destroy();
    await once(control, "close");
    if (protocol !== "TLSv1.1") {
      t.skip(`this Node/OpenSSL cannot offer TLS 1.1 any more (got ${String(protocol)})`);
      return;
    }
    const accepted = rx.accepted;
    const sink = tlsSink(t, rx.port, { ca_file: pki.caFile });
    await rejectsTls(
      sink.send([message(1)]),
      /TLS handshake with .* failed: .*(protocol version|unsupported protocol)/,
    );
    assert.equal(rx.messages.length, 0);
    assert.equal(rx.accepted, accepted + 1);
  });

  describe("a receiver that drops the connection after the handshake (rsyslog's gtls does)", () => {
    async function lateRejecting(t: test.TestContext): Promise<Receiver> {
      return receiver(t, {
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, lateReject: true },
      });
    }

    test("without a client certificate: E_SINK_TLS saying one is probably required", async (t) => {
      const rx = await lateRejecting(t);
      const up = recordUp();
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile },
        {},
        { confirmAfterMs: 1_000, onUpChange: up.onUpChange },
      );
      await rejectsTls(
        sink.send([message(1)]),
        /dropped by the receiver right after the handshake; it asked for a client certificate and none is configured/,
      );
      assert.equal(rx.messages.length, 0);
      assert.equal(rx.tlsErrors.length, 1);
      assert.deepEqual(up.calls, [
        [true, undefined],
        [false, "E_SINK_TLS"],
      ]);
    });

    test("with a certificate it does not trust: E_SINK_TLS naming cert_file", async (t) => {
      const rx = await lateRejecting(t);
      const stranger = other.client;
      assert.ok(stranger !== undefined);
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile, cert_file: stranger.certFile, key_file: stranger.keyFile },
        {},
        { confirmAfterMs: 1_000 },
      );
      await rejectsTls(sink.send([message(1)]), /may have refused ours \(tls\.cert_file .*client\.pem\)/);
      assert.equal(rx.messages.length, 0);
    });

    test("an idle connection dropped that way marks the destination down", async (t) => {
      const rx = await lateRejecting(t);
      let markedDown: (code: string | undefined) => void = () => {};
      const down = new Promise<string | undefined>((resolve) => {
        markedDown = resolve;
      });
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile },
        {},
        { confirmAfterMs: 1_000, onUpChange: (isUp, error) => (isUp ? undefined : markedDown(error?.code)) },
      );
      await sink.check();
      assert.equal(await down, "E_SINK_TLS");
      assert.equal(sink.up, false);
    });

    test("with a trusted certificate it works, and a later reset is an ordinary lost connection", async (t) => {
      const rx = await lateRejecting(t);
      const client = pkiClient();
      const logs = captureLog();
      const sink = tlsSink(
        t,
        rx.port,
        { ca_file: pki.caFile, cert_file: client.certFile, key_file: client.keyFile },
        {},
        { log: logs.log },
      );
      await sink.send([message(1)]);
      assert.deepEqual(rx.clientCertificates, [client.cn]);
      rx.killConnections();
      const lostLine = await logs.waitFor((l) => l.msg === "Idle connection lost.", "the reset noticed");
      assert.equal(lostLine.code, "E_SINK_WRITE");
      assert.equal(sink.up, true);
    });
  });

  function pkiClient(): CertPair {
    assert.ok(pki.client !== undefined);
    return pki.client;
  }

  function rsaClient() {
    assert.ok(pki.rsaClient !== undefined);
    return pki.rsaClient;
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
