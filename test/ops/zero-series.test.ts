// Issue 13, finding 5 (zero series), with a real Prometheus: a tenant's single 403, after which the tenant
// rests for an hour (poll.permanent_error_retry) and nothing more is counted, shows on the dashboard's
// "Errors by code" and "API responses by status" panels. It can only because the series
// mde_errors_total{stage="poll",code="E_API_FORBIDDEN"} and mde_api_requests_total{status="403"} were
// scraped at 0 before the error: a series born at 1 has no earlier sample, and rate()/increase() see
// nothing. The panels' own expressions are evaluated, with Grafana's variables as the dashboard sets them.
// Skipped with a message where prometheus is not installed, except in CI (MDE_REQUIRE_PROMETHEUS=1).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { startDaemon } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator } from "../../src/simulator/index.js";
import { rawConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";
import { substituteVariables } from "./support/promql.js";
import {
  freePort,
  prometheusBin,
  REQUIRE_PROMETHEUS,
  ROOT,
  run,
  skipUnless,
  waitFor,
} from "./support/tools.js";

const skip = skipUnless(prometheusBin, "prometheus", REQUIRE_PROMETHEUS, "apt-get install prometheus");

interface Panel {
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}
type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

/** The expression of the dashboard panel titled `title`, its variables replaced as Grafana's "All" would. */
function panelExpr(title: string): string {
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, "config/grafana/dashboards/mde-forwarder.json"), "utf8"),
  ) as { panels: Panel[]; templating: { list: Array<{ name: string; allValue?: string }> } };
  const find = (panels: Panel[]): Panel | undefined => {
    for (const p of panels) {
      if (p.title === title) return p;
      const inner = find(p.panels ?? []);
      if (inner) return inner;
    }
    return undefined;
  };
  const expr = find(dashboard.panels)?.targets?.[0]?.expr;
  assert.ok(expr, `the dashboard has a panel "${title}" with an expression`);
  const values = new Map(dashboard.templating.list.map((v) => [v.name, v.allValue ?? ".*"]));
  return substituteVariables(expr, { values });
}

test("issue 13 finding 5: a single 403 of a tenant that then rests shows on Errors by code and API responses by status", {
  skip,
}, async (t) => {
  assert.ok(prometheusBin, `prometheus is required (${REQUIRE_PROMETHEUS}=1) but not installed`);
  const dir = mkdtempSync(join(tmpdir(), "mde-zero-series-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The forwarder: one SIEM API tenant on the simulator, one destination; polls only when told to.
  const sim = await createSimulator({ seed: 13 });
  t.after(() => sim.close());
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(() => rx.close());
  sim.generate(5, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 });
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir: dir, poll: { permanent_error_retry: "1h" } });
  const config = configSchema.parse({ ...raw, metrics: { host: "127.0.0.1", port: 0 } });
  const daemon = await startDaemon(config, { log: silentLogger(), confirmAfterMs: 50 });
  t.after(() => daemon.stop());
  const metricsUrl = daemon.metricsServer?.url ?? "";
  const target = new URL(metricsUrl).host;
  // The start's own poll delivered everything: the tenant is healthy before the fault.
  await waitFor("the detections to be sent", async () => {
    const scrape = await (await fetch(`${metricsUrl}/metrics`)).text();
    return /^mde_events_sent_total\{destination="siem"\} 5$/m.test(scrape) ? true : undefined;
  });

  // Prometheus scraping it every second.
  const data = join(dir, "data");
  mkdirSync(data);
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      scrape_configs: [{ job_name: "mde-forwarder", static_configs: [{ targets: [target] }] }],
    }),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prometheus = run(prometheusBin, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${data}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  t.after(async () => {
    await prometheus.stop();
  });
  const query = async (expr: string): Promise<Vector> => {
    if (prometheus.child.exitCode !== null)
      throw new Error(`prometheus exited:\n${prometheus.stderr.join("")}`);
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(() => undefined);
    if (res === undefined) return [];
    const body = (await res.json()) as { status: string; error?: string; data?: { result: Vector } };
    assert.equal(body.status, "success", `${expr}: ${body.error ?? ""}`);
    return body.data?.result ?? [];
  };
  const has = async (expr: string) => ((await query(expr)).length > 0 ? true : undefined);

  const forbidden = 'mde_errors_total{stage="poll",code="E_API_FORBIDDEN"}';
  const status403 = 'mde_api_requests_total{tenant="demo",status="403"}';
  // Before the error: two scrapes, each with both series at 0 (without them the panels below stay empty).
  await waitFor("two scrapes", () => has('count_over_time(up{job="mde-forwarder"}[1m]) >= 2'));
  for (const series of [forbidden, status403]) {
    const samples = await query(`count_over_time(${series}[1m]) >= 2 and max_over_time(${series}[1m]) == 0`);
    assert.equal(samples.length, 1, `${series} scraped at 0, twice, before the error`);
  }

  // One 403 from the SIEM API: a permanent error; the tenant rests for an hour.
  sim.injectFaults([{ kind: "status", status: 403 }], "alerts");
  const failed = await daemon.forwarder.pipeline.pollOnce();
  assert.equal(failed[0]?.result.status, "failed");
  assert.equal(failed[0]?.result.status === "failed" && failed[0].result.error.code, "E_API_FORBIDDEN");
  const resting = await daemon.forwarder.pipeline.pollOnce();
  assert.equal(
    resting[0]?.result.status,
    "skipped",
    "the tenant rests: no further request, nothing more counted",
  );
  await waitFor("the 403 to be scraped", () => has(`${forbidden} == 1 and on() ${status403} == 1`));

  // The panels, as the dashboard writes them: the one error is there.
  const errorsByCode = await query(panelExpr("Errors by code"));
  const forbiddenRate = errorsByCode.find(
    (s) => s.metric.stage === "poll" && s.metric.code === "E_API_FORBIDDEN",
  );
  assert.ok(
    forbiddenRate && Number(forbiddenRate.value[1]) > 0,
    `Errors by code: ${JSON.stringify(errorsByCode)}`,
  );
  const byStatus = await query(panelExpr("API responses by status"));
  const rate403 = byStatus.find((s) => s.metric.tenant === "demo" && s.metric.status === "403");
  assert.ok(rate403 && Number(rate403.value[1]) > 0, `API responses by status: ${JSON.stringify(byStatus)}`);
  // And as an increase over the last 5 minutes: exactly one.
  const increase = await query(`increase(${forbidden}[5m])`);
  assert.ok(Number(increase[0]?.value[1]) >= 1, `increase: ${JSON.stringify(increase)}`);
});
