// The floor of the end-to-end benchmark: what moving the backlog costs with no state, no splitting and no
// confirmation. One token (the same v1 request as the forwarder's), then the backlog read once, oldest
// first, in equal time slices expected to hold `perRequest` detections each (7-digit bounds, so no detection
// sits on two slices; no `limit`, so a slice a little over perRequest is read whole), each response parsed,
// every detection encoded with the forwarder's formatter (dist/, cef behind rfc5424, the config defaults), LF-framed
// and written to one TCP connection to the receiver, one write per response, waiting for 'drain' when the
// socket's buffer is full. The next request goes out while the previous writes are still being sent.
//   node --import tsx bench/support/floor.ts '{"url":...,"port":...,"from":ms,"to":ms,"count":n}'
// Prints {"start", "lastWrite", "requests", "detections", "responseBytes"} (times in ms since the epoch).
import { once } from "node:events";
import net from "node:net";
import os from "node:os";
import { performance } from "node:perf_hooks";
import type { Detection } from "../../src/record.js";
import { DEMO_TENANT } from "../../src/simulator/index.js";
import { formatTimestamp, TICKS_PER_MS, ticksFromMs } from "../../src/timestamp.js";

// The encoder and the framing from dist/, the build the forwarder runs, so both use the same code even
// while src/ changes under the benchmark (typed from src/, which dist/ is built from).
type FormatModule = typeof import("../../src/format/index.js");
type FramingModule = typeof import("../../src/sink/framing.js");
const { createFormatter, formatConfigFrom } = (await import(
  new URL("../../dist/format/index.js", import.meta.url).href
)) as FormatModule;
const { frameMessages } = (await import(
  new URL("../../dist/sink/framing.js", import.meta.url).href
)) as FramingModule;

export interface FloorArgs {
  url: string;
  port: number;
  /** The backlog's bounds (ms since the epoch, inclusive) and size. */
  from: number;
  to: number;
  count: number;
  perRequest?: number;
}

/** The SIEM API's v1 resource (src/source/clouds.ts SIEM_RESOURCE). */
const RESOURCE = "https://graph.windows.net";

const args = JSON.parse(process.argv[2] ?? "{}") as FloorArgs;
const start = performance.timeOrigin + performance.now();

const tokenResponse = await fetch(`${args.url}/${DEMO_TENANT.tenantId}/oauth2/token`, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({
    grant_type: "client_credentials",
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    resource: RESOURCE,
  }),
});
const token = ((await tokenResponse.json()) as { access_token: string }).access_token;

const formatter = createFormatter(formatConfigFrom({ format: "cef" }), { hostname: os.hostname() });
const socket = net.connect(args.port, "127.0.0.1");
await once(socket, "connect");

const slices = Math.max(1, Math.ceil(args.count / (args.perRequest ?? 5_000)));
const from = ticksFromMs(args.from);
const end = ticksFromMs(args.to) + TICKS_PER_MS; // exclusive
let requests = 0;
let detections = 0;
let responseBytes = 0;
for (let i = 0; i < slices; i++) {
  const since = from + ((end - from) * BigInt(i)) / BigInt(slices);
  const until = from + ((end - from) * BigInt(i + 1)) / BigInt(slices) - 1n;
  const query = new URLSearchParams({
    sinceTimeUtc: formatTimestamp(since),
    untilTimeUtc: formatTimestamp(until),
  });
  const res = await fetch(`${args.url}/api/alerts?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`GET /api/alerts: ${res.status}`);
  const text = await res.text();
  responseBytes += Buffer.byteLength(text);
  // The API answers newest first; the forwarder sends oldest first.
  const page = (JSON.parse(text) as Detection[]).reverse();
  requests++;
  detections += page.length;
  if (
    !socket.write(
      frameMessages(
        page.map((d) => formatter.format(d).text),
        "lf",
      ),
    )
  )
    await once(socket, "drain");
}
const lastWrite = performance.timeOrigin + performance.now();
socket.end();
await once(socket, "close");
if (detections !== args.count)
  throw new Error(`the floor read ${detections} detections, expected ${args.count}`);
process.stdout.write(`${JSON.stringify({ start, lastWrite, requests, detections, responseBytes })}\n`);
