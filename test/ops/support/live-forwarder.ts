// A forwarder running in-process (startDaemon) against the simulator, with one destination that receives
// (so counters have series) and, optionally, one that is down; metrics on 127.0.0.1, port 0.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../../../src/cli/daemon.js";
import { configSchema } from "../../../src/config/schema.js";
import { silentLogger } from "../../../src/log.js";
import { createSimulator } from "../../../src/simulator/index.js";
import { rawConfig } from "../../support/forwarder.js";
import { startReceiver } from "../../support/receiver.js";
import { freePort, waitFor } from "./tools.js";

export interface LiveForwarder {
  /** http://127.0.0.1:PORT (the metrics server). */
  readonly url: string;
  readonly port: number;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

export async function startLiveForwarder(options: { detections: number; deadDestination?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), "mde-ops-"));
  const sim = await createSimulator({ seed: 42 });
  const rx = await startReceiver({ protocol: "tcp" });
  const closed = await freePort();
  sim.generate(options.detections, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 });
  const raw = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    extraDestinations: options.deadDestination
      ? [{ name: "dead", format: "cef", protocol: "tcp", host: "127.0.0.1", port: closed }]
      : [],
  });
  const config = configSchema.parse({ ...raw, metrics: { host: "127.0.0.1", port: 0 } });
  const daemon = await startDaemon(config, { log: silentLogger(), confirmAfterMs: 50 });
  const url = daemon.metricsServer?.url ?? "";
  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  };
  const live: LiveForwarder = {
    url,
    port: Number(new URL(url).port),
    scrape,
    async close() {
      await daemon.stop();
      await rx.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Every detection sent and acknowledged: the counters the dashboard reads have series.
    const sent = new RegExp(`^mde_events_sent_total\\{destination="siem"\\} ${options.detections}$`, "m");
    await waitFor("the detections to be sent", async () => (sent.test(await scrape()) ? true : undefined));
  } catch (err) {
    await live.close();
    throw err;
  }
  return live;
}
