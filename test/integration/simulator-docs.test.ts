// Issue 14, finding 7: docs/simulator.md documents the simulator where it matters, and says what the code
// does: its credentials, every option of `simulate`, its control API (each endpoint answered by a real
// simulator), and a "try it" recipe that works as written (its config, seeded through the control API,
// read by a real `once` into a real receiver).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { COMMANDS, optionsOf } from "../../src/cli/commands.js";
import { faultTargetSchema } from "../../src/simulator/faults.js";
import { createSimulator, DEMO_TENANT } from "../../src/simulator/index.js";
import { ROOT, spawnForwarder } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

const doc = readFileSync(join(ROOT, "docs/simulator.md"), "utf8");

test("finding 7: the README links docs/simulator.md; it gives the credentials and every simulate option", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  assert.match(readme, /\]\(docs\/simulator\.md\)/);
  assert.match(doc, new RegExp(`\\| \`tenant_id\`\\s*\\| \`${DEMO_TENANT.tenantId}\``));
  assert.match(doc, new RegExp(`\\| \`client_id\`\\s*\\| \`${DEMO_TENANT.clientId}\``));
  assert.match(doc, new RegExp(`\\| \`client_secret\`\\s*\\| \`${DEMO_TENANT.clientSecret}\``));
  const simulate = COMMANDS.find((c) => c.name === "simulate");
  assert.ok(simulate);
  for (const option of optionsOf(simulate)) {
    if (option === "help") continue;
    assert.match(doc, new RegExp(`^- \`--${option}[ \`]`, "m"), `--${option} documented`);
  }
  for (const target of faultTargetSchema.options)
    assert.ok(doc.includes(`\`${target}\``), `fault target ${target}`);
});

test("finding 7: every documented control endpoint answers, and the recipe works as written", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-sim-docs-"));
  const sim = await createSimulator({ seed: 70 });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  // Step 2 of the recipe: the backlog, with the body the doc gives (`count` and `from`).
  const seeded = await post("/_sim/alerts", {
    count: 40,
    from: new Date(Date.now() - 90 * 60_000).toISOString(),
  });
  assert.equal(seeded.status, 200);
  assert.equal(seeded.json.added, 40);
  const [id] = seeded.json.ids as string[];

  // Every endpoint in the control API table.
  const endpoints = [...doc.matchAll(/^- `(GET|POST) (\/_sim\/[^`]+)`/gm)].map(
    (m) => [m[1] ?? "", m[2] ?? ""] as const,
  );
  assert.ok(endpoints.length >= 7, JSON.stringify(endpoints));
  const incident = sim.incidentsOf()[0]?.id;
  for (const [method, path] of endpoints) {
    const url = path.replace(
      "{id}",
      encodeURIComponent(path.startsWith("/_sim/incidents") ? (incident ?? "") : (id ?? "")),
    );
    const res = await fetch(`${sim.url}${url}`, { method, body: method === "POST" ? "" : undefined });
    await res.arrayBuffer();
    assert.notEqual(res.status, 404, `${method} ${path}`);
    assert.notEqual(res.status, 405, `${method} ${path}`);
  }

  // Step 3: the config of the doc, pointed at this simulator and this receiver.
  const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
  const config = parse(yamlBlock.replaceAll("http://127.0.0.1:8080", sim.url)) as {
    tenants: Array<Record<string, unknown>>;
    state: { path: string };
    destinations: Array<Record<string, unknown>>;
    metrics: Record<string, unknown>;
  };
  assert.equal(config.tenants[0]?.client_secret, DEMO_TENANT.clientSecret);
  assert.equal(config.tenants[0]?.api_url, sim.graphUrl);
  config.state.path = join(dir, "simulator.db");
  config.destinations[0] = { ...config.destinations[0], port: rx.port };
  config.metrics = { ...config.metrics, port: 0, host: "127.0.0.1" };
  const file = join(dir, "sim.yaml");
  writeFileSync(file, JSON.stringify(config));

  // Step 4: check-config, send-test, once, status.
  for (const command of ["check-config", "send-test"]) {
    const p = spawnForwarder([command, "-c", file]);
    assert.equal((await p.exit).code, 0, `${command}: ${p.stderr.join("")}`);
  }
  const once = spawnForwarder(["once", "-c", file]);
  assert.equal((await once.exit).code, 0, once.stderr.join(""));
  await rx.waitForMessages(41); // the send-test event and the backlog (updates of seeded alerts too)
  const status = spawnForwarder(["status", "-c", file, "--json"]);
  const out: string[] = [];
  status.child.stdout?.on("data", (c: Buffer | string) => out.push(String(c)));
  assert.equal((await status.exit).code, 0);
  const report = JSON.parse(out.join("")) as { destinations: Array<{ outbox: number }> };
  assert.equal(report.destinations[0]?.outbox, 0);
});
