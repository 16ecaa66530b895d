import assert from "node:assert/strict";
import { once } from "node:events";
import { type IncomingMessage, request } from "node:http";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import type { Fault } from "../../../src/simulator/index.js";
import {
  alertsRequest,
  credentials,
  getAlerts,
  getToken,
  startSimulator,
  statusOf,
  tokenRequest,
  until,
} from "./helpers.js";

test("status faults apply to the next requests in order, one each, with Retry-After", async (t) => {
  const sim = await startSimulator(t);
  sim.generate(3);
  const token = await getToken(sim);
  sim.injectFaults([
    { kind: "status", status: 429, retryAfterSeconds: 7 },
    { kind: "status", status: 503, retryAfterSeconds: 0 },
    { kind: "status", status: 500 },
    { kind: "status", status: 403, body: "tenant deleted" },
  ]);

  const throttled = await alertsRequest(sim, token);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "7");
  const body = (await throttled.json()) as { error: { code: string } };
  assert.equal(body.error.code, "TooManyRequests");

  const unavailable = await alertsRequest(sim, token);
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.headers.get("retry-after"), "0");
  await unavailable.text();

  const failed = await alertsRequest(sim, token);
  assert.equal(failed.status, 500);
  assert.equal(failed.headers.get("retry-after"), null);
  await failed.text();

  const forbidden = await alertsRequest(sim, token);
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.headers.get("content-type") ?? "", /^text\/plain/);
  assert.equal(await forbidden.text(), "tenant deleted");

  // The queue is empty again: normal service.
  assert.equal((await getAlerts(sim, token)).length, 3);
  assert.deepEqual(
    sim.requests.filter((r) => r.path === "/api/alerts").map((r) => [r.status, r.count]),
    [
      [429, 0],
      [503, 0],
      [500, 0],
      [403, 0],
      [200, 3],
    ],
  );
});

test("token faults hit only the token endpoint and issue no token", async (t) => {
  const sim = await startSimulator(t);
  sim.generate(2);
  const token = await getToken(sim);
  sim.injectFaults([{ kind: "status", status: 503, retryAfterSeconds: 2 }], "token");
  // An alerts request does not consume a token fault.
  assert.equal((await getAlerts(sim, token)).length, 2);
  const res = await tokenRequest(sim, credentials());
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "2");
  assert.equal(((await res.json()) as { error: string }).error, "temporarily_unavailable");
  assert.equal(sim.tokensIssued, 1);
  await getToken(sim);
  assert.equal(sim.tokensIssued, 2);
});

test("a status fault comes before authentication, as an outage would", async (t) => {
  const sim = await startSimulator(t);
  sim.injectFaults([{ kind: "status", status: 500 }]);
  assert.equal(await statusOf(alertsRequest(sim, undefined)), 500);
  assert.equal(await statusOf(alertsRequest(sim, undefined)), 401);
});

test("slow: the client's timeout can fire first; a patient client gets the normal answer", async (t) => {
  const sim = await startSimulator(t);
  sim.generate(4);
  const token = await getToken(sim);
  sim.injectFaults([
    { kind: "slow", delayMs: 600_000 },
    { kind: "slow", delayMs: 20 },
  ]);
  await assert.rejects(
    fetch(`${sim.url}/api/alerts`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(50),
    }),
    (err: Error) => err.name === "TimeoutError",
  );
  // The server noticed the client leaving and gave up the wait: recorded with status 0 (no response).
  await until(() => sim.requests.some((r) => r.path === "/api/alerts"));
  assert.deepEqual(
    sim.requests.filter((r) => r.path === "/api/alerts").map((r) => [r.status, r.count]),
    [[0, 0]],
  );
  // The second fault: late, but complete.
  assert.equal((await getAlerts(sim, token)).length, 4);
  assert.equal(sim.served.size, 4);
});

test("slow also applies to the token endpoint", async (t) => {
  const sim = await startSimulator(t);
  sim.injectFaults([{ kind: "slow", delayMs: 600_000 }], "token");
  await assert.rejects(
    fetch(`${sim.authorityHost}/${"00000000-0000-4000-8000-000000000000"}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(credentials()).toString(),
      signal: AbortSignal.timeout(50),
    }),
    (err: Error) => err.name === "TimeoutError",
  );
  assert.equal(typeof (await getToken(sim)), "string");
});

/** A raw GET that collects whatever arrives until the server drops the connection. */
async function rawGet(
  url: string,
  token: string,
): Promise<{ status: number; headers: IncomingMessage["headers"]; text: string; complete: boolean }> {
  const req = request(url, { headers: { authorization: `Bearer ${token}` }, agent: false });
  req.end();
  const [res] = (await once(req, "response")) as [IncomingMessage];
  const chunks: Buffer[] = [];
  res.on("data", (c: Buffer) => chunks.push(c));
  const [complete] = await Promise.race([
    once(res, "end").then(() => [true] as const),
    once(res, "aborted").then(() => [false] as const),
    once(res, "error").then(() => [false] as const),
  ]);
  res.destroy();
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    text: Buffer.concat(chunks).toString("utf8"),
    complete: complete && res.complete,
  };
}

test("cut: status 200, then a prefix of the real array, then the connection drops", async (t) => {
  const sim = await startSimulator(t);
  sim.generate(10);
  const token = await getToken(sim);
  sim.injectFaults([{ kind: "cut" }, { kind: "cut" }]);

  const raw = await rawGet(`${sim.url}/api/alerts`, token);
  assert.equal(raw.status, 200);
  assert.equal(raw.complete, false);
  assert.ok(raw.text.length > 1);
  assert.ok(Number(raw.headers["content-length"]) > raw.text.length);
  assert.throws(() => JSON.parse(raw.text));

  // fetch sees a 200 whose body fails.
  const res = await alertsRequest(sim, token);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());

  // Nothing was served by the cut responses; the full body starts with what the cut one sent.
  assert.equal(sim.served.size, 0);
  const full = await alertsRequest(sim, token);
  const fullText = await full.text();
  assert.ok(fullText.startsWith(raw.text), "the cut body is a prefix of the real one");
  assert.equal((JSON.parse(fullText) as unknown[]).length, 10);
  assert.equal(sim.served.size, 10);
  assert.deepEqual(
    sim.requests.filter((r) => r.path === "/api/alerts").map((r) => [r.status, r.count]),
    [
      [200, 0],
      [200, 0],
      [200, 10],
    ],
  );
});

test("cut also works on an empty result and on the token endpoint", async (t) => {
  const sim = await startSimulator(t);
  const token = await getToken(sim);
  sim.injectFaults([{ kind: "cut" }]);
  const res = await alertsRequest(sim, token);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());

  sim.injectFaults([{ kind: "cut" }], "token");
  const tok = await tokenRequest(sim, credentials());
  assert.equal(tok.status, 200);
  await assert.rejects(tok.json());
  assert.equal(sim.tokensIssued, 1);
});

test("html: status 200 with a text/html error page", async (t) => {
  const sim = await startSimulator(t);
  sim.generate(2);
  const token = await getToken(sim);
  sim.injectFaults([{ kind: "html" }]);
  const res = await alertsRequest(sim, token);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const text = await res.text();
  assert.match(text, /^<!DOCTYPE html>/);
  assert.throws(() => JSON.parse(text));
  assert.equal(sim.served.size, 0);
  assert.equal((await getAlerts(sim, token)).length, 2);
});

test("invalid faults are refused with E_CONFIG_INVALID and nothing is queued", async (t) => {
  const sim = await startSimulator(t);
  const bad: unknown[] = [
    { kind: "status", status: 99 },
    { kind: "status", status: 429, retryAfterSeconds: -1 },
    { kind: "slow" },
    { kind: "explode" },
    { kind: "cut", extra: true },
  ];
  for (const fault of bad) {
    assert.throws(
      () => sim.injectFaults([{ kind: "html" }, fault as Fault]),
      (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
    );
  }
  assert.throws(() => sim.injectFaults([{ kind: "html" }], "nope" as "token"), ForwarderError);
  const token = await getToken(sim);
  assert.equal(await statusOf(alertsRequest(sim, token)), 200);
  const res = await alertsRequest(sim, token);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  await res.text();
});
