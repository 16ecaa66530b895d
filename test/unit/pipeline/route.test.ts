import assert from "node:assert/strict";
import { test } from "node:test";
import type { Selection } from "../../../src/pipeline/config.js";
import { createRouter } from "../../../src/pipeline/route.js";

const open: Selection = {
  include: { categories: [], machine_groups: [] },
  exclude: { categories: [], machine_groups: [] },
};

test("without any selection there is no router: everything goes everywhere", () => {
  assert.equal(
    createRouter([
      { name: "a", ...open },
      { name: "b", ...open },
    ]),
    undefined,
  );
});

test("min_severity, include and exclude, case-insensitive; unknown severities always pass", () => {
  const route = createRouter([
    { name: "all", ...open },
    { name: "medium-up", ...open, min_severity: "medium" },
    { name: "malware", ...open, include: { categories: ["Malware", "ransomware"], machine_groups: [] } },
    { name: "uk", ...open, include: { categories: [], machine_groups: ["UKMachines"] } },
    { name: "no-pua", ...open, exclude: { categories: ["UnwantedSoftware"], machine_groups: ["Lab"] } },
  ]);
  assert.ok(route);
  const to = (d: Record<string, unknown>) => [...route(d)].sort();
  assert.deepEqual(to({ Severity: "Low", Category: "Malware", MachineGroup: "UKMachines" }), [
    "all",
    "malware",
    "no-pua",
    "uk",
  ]);
  assert.deepEqual(to({ Severity: "HIGH", Category: "RANSOMWARE", MachineGroup: "ukmachines" }), [
    "all",
    "malware",
    "medium-up",
    "no-pua",
    "uk",
  ]);
  assert.deepEqual(to({ Severity: "Informational", Category: "UnwantedSoftware", MachineGroup: "" }), [
    "all",
  ]);
  assert.deepEqual(to({ Severity: "Medium", Category: "Exploit", MachineGroup: "Lab" }), [
    "all",
    "medium-up",
  ]);
  // A severity the filter cannot judge is not hidden by it.
  assert.deepEqual(to({ Severity: "Critical", Category: "Exploit" }), ["all", "medium-up", "no-pua"]);
  assert.deepEqual(to({}), ["all", "medium-up", "no-pua"]);
});
