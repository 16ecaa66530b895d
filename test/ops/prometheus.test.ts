// A real Prometheus (the Debian binary, run with the flags of docker-compose.yml and a read-only root like
// its container) scrapes a forwarder that runs against the simulator; then every PromQL expression of the
// Grafana dashboard and of the alert rules is evaluated through its HTTP API. An expression fails when
// Prometheus refuses it or when it names a metric the forwarder does not expose. Skipped with a message
// where prometheus is not installed, except in CI (MDE_REQUIRE_PROMETHEUS=1), where that fails.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { mounts, readCompose, service } from "./support/container-files.js";
import { startLiveForwarder } from "./support/live-forwarder.js";
import { exposedNames, metricNames, substituteVariables } from "./support/promql.js";
import {
  canMountReadOnly,
  freePort,
  prometheusBin,
  REQUIRE_PROMETHEUS,
  ROOT,
  readOnlyRoot,
  run,
  skipUnless,
  waitFor,
} from "./support/tools.js";

const skip = skipUnless(prometheusBin, "prometheus", REQUIRE_PROMETHEUS, "apt-get install prometheus");

interface PanelTarget {
  refId?: string;
  expr?: string;
  legendFormat?: string;
}
interface Panel {
  title: string;
  targets?: PanelTarget[];
  panels?: Panel[];
}
interface TemplateVariable {
  name: string;
  type: string;
  allValue?: string;
  query?: string | { query?: string };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: TemplateVariable[] };
}
interface Rule {
  alert: string;
  expr: string;
}
interface ApiResponse<T> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
}
type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

test("a real Prometheus evaluates every dashboard and alert expression on a live forwarder", {
  skip,
}, async (t) => {
  assert.ok(prometheusBin, `prometheus is required (${REQUIRE_PROMETHEUS}=1) but not installed`);
  const live = await startLiveForwarder({ detections: 10, deadDestination: true });
  t.after(() => live.close());
  const dir = mkdtempSync(join(tmpdir(), "mde-prometheus-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The compose service's config and flags, with its container paths mapped to local ones.
  const compose = readCompose();
  const promService = service(compose, "prometheus");
  const volumes = mounts(promService);
  const config = parse(readFileSync(join(ROOT, "config/prometheus.yml"), "utf8")) as {
    global: Record<string, unknown>;
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const job = config.scrape_configs[0];
  assert.ok(job && config.scrape_configs.length === 1);
  assert.deepEqual(job.static_configs, [{ targets: ["forwarder:9464"] }]);
  job.static_configs = [{ targets: [`127.0.0.1:${live.port}`] }];
  config.global = {
    ...config.global,
    scrape_interval: "1s",
    scrape_timeout: "1s",
    evaluation_interval: "1s",
  };
  config.rule_files = config.rule_files.map((path) => {
    const mount = volumes.get(path);
    assert.ok(mount?.kind === "bind", `${path} is mounted from the repository`);
    return mount.hostPath;
  });
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, stringify(config));
  const data = join(dir, "data");
  mkdirSync(data);
  const flags = (promService.command ?? []).map((flag) => {
    const [name, value = ""] = flag.split("=", 2);
    if (name === "--config.file") return `${name}=${configFile}`;
    const mount = volumes.get(value);
    if (mount?.kind === "volume") return `${name}=${data}`;
    return flag;
  });
  assert.ok(flags.includes(`--storage.tsdb.path=${data}`), "the TSDB is on the compose volume");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const argv = [prometheusBin, ...flags, `--web.listen-address=127.0.0.1:${port}`];
  const prometheus = run(...split(promService.read_only ? readOnlyRoot(argv, { writable: [data] }) : argv));
  t.after(async () => {
    await prometheus.stop();
  });
  if (promService.read_only && !canMountReadOnly) t.diagnostic("read-only root not tried: needs root");

  const api = async <T>(path: string): Promise<ApiResponse<T>> => {
    const res = await fetch(`${base}${path}`);
    return (await res.json()) as ApiResponse<T>;
  };
  const query = (expr: string) =>
    api<{ resultType: string; result: Vector }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
  const failed = () =>
    prometheus.child.exitCode !== null ? `prometheus exited:\n${prometheus.stderr.join("")}` : "";

  await waitFor("Prometheus to be ready", async () => {
    if (failed()) throw new Error(failed());
    const res = await fetch(`${base}/-/ready`).catch(() => undefined);
    await res?.text();
    return res?.status === 200 ? true : undefined;
  });
  // Two successful scrapes: rate() needs two samples.
  await waitFor("two successful scrapes", async () => {
    const r = await query(
      'sum_over_time(up{job="mde-forwarder"}[5m]) >= 2 and on() count(mde_events_sent_total) > 0',
    );
    return r.data?.result.length ? true : undefined;
  });
  // Each rule evaluated, without an error, after those scrapes were stored.
  const scraped = Date.now();
  const rules = await waitFor("the alert rules to be evaluated", async () => {
    const r = await api<{
      groups: Array<{
        rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }>;
      }>;
    }>("/api/v1/rules");
    const all = r.data?.groups.flatMap((g) => g.rules) ?? [];
    return all.length > 0 && all.every((rule) => Date.parse(rule.lastEvaluation) > scraped) ? all : undefined;
  });
  assert.equal(rules.length, 9);
  for (const rule of rules) assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError ?? ""}`);

  const exposed = exposedNames(await live.scrape());
  exposed.add("up");

  // The expressions: every panel target (rows included), every variable query, every rule.
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, "config/grafana/dashboards/mde-forwarder.json"), "utf8"),
  ) as Dashboard;
  const variableValues = new Map<string, string>();
  for (const v of dashboard.templating.list)
    variableValues.set(v.name, v.type === "datasource" ? "prometheus" : (v.allValue ?? ".*"));
  const expressions: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr)
          expressions.push({ where: `panel "${panel.title}" ${target.refId ?? ""}`, expr: target.expr });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  assert.ok(expressions.length >= 25, `all panel targets found (${expressions.length})`);
  const rulesFile = parse(readFileSync(join(ROOT, "config/alerts.rules.yml"), "utf8")) as {
    groups: Array<{ rules: Rule[] }>;
  };
  const alertRules = rulesFile.groups.flatMap((g) => g.rules);
  for (const rule of alertRules) expressions.push({ where: `alert ${rule.alert}`, expr: rule.expr });

  const problems: string[] = [];
  const results = new Map<string, Vector>();
  for (const { where, expr } of expressions) {
    const promql = substituteVariables(expr, { values: variableValues });
    const missing = metricNames(promql).filter((name) => !exposed.has(name));
    if (missing.length > 0) problems.push(`${where}: not exposed by the forwarder: ${missing.join(", ")}`);
    const r = await query(promql);
    if (r.status !== "success") problems.push(`${where}: ${r.errorType}: ${r.error}\n  ${promql}`);
    else results.set(where, r.data?.result ?? []);
  }

  // Template variables: Grafana's label_values(metric, label), answered by the label values API.
  const labelValues: Record<string, string[]> = {};
  for (const v of dashboard.templating.list.filter((x) => x.type === "query")) {
    const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
    const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(q);
    if (!m) {
      problems.push(`variable ${v.name}: not a label_values(metric, label) query: ${q}`);
      continue;
    }
    const [, metric = "", label = ""] = m;
    if (!exposed.has(metric)) problems.push(`variable ${v.name}: not exposed by the forwarder: ${metric}`);
    const r = await api<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric)}`);
    labelValues[v.name] = r.data ?? [];
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(labelValues, { tenant: ["demo"], destination: ["dead", "siem"] });

  // Panels that must show something on this forwarder: "new" although no duplicate was ever counted.
  const newVsDuplicate = results.get('panel "New vs duplicate" A');
  assert.deepEqual(
    newVsDuplicate?.map((s) => s.metric.tenant),
    ["demo"],
    "new detections are shown before the first duplicate",
  );
  assert.deepEqual(
    results
      .get('panel "Destination up" A')
      ?.map((s) => [s.metric.destination, s.value[1]])
      .sort(),
    [
      ["dead", "0"],
      ["siem", "1"],
    ],
  );
  // A healthy forwarder with one destination down: that alert's expression alone returns anything.
  const firing = alertRules.flatMap((rule) =>
    (results.get(`alert ${rule.alert}`) ?? []).map(
      (s) => `${rule.alert} ${s.metric.destination ?? s.metric.tenant ?? ""}`,
    ),
  );
  assert.deepEqual(firing, ["MdeDestinationDown dead"]);
  const alerts = await api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
    "/api/v1/alerts",
  );
  assert.deepEqual(
    alerts.data?.alerts.map((a) => `${a.labels.alertname} ${a.labels.destination} ${a.state}`),
    ["MdeDestinationDown dead pending"],
  );
});

function split(argv: string[]): [string, string[]] {
  const [command = "", ...args] = argv;
  return [command, args];
}
