// A real Prometheus (the Debian binary, run with the flags of docker-compose.yml and a read-only root like
// its container) scraping one forwarder every second with config/alerts.rules.yml loaded, evaluated every
// second; plus the HTTP API calls the ops tests make and the Grafana template variable queries.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { parse, stringify } from "yaml";
import { mounts, readCompose, service } from "./container-files.js";
import { canMountReadOnly, freePort, prometheusBin, ROOT, readOnlyRoot, run, waitFor } from "./tools.js";

export interface ApiResponse<T> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
}
export type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;
export interface RuleState {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}
export interface ActiveAlert {
  labels: Record<string, string>;
  state: string;
}

export interface Prometheus {
  api<T>(path: string): Promise<ApiResponse<T>>;
  /** An instant query at now. */
  query(expr: string): Promise<ApiResponse<{ resultType: string; result: Vector }>>;
  rules(): Promise<RuleState[]>;
  alerts(): Promise<ActiveAlert[]>;
  /** Resolves once a scrape that started after `since` (ms) is stored and every rule was evaluated after it. */
  evaluatedAfter(since: number): Promise<void>;
}

export async function startPrometheus(t: TestContext, forwarderPort: number): Promise<Prometheus> {
  assert.ok(prometheusBin, "prometheus is installed");
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
  job.static_configs = [{ targets: [`127.0.0.1:${forwarderPort}`] }];
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
  const [command = "", ...args] = promService.read_only ? readOnlyRoot(argv, { writable: [data] }) : argv;
  const prometheus = run(command, args);
  t.after(async () => {
    await prometheus.stop();
  });
  if (promService.read_only && !canMountReadOnly) t.diagnostic("read-only root not tried: needs root");

  const api = async <T>(path: string): Promise<ApiResponse<T>> => {
    const res = await fetch(`${base}${path}`);
    return (await res.json()) as ApiResponse<T>;
  };
  const failed = () =>
    prometheus.child.exitCode !== null ? `prometheus exited:\n${prometheus.stderr.join("")}` : "";
  await waitFor("Prometheus to be ready", async () => {
    if (failed()) throw new Error(failed());
    const res = await fetch(`${base}/-/ready`).catch(() => undefined);
    await res?.text();
    return res?.status === 200 ? true : undefined;
  });

  const rules = async () => {
    const r = await api<{ groups: Array<{ rules: RuleState[] }> }>("/api/v1/rules");
    return r.data?.groups.flatMap((g) => g.rules) ?? [];
  };
  return {
    api,
    query: (expr) => api(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    rules,
    async alerts() {
      const r = await api<{ alerts: ActiveAlert[] }>("/api/v1/alerts");
      return r.data?.alerts ?? [];
    },
    async evaluatedAfter(since) {
      const scraped = await waitFor("a scrape after the change", async () => {
        const r = await api<{ activeTargets: Array<{ lastScrape: string; health: string }> }>(
          "/api/v1/targets",
        );
        const target = r.data?.activeTargets[0];
        const at = target ? Date.parse(target.lastScrape) : Number.NaN;
        return target?.health === "up" && at > since ? at : undefined;
      });
      await waitFor("the rules evaluated after that scrape", async () => {
        const all = await rules();
        return all.length > 0 && all.every((rule) => Date.parse(rule.lastEvaluation) > scraped)
          ? true
          : undefined;
      });
    },
  };
}

interface TemplateVariable {
  name: string;
  type: string;
  regex?: string;
  query?: string | { query?: string };
}

/**
 * The values Grafana offers for a query variable, asked of Prometheus the way Grafana does:
 * `label_values(metric, label)` through the label values API, `query_result(expr)` as an instant query whose
 * series, as text (`{a="b"} 1 ts`), go through the variable's regex.
 */
export async function variableValues(prometheus: Prometheus, v: TemplateVariable): Promise<string[]> {
  const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
  const labelValues = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(q);
  if (labelValues) {
    const [, metric = "", label = ""] = labelValues;
    const r = await prometheus.api<string[]>(
      `/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric)}`,
    );
    return r.data ?? [];
  }
  const queryResult = /^query_result\((.*)\)$/s.exec(q);
  if (!queryResult) throw new Error(`variable ${v.name}: neither label_values() nor query_result(): ${q}`);
  const r = await prometheus.query(queryResult[1] ?? "");
  if (r.status !== "success") throw new Error(`variable ${v.name}: ${r.errorType}: ${r.error}`);
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(v.regex ?? "");
  const values = new Set<string>();
  for (const s of r.data?.result ?? []) {
    const labels = Object.entries(s.metric)
      .map(([k, val]) => `${k}="${val}"`)
      .join(", ");
    const text = `{${labels}} ${s.value[1]} ${s.value[0] * 1000}`;
    if (!regex) {
      values.add(text);
      continue;
    }
    const m = new RegExp(regex[1] ?? "", regex[2]).exec(text);
    if (m) values.add(m[1] ?? m[0]);
  }
  return [...values].sort();
}
