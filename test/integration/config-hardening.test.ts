// Issue 11, finding 8, end to end: the real CLI with real files, FIFOs and /dev/zero. A FIFO hangs
// neither the start nor a SIGHUP reload (/healthz answers throughout), a broken YAML exits 78 without
// secret text, `$$` and `*_file` secrets reach the token endpoint exactly as meant, URLs are printed
// without their credentials.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { createSimulator, DEMO_TENANT, type Simulator } from "../../src/simulator/index.js";
import { type ForwarderProcess, rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const SECRET = "Zq9-never-printed-secret";

let dir: string;
let sim: Simulator;
let rx: Receiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mde-config-hardening-"));
  sim = await createSimulator({ seed: 11 });
  rx = await startReceiver({ protocol: "tcp" });
});
after(async () => {
  await rx.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync("mkfifo", [path]);
  return path;
}

/** Exit code and output; a process still running after `ms` is killed and fails the test (a hang). */
async function finish(proc: ForwarderProcess, ms = 30_000) {
  const out: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => out.push(String(c)));
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), ms);
  });
  const result = await Promise.race([proc.exit, hung]);
  clearTimeout(timer);
  if (result === "hung") {
    proc.kill();
    await proc.exit;
    assert.fail(`the forwarder hung (killed after ${ms} ms)`);
  }
  return { code: result.code, text: out.join("") + proc.stderr.join("") };
}

function tenantWith(fields: Record<string, unknown>): Record<string, unknown> {
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir: dir });
  const [tenant] = raw.tenants as Array<Record<string, unknown>>;
  const { client_secret: _secret, ...rest } = tenant ?? {};
  return { ...raw, tenants: [{ ...rest, ...fields }] };
}

test("finding 8: a FIFO or /dev/zero as a *_file, or as the config, stops `run` with 78 at once, naming the key", async () => {
  const pipe = fifo("start.fifo");
  const big = join(dir, "big.pem");
  writeFileSync(big, "-".repeat(70 * 1024));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "client_secret_file FIFO",
      tenantWith({ client_secret_file: pipe }),
      /tenants\[0\]\.client_secret_file \(line \d+\): .*is a FIFO/,
    ],
    [
      "client_key_file FIFO",
      tenantWith({ client_certificate_file: big, client_key_file: pipe }),
      /tenants\[0\]\.client_key_file \(line \d+\): .*is a FIFO/,
    ],
    [
      "client_secret_file /dev/zero",
      tenantWith({ client_secret_file: "/dev/zero" }),
      /tenants\[0\]\.client_secret_file \(line \d+\): \/dev\/zero: is a character device/,
    ],
    [
      "client_certificate_file over 64 KiB",
      tenantWith({ client_certificate_file: big, client_key_file: big }),
      /tenants\[0\]\.client_certificate_file \(line \d+\): .*more than the limit of 64 KiB/,
    ],
  ];
  for (const [what, raw, expected] of cases) {
    const file = writeConfig(dir, raw, "start.yaml");
    const { code, text } = await finish(spawnForwarder(["run", "-c", file]));
    assert.equal(code, 78, `${what}: ${text}`);
    assert.match(text, expected, what);
  }
  const asConfig = await finish(spawnForwarder(["run", "-c", pipe]));
  assert.equal(asConfig.code, 78, asConfig.text);
  assert.match(asConfig.text, /start\.fifo: 1 problem\n {2}- \(root\): is a FIFO/);
});

test("finding 8: SIGHUP with a FIFO as secret file is refused at once; /healthz answers all along", async (t) => {
  const stateDir = mkdtempSync(join(dir, "reload-"));
  const base = {
    ...rawConfig({ sim, receiverPort: rx.port, stateDir }),
    metrics: { host: "127.0.0.1", port: 0 },
  };
  const file = writeConfig(stateDir, base);
  const p = spawnForwarder(["run", "-c", file]);
  t.after(() => p.kill());
  const started = await p.waitForLog((l) => l.msg === "Forwarder started.", "the start");
  const healthz = async () => {
    const res = await fetch(`${String(started.metrics)}/healthz`, { signal: AbortSignal.timeout(10_000) });
    return `${res.status} ${await res.text()}`;
  };
  assert.equal(await healthz(), "200 ok\n");

  const [tenant] = (base as Record<string, unknown>).tenants as Array<Record<string, unknown>>;
  const { client_secret: _secret, ...rest } = tenant ?? {};
  const pipe = fifo("reload.fifo");
  const variants: Array<[string, Record<string, unknown>]> = [
    ["tenants[0].client_secret_file", { ...rest, client_secret_file: pipe }],
    ["tenants[0].client_secret_file", { ...rest, client_secret_file: "/dev/zero" }],
    ["tenants[0].client_key_file", { ...rest, client_certificate_file: pipe, client_key_file: pipe }],
  ];
  for (const [index, [key, broken]] of variants.entries()) {
    writeConfig(stateDir, { ...base, tenants: [broken] });
    p.child.kill("SIGHUP");
    // Before the fix the reload read the FIFO on the event loop: neither this log line nor /healthz came.
    await p.waitForLog(() => rejectedCount(p) > index, `reload ${index + 1} rejected`);
    const rejected = p.logs.filter((l) => l.msg.startsWith("New config rejected"))[index];
    assert.equal(rejected?.code, "E_CONFIG_INVALID");
    const issues = (rejected?.issues ?? []) as Array<{ path: string; message: string }>;
    assert.ok(
      issues.some((i) => i.path === key),
      `${key} named: ${JSON.stringify(issues)}`,
    );
    assert.equal(await healthz(), "200 ok\n");
  }
  // The daemon still takes a good config.
  writeConfig(stateDir, { ...base, log: { level: "debug" } });
  p.child.kill("SIGHUP");
  await p.waitForLog((l) => l.msg === "Config reloaded.", "a good reload");
  assert.equal(await healthz(), "200 ok\n");
});

function rejectedCount(p: ForwarderProcess): number {
  return p.logs.filter((l) => l.msg.startsWith("New config rejected")).length;
}

test("finding 8: a YAML alias error (and other YAML errors) exits 78 and never prints the secret", async () => {
  const file = join(dir, "alias.yaml");
  const good = stringify(rawConfig({ sim, receiverPort: rx.port, stateDir: dir }));
  const lines = [
    `client_secret: *${SECRET}`,
    `client_secret: !${SECRET}`,
    `client_secret: @${SECRET}`,
    `client_secret: "${SECRET}\\q"`,
  ];
  for (const line of lines) {
    writeFileSync(file, good.replace(/client_secret: .*/, line));
    for (const command of ["check-config", "run"]) {
      const { code, text } = await finish(spawnForwarder([command, "-c", file]));
      assert.equal(code, 78, `${command} with ${line}: ${text}`);
      assert.match(text, /tenants\[0\]\.client_secret \(line \d+\): YAML: /);
      assert.ok(!text.includes(SECRET.slice(0, 8)), `no piece of the secret: ${text}`);
      assert.ok(!text.includes(" at "), "no stack trace");
    }
  }
});

test("finding 8: $$ is a literal $; secrets from *_file and from variables reach the token endpoint unexpanded", async (t) => {
  const tenants = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the point of this test
    { tenantId: "aaaaaaaa-0000-4000-8000-000000000001", clientId: "literal", clientSecret: "s$cr${et}$$1" },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the point of this test
    { tenantId: "aaaaaaaa-0000-4000-8000-000000000002", clientId: "file", clientSecret: "f$$ile${NOPE}\\" },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the point of this test
    { tenantId: "aaaaaaaa-0000-4000-8000-000000000003", clientId: "env", clientSecret: "e$$nv${X}" },
  ];
  const dollars = await createSimulator({ seed: 12, tenants });
  t.after(() => dollars.close());
  const stateDir = mkdtempSync(join(dir, "dollars-"));
  const secretFile = join(stateDir, "secret");
  writeFileSync(secretFile, `${tenants[1]?.clientSecret}\n`);
  const common = { api_url: dollars.url, authority_host: dollars.authorityHost };
  const raw = {
    ...rawConfig({ sim: dollars, receiverPort: rx.port, stateDir }),
    tenants: [
      // Written with $$ for each literal $: s$$cr$${et}$$$$1 is s$cr${et}$$1.
      {
        name: "literal",
        tenant_id: tenants[0]?.tenantId,
        client_id: "literal",
        client_secret: "s$$cr$${et}$$$$1",
      },
      { name: "file", tenant_id: tenants[1]?.tenantId, client_id: "file", client_secret_file: secretFile },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the point of this test
      { name: "env", tenant_id: tenants[2]?.tenantId, client_id: "env", client_secret: "${MDE_TEST_SECRET}" },
    ].map((x) => ({ ...x, ...common })),
  };
  const file = writeConfig(stateDir, raw);
  for (const tenant of tenants) {
    dollars.generate(2, { tenantId: tenant.tenantId, from: Date.now() - 60_000, to: Date.now() - 1_000 });
  }
  const p = spawnForwarder(["once", "-c", file], { MDE_TEST_SECRET: tenants[2]?.clientSecret ?? "" });
  const { code, text } = await finish(p);
  assert.equal(code, 0, text);
  const polled = p.logs.filter((l) => l.msg === "Poll finished.").map((l) => l.tenant);
  assert.deepEqual([...polled].sort(), ["env", "file", "literal"], "every tenant got its token");
  assert.ok(!/E_AUTH_TOKEN/.test(text));
});

test("finding 8: check-config and the logs never show URL credentials", async () => {
  const stateDir = mkdtempSync(join(dir, "urls-"));
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir });
  const [tenant] = raw.tenants as Array<Record<string, unknown>>;
  const withCredentials = (url: string) => url.replace("http://", `http://svc:${SECRET}@`);
  const file = writeConfig(stateDir, {
    ...raw,
    tenants: [
      { ...tenant, api_url: withCredentials(sim.url), authority_host: withCredentials(sim.authorityHost) },
    ],
    log: { level: "trace" },
  });
  const check = await finish(spawnForwarder(["check-config", "-c", file]));
  assert.equal(check.code, 0, check.text);
  assert.match(check.text, /api_url: http:\/\/\*\*\*@127\.0\.0\.1:\d+/);
  assert.ok(!check.text.includes(SECRET), check.text);

  sim.generate(1, { tenantId: DEMO_TENANT.tenantId, from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const once = await finish(spawnForwarder(["once", "-c", file]));
  assert.ok(
    once.text.includes('"level":"trace"') || once.text.includes('"level":"debug"'),
    "verbose logs on",
  );
  assert.ok(!once.text.includes(SECRET), "no URL credentials in the logs");

  const invalid = writeConfig(
    stateDir,
    { ...raw, tenants: [{ ...tenant, api_url: `https://svc:${SECRET}@mde example.com` }] },
    "invalid.yaml",
  );
  const error = await finish(spawnForwarder(["check-config", "-c", invalid]));
  assert.equal(error.code, 78);
  assert.match(error.text, /tenants\[0\]\.api_url/);
  assert.ok(!error.text.includes(SECRET), error.text);
});
