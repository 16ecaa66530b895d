import assert from "node:assert/strict";
import { test } from "node:test";
import { createSimulator, type SimTenant } from "../../../src/simulator/index.js";
import {
  ALERTS_API_SCOPE,
  GRAPH_SCOPE,
  getV2Token,
  graphPage,
  type Json,
  manualClock,
  mdeAlerts,
  startSimulator,
  T0,
} from "./helpers.js";

function tenants(n: number): SimTenant[] {
  return Array.from({ length: n }, (_, i) => ({
    tenantId: `${String(i).padStart(8, "0")}-aaaa-4bbb-8ccc-${String(i).padStart(12, "0")}`,
    clientId: `client-${i}`,
    clientSecret: `secret-${i}`,
    machineGroups: [`Group${i}`],
  }));
}

const ids = (alerts: ReadonlyArray<{ readonly id?: unknown }>): string[] =>
  alerts.map((a) => String(a.id)).sort();

test("50 tenants: each token sees its own tenant's alerts and nobody else's", async (t) => {
  const list = tenants(50);
  const clock = manualClock();
  const sim = await startSimulator(t, { tenants: list, initialAlerts: 20, clock: clock.fn });
  const probe = [list[0], list[17], list[49]].filter((x): x is SimTenant => x !== undefined);
  const seen: string[][] = [];
  for (const tenant of probe) {
    const graph = (await graphPage(sim, await getV2Token(sim, GRAPH_SCOPE, tenant))).value;
    const mde = await mdeAlerts(sim, await getV2Token(sim, ALERTS_API_SCOPE, tenant), "$expand=evidence");
    assert.equal(graph.length, 20);
    assert.deepEqual(ids(graph), ids(sim.alertsOf(tenant.tenantId)));
    assert.deepEqual(ids(mde), ids(graph));
    assert.ok(graph.every((a) => a.tenantId === tenant.tenantId));
    assert.ok(
      mde.every((a) => a.aadTenantId === tenant.tenantId && a.rbacGroupName === tenant.machineGroups?.[0]),
    );
    seen.push(ids(graph));
  }
  const union = new Set(seen.flat());
  assert.equal(union.size, 60, "no alert is shared between tenants");

  // A tenant's token against its own data only, whatever the alert: updating another tenant's alert
  // is invisible to it.
  const [a, b] = probe;
  assert.ok(a && b);
  const theirs = sim.alertsOf(b.tenantId)[0];
  assert.ok(theirs);
  clock.now = T0 + 60_000;
  sim.updateAlert(theirs.id, { tenantId: b.tenantId, status: "Resolved" });
  const mine = (await graphPage(sim, await getV2Token(sim, GRAPH_SCOPE, a))).value;
  assert.ok(mine.every((x: Json) => x.id !== theirs.id));
  // One tenant's credentials do not work at another's token endpoint.
  const cross = await fetch(sim.tokenUrl(b.tenantId), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: a.clientId,
      client_secret: a.clientSecret,
      scope: GRAPH_SCOPE,
    }).toString(),
  });
  assert.equal(cross.status, 400);
  await cross.text();

  assert.equal(sim.alerts.length, 50 * 20);
});

test("tenants are made on first use, and come out the same whatever the order of use", async (t) => {
  const list = tenants(50);
  const make = async () => {
    const sim = await createSimulator({ tenants: list, initialAlerts: 5, seed: 9, clock: () => T0 });
    t.after(() => sim.close());
    return sim;
  };
  const forward = await make();
  const backward = await make();
  const forwardIds = list.map((x) => ids(forward.alertsOf(x.tenantId)));
  const backwardIds = [...list]
    .reverse()
    .map((x) => ids(backward.alertsOf(x.tenantId)))
    .reverse();
  assert.deepEqual(forwardIds, backwardIds);
  // Initial alerts spread over the hour before creation.
  for (const alert of forward.alertsOf(list[3]?.tenantId)) {
    const ms = Date.parse(alert.lastUpdateTime);
    assert.ok(ms >= T0 - 3_600_000 && ms <= T0, alert.lastUpdateTime);
  }
  // Detections stay independent of alerts: a tenant's detections are not affected by its alerts.
  assert.equal(forward.detections.length, 0);
});
