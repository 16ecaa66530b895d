// Secrets stay secret: with every log level on and the token endpoint failing in every way, neither the
// client secret nor a bearer token shows up in the forwarder's output.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createSimulator } from "../../src/simulator/index.js";
import { rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

const SECRET = "Zq9-s3cr3t-value-that-must-never-leak";
const TENANT = {
  tenantId: "11111111-2222-4333-8444-555555555555",
  clientId: "leak-test-client",
  clientSecret: SECRET,
};

async function output(args: string[]) {
  const proc = spawnForwarder(args);
  const out: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => out.push(String(c)));
  const { code } = await proc.exit;
  return { code, text: out.join("") + proc.stderr.join("") };
}

test("no secret or token in trace-level logs, through token and API failures", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-secrets-"));
  const sim = await createSimulator({ tenants: [TENANT], seed: 9 });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sim.generate(5, { tenantId: TENANT.tenantId, from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const raw = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    tenant: { tenant_id: TENANT.tenantId, client_id: TENANT.clientId, client_secret: SECRET },
  });
  const file = writeConfig(dir, { ...raw, log: { level: "trace" } });

  sim.injectFaults([{ kind: "status", status: 503 }, { kind: "cut" }], "token");
  sim.injectFaults([
    { kind: "status", status: 401 },
    { kind: "status", status: 500 },
  ]);
  const ok = await output(["once", "-c", file]);
  assert.equal(ok.code, 0, ok.text);
  assert.ok(
    ok.text.includes('"level":"debug"') || ok.text.includes('"level":"trace"'),
    "verbose logs were on",
  );
  assert.ok(!ok.text.includes(SECRET), "the client secret never appears");
  assert.ok(!/bearer\s+\S/i.test(ok.text), "no bearer token appears");
  assert.ok(!ok.text.includes("access_token"), "no token response appears");

  const wrong = "Wrong-secret-also-never-shown-42";
  const badFile = writeConfig(
    dir,
    {
      ...raw,
      log: { level: "trace" },
      tenants: [{ ...(raw.tenants as Array<Record<string, unknown>>)[0], client_secret: wrong }],
    },
    "bad.yaml",
  );
  const bad = await output(["once", "-c", badFile]);
  assert.equal(bad.code, 1);
  assert.match(bad.text, /E_AUTH_TOKEN/);
  assert.ok(!bad.text.includes(wrong));
  const check = await output(["check-config", "-c", badFile]);
  assert.equal(check.code, 0);
  assert.ok(!check.text.includes(wrong));
});
