// promtool on what we ship: the Prometheus config of docker-compose.yml, the alert rules and their unit
// tests, and the metrics a running forwarder exposes. Skipped with a message where promtool is not
// installed, except in CI (MDE_REQUIRE_PROMETHEUS=1), where that fails.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { mounts, readCompose, service } from "./support/container-files.js";
import { startLiveForwarder } from "./support/live-forwarder.js";
import { promtoolBin, REQUIRE_PROMETHEUS, ROOT, runSync, skipUnless } from "./support/tools.js";

const skip = skipUnless(promtoolBin, "promtool", REQUIRE_PROMETHEUS, "apt-get install prometheus");
const promtool = (args: string[], input?: string) => {
  assert.ok(promtoolBin, `promtool is required (${REQUIRE_PROMETHEUS}=1) but not installed`);
  return runSync(promtoolBin, args, input);
};

interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs?: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }> }>;
}

interface Rule {
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}

function readRules(): Rule[] {
  const doc = parse(readFileSync(join(ROOT, "config/alerts.rules.yml"), "utf8")) as {
    groups: Array<{ rules: Rule[] }>;
  };
  return doc.groups.flatMap((g) => g.rules);
}

test("promtool check config: config/prometheus.yml, with its rule files where compose mounts them", {
  skip,
}, (t) => {
  const compose = readCompose();
  const volumes = mounts(service(compose, "prometheus"));
  const config = parse(readFileSync(join(ROOT, "config/prometheus.yml"), "utf8")) as PrometheusConfig;
  // Every rule file the config names is mounted there from the repository: map it back for a local run.
  const ruleFiles = (config.rule_files ?? []).map((path) => {
    const mount = volumes.get(path);
    assert.ok(mount?.kind === "bind", `docker-compose.yml mounts ${path} into prometheus`);
    return mount.hostPath;
  });
  assert.ok(ruleFiles.length > 0, "the config loads the alert rules");
  assert.equal(volumes.get("/etc/prometheus/prometheus.yml")?.kind, "bind");
  const dir = mkdtempSync(join(tmpdir(), "mde-promtool-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "prometheus.yml");
  writeFileSync(file, stringify({ ...config, rule_files: ruleFiles }));
  const r = promtool(["check", "config", file]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS: 1 rule files found/);
  // The job name the rules and the dashboard select on.
  assert.deepEqual(
    config.scrape_configs?.map((s) => s.job_name),
    ["mde-forwarder"],
  );
});

test("promtool check rules, and every alert has a summary, a description and its runbook anchor", {
  skip,
}, () => {
  const r = promtool(["check", "rules", "config/alerts.rules.yml"]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const rules = readRules();
  assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  const alerts = rules.map((rule) => rule.alert);
  assert.deepEqual(alerts, [
    "MdeForwarderDown",
    "MdeNoSuccessfulPoll",
    "MdeCheckpointLag",
    "MdeOutboxGrowing",
    "MdeDestinationDown",
    "MdeTokenRejected",
    "MdeTokenErrors",
    "MdeEventsDropped",
    "MdeCheckpointInFuture",
    "MdeDetectionsQuarantined",
  ]);
  for (const rule of rules) {
    const a = rule.annotations ?? {};
    assert.ok(a.summary && a.description, `${rule.alert}: summary and description`);
    assert.equal(
      a.runbook_url,
      `https://github.com/mde-siem-forwarder/mde-siem-forwarder/blob/main/docs/runbook.md#${rule.alert?.toLowerCase()}`,
      `${rule.alert}: runbook_url is the anchor of its section of docs/runbook.md`,
    );
  }
});

test("docs/runbook.md has a section for every alert", () => {
  const runbook = readFileSync(join(ROOT, "docs/runbook.md"), "utf8");
  for (const rule of readRules()) {
    assert.match(runbook, new RegExp(`^### ${rule.alert}$`, "m"), `docs/runbook.md: ### ${rule.alert}`);
  }
});

test("promtool test rules config/alerts.rules.test.yml", { skip }, () => {
  const r = promtool(["test", "rules", "config/alerts.rules.test.yml"]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS/);
  // Every alert has at least one case where it fires.
  const tests = readFileSync(join(ROOT, "config/alerts.rules.test.yml"), "utf8");
  for (const rule of readRules()) {
    assert.match(
      tests,
      new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      `${rule.alert} fires`,
    );
  }
});

test("promtool check metrics: no lint problem in our mde_ metrics on a live scrape", { skip }, async (t) => {
  const live = await startLiveForwarder({ detections: 5, deadDestination: true });
  t.after(() => live.close());
  const scrape = await live.scrape();
  assert.match(scrape, /^mde_detections_received_total\{tenant="demo"\} 5$/m);
  const r = promtool(["check", "metrics"], scrape);
  // 0: clean; 3: lint problems (listed); anything else: it could not read the scrape.
  assert.ok(r.code === 0 || r.code === 3, `promtool check metrics exit ${r.code}: ${r.stderr}`);
  const problems = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
  const ours = problems.filter((l) => l.startsWith("mde_"));
  assert.deepEqual(ours, [], "lint problems in mde_ metrics");
  // What it says about prom-client's default metrics, for the record.
  for (const line of problems) t.diagnostic(`promtool check metrics: ${line}`);
});
