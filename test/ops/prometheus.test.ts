// A real Prometheus (the Debian binary, run with the flags of docker-compose.yml and a read-only root like
// its container) scrapes a forwarder that runs against the simulator; then every PromQL expression of the
// Grafana dashboard and of the alert rules is evaluated through its HTTP API. An expression fails when
// Prometheus refuses it or when it names a metric the forwarder does not expose. Skipped with a message
// where prometheus is not installed, except in CI (MDE_REQUIRE_PROMETHEUS=1), where that fails.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { startLiveForwarder } from "./support/live-forwarder.js";
import { startPrometheus, type Vector, variableValues } from "./support/prometheus.js";
import { exposedNames, metricNames, substituteVariables } from "./support/promql.js";
import { prometheusBin, REQUIRE_PROMETHEUS, ROOT, skipUnless, waitFor } from "./support/tools.js";

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
  regex?: string;
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

test("a real Prometheus evaluates every dashboard and alert expression on a live forwarder", {
  skip,
}, async (t) => {
  assert.ok(prometheusBin, `prometheus is required (${REQUIRE_PROMETHEUS}=1) but not installed`);
  const live = await startLiveForwarder({ detections: 10, deadDestination: true });
  t.after(() => live.close());
  const prometheus = await startPrometheus(t, live.port);
  const { api, query } = prometheus;

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
    const all = await prometheus.rules();
    return all.length > 0 && all.every((rule) => Date.parse(rule.lastEvaluation) > scraped) ? all : undefined;
  });
  assert.equal(rules.length, 10);
  for (const rule of rules) assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError ?? ""}`);

  const exposed = exposedNames(await live.scrape());
  exposed.add("up");

  // The expressions: every panel target (rows included), every variable query, every rule.
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, "config/grafana/dashboards/mde-forwarder.json"), "utf8"),
  ) as Dashboard;
  const variableDefaults = new Map<string, string>();
  for (const v of dashboard.templating.list)
    variableDefaults.set(v.name, v.type === "datasource" ? "prometheus" : (v.allValue ?? ".*"));
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
    const promql = substituteVariables(expr, { values: variableDefaults });
    const missing = metricNames(promql).filter((name) => !exposed.has(name));
    if (missing.length > 0) problems.push(`${where}: not exposed by the forwarder: ${missing.join(", ")}`);
    const r = await query(promql);
    if (r.status !== "success") problems.push(`${where}: ${r.errorType}: ${r.error}\n  ${promql}`);
    else results.set(where, r.data?.result ?? []);
  }

  // Template variables: asked the way Grafana asks them.
  const labelValues: Record<string, string[]> = {};
  for (const v of dashboard.templating.list.filter((x) => x.type === "query")) {
    const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
    const missing = metricNames(q.replace(/^(label_values|query_result)\(/, "(")).filter(
      (n) => !exposed.has(n),
    );
    if (missing.length > 0)
      problems.push(`variable ${v.name}: not exposed by the forwarder: ${missing.join(", ")}`);
    labelValues[v.name] = await variableValues(prometheus, v);
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
