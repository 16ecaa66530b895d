// Regression (issue 16, the 1M backfill's peak RSS): a kept-alive connection keeps its last request, and the
// request kept the listeners that read its body, and with them the whole response. Every body a backfill
// fetched stayed in memory (100k detections: 300 MB of array buffers after the run). A response the caller
// dropped must be collectable while its connection stays open.
import assert from "node:assert/strict";
import { getEventListeners, once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { createHttpClient } from "../../../src/source/http.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

test("a response body is not kept alive by its kept-alive connection once the caller dropped it", async () => {
  const body = Buffer.alloc(1_048_576, "a");
  const server = http.createServer({ keepAlive: true }, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const client = createHttpClient();
    // One signal for the whole run (shutdown), as the daemon passes it to every request.
    const shutdown = new AbortController();
    const fetchRaw = async (): Promise<WeakRef<Buffer>> => {
      const res = await client.request({ method: "GET", url, timeoutMs: 10_000, signal: shutdown.signal });
      assert.equal(res.status, 200);
      assert.equal(res.raw?.length, body.length);
      return new WeakRef(res.raw as Buffer);
    };
    const refs = [await fetchRaw(), await fetchRaw(), await fetchRaw()];
    assert.equal(getEventListeners(shutdown.signal, "abort").length, 0, "no request left on the signal");
    // Let the socket go back to the agent's free list, then collect.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.deepEqual(
      refs.map((r) => r.deref() === undefined),
      [true, true, true],
      "every dropped response body was collected",
    );
  } finally {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});
