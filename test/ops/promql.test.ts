// The PromQL helpers the dashboard and rule checks rely on: a name missed here would let a dashboard
// panel on a metric that does not exist pass.
import assert from "node:assert/strict";
import { test } from "node:test";
import { exposedNames, metricNames, substituteVariables } from "./support/promql.js";

test("metric names: functions, aggregations, keywords, grouping lists, strings and matchers are skipped", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (le, tenant) (rate(mde_api_request_duration_seconds_bucket{tenant=~"a|b", le!="x_y"}[5m])))',
    ),
    ["mde_api_request_duration_seconds_bucket"],
  );
  assert.deepEqual(
    metricNames(
      'sum by (tenant) (rate(a_total[5m])) - (sum by (tenant) (rate(b_total{x="or unless c"}[5m])) or sum(rate(a_total[1m])) * 0)',
    ),
    ["a_total", "b_total"],
  );
  assert.deepEqual(
    metricNames(
      "(x unless on(job, instance, tenant) y) * 0 + on(job, instance) group_left() (time() - process_start_time_seconds) > 1e3",
    ),
    ["process_start_time_seconds", "x", "y"],
  );
  assert.deepEqual(
    metricNames("increase(c[15m]) > 0 or (c > 0 unless c offset 15m) and on(job) up offset 15m"),
    ["c", "up"],
  );
  assert.deepEqual(metricNames("sum(rate(z[5m:30s])) by (code) > bool 0x1f"), ["z"]);
  assert.deepEqual(metricNames('{__name__="named_by_matcher", job="x"} + vector(0)'), ["named_by_matcher"]);
  assert.deepEqual(metricNames('count_values("version", nodejs_version_info) # a comment: not_a_metric'), [
    "nodejs_version_info",
  ]);
});

test("variables: dashboard ones get their value, built-ins a plausible one, unknown ones throw", () => {
  const variables = {
    values: new Map([
      ["tenant", ".*"],
      ["destination", ".*"],
    ]),
  };
  assert.equal(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var:format} syntax, not a template
    substituteVariables('rate(x{tenant=~"$tenant", d=~"${destination:regex}"}[$__rate_interval])', variables),
    'rate(x{tenant=~".*", d=~".*"}[1m])',
  );
  assert.equal(substituteVariables("y{a=~'[[tenant]]'}[$__range]", variables), "y{a=~'.*'}[6h]");
  assert.equal(substituteVariables('z{a=~"^b$"}', variables), 'z{a=~"^b$"}');
  assert.throws(() => substituteVariables("rate(x[$nope])", variables), /unhandled Grafana variable \$nope/);
});

test("exposed names: histogram series suffixes, not the bare histogram name", () => {
  const names = exposedNames(
    [
      "# HELP a_total A.",
      "# TYPE a_total counter",
      "a_total 1",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{le="1"} 0',
      "# TYPE s summary",
      "# TYPE g gauge",
    ].join("\n"),
  );
  assert.deepEqual(
    [...names].sort(),
    ["a_total", "g", "h_seconds_bucket", "h_seconds_count", "h_seconds_sum", "s", "s_count", "s_sum"].sort(),
  );
});
