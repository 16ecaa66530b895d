// A hostile MDE SIEM API in its own process (so that its memory is not the forwarder's), for the hostile
// benchmark: a token endpoint, and GET /api/alerts answered with one attack of issue 11, finding 3.
//   node --import tsx bench/support/hostile-process.ts '{"attack":"gzip-bomb"}'
// Prints {"url", "bodyBytes"} once listening; after each answer {"served", "sentBytes", "aborted"}.
// stdin closed: it exits.
// Attacks: "empty" ([]); "real-64mib" (real detections, just under the default 64 MiB cap, ignoring
// `limit`); "1gb" (a 1 GiB array of detections, chunked); "gzip-bomb" (about 400 KB of gzip that inflates
// to 400 MB of JSON); "endless" (a chunked body written as fast as the client takes it, for 10 s at most);
// "million-empty" (a 3 MB array of a million `{}`); "budget" (the most the parser's bounds accept: 100 real
// detections carrying 79,000 decimals each, 7.9 million values where the budget is 8 million).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { sampleDetections } from "./sample.js";

type Attack = "empty" | "real-64mib" | "1gb" | "gzip-bomb" | "endless" | "million-empty" | "budget";

const { attack } = JSON.parse(process.argv[2] ?? "{}") as { attack: Attack };
const MIB = 1_048_576;

/** Real detections dated in the last hour, as one JSON array of at most `maxBytes`. */
function realDetections(maxBytes: number): Buffer {
  const now = Date.now();
  const pool = sampleDetections(2_000).map((d) => JSON.stringify(d));
  const parts: string[] = [];
  let bytes = 2;
  for (let i = 0; ; i++) {
    const d = JSON.parse(pool[i % pool.length] ?? "{}") as Record<string, unknown>;
    d.FullId = `${String(d.FullId)}-${i}`;
    d.LastProcessedTimeUtc = new Date(now - 3_600_000 + (i % 3_500_000)).toISOString();
    const text = JSON.stringify(d);
    if (bytes + text.length + 1 > maxBytes) break;
    parts.push(text);
    bytes += text.length + 1;
  }
  return Buffer.from(`[${parts.join(",")}]`);
}

/**
 * Decimals cost the most heap per byte of JSON (a heap number each, where small integers cost nothing):
 * 100 real detections with 79,000 of them each stay just within the parser's budget of 8 million values.
 */
function budget(): Buffer {
  const now = Date.now();
  const items = sampleDetections(100).map((d, i) => {
    const values = Array.from({ length: 79_000 }, (_, j) => `${j}.${(i % 9) + 1}`).join(",");
    const head = JSON.stringify({
      ...d,
      FullId: `${String(d.FullId)}-budget-${i}`,
      LastProcessedTimeUtc: new Date(now - 60_000 + i).toISOString(),
    });
    return `${head.slice(0, -1)},"Values":[${values}]}`;
  });
  return Buffer.from(`[${items.join(",")}]`);
}

const body: Buffer | undefined =
  attack === "empty"
    ? Buffer.from("[]")
    : attack === "real-64mib"
      ? realDetections(64 * MIB - 64 * 1024)
      : attack === "million-empty"
        ? Buffer.from(`[${"{},".repeat(999_999)}{}]`)
        : attack === "budget"
          ? budget()
          : attack === "gzip-bomb"
            ? gzipSync(
                Buffer.concat([Buffer.from("["), Buffer.alloc(400 * 1_000_000, " "), Buffer.from("]")]),
                {
                  level: 9,
                },
              )
            : undefined;

/** About 64 KiB of detections followed by commas: the 1 GB and endless bodies repeat it. */
const chunk = Buffer.from(`${JSON.stringify(sampleDetections(30)).slice(1, -1)},`);
const repeated = Buffer.concat(Array.from({ length: Math.ceil(65_536 / chunk.length) }, () => chunk));

function stream(
  res: http.ServerResponse,
  total: number,
  forMs: number,
): Promise<{ sent: number; aborted: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const end = (aborted: boolean) => {
      if (done) return;
      done = true;
      resolve({ sent, aborted });
    };
    res.on("close", () => end(!res.writableFinished));
    const deadline = performance.now() + forMs;
    res.write("[");
    const pump = () => {
      while (!done && sent < total && performance.now() < deadline) {
        sent += repeated.length;
        if (!res.write(repeated)) {
          res.once("drain", pump);
          return;
        }
      }
      if (!done) res.end("{}]");
    };
    pump();
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "POST" && url.pathname.endsWith("/oauth2/token")) {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: "bench-token", token_type: "Bearer", expires_in: 3599 }));
    });
    return;
  }
  if (url.pathname !== "/api/alerts") {
    res.writeHead(404).end();
    return;
  }
  const report = (r: { sent: number; aborted: boolean }) =>
    process.stdout.write(`${JSON.stringify({ served: attack, sentBytes: r.sent, aborted: r.aborted })}\n`);
  if (attack === "1gb") {
    res.writeHead(200, { "content-type": "application/json" });
    void stream(res, 1_073_741_824, Number.POSITIVE_INFINITY).then(report);
    return;
  }
  if (attack === "endless") {
    res.writeHead(200, { "content-type": "application/json" });
    void stream(res, Number.POSITIVE_INFINITY, 10_000).then(report);
    return;
  }
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": body?.length ?? 0,
  };
  if (attack === "gzip-bomb") headers["content-encoding"] = "gzip";
  res.writeHead(200, headers);
  res.on("close", () => report({ sent: body?.length ?? 0, aborted: !res.writableFinished }));
  res.end(body);
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${port}`, bodyBytes: body?.length ?? null })}\n`,
  );
});
createInterface({ input: process.stdin }).on("close", () => {
  server.closeAllConnections();
  server.close();
});
