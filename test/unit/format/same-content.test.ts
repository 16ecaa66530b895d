// One alert seen through three APIs (fixtures written by hand: same-siem, same-alerts-api, same-graph):
// every CEF and LEEF key a SIEM rule uses must carry the same value whichever API it came from, so SIEM
// content keeps working when a tenant moves off the retired SIEM API.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceKind } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter } from "./fixtures.js";

const SOURCES: ReadonlyArray<[string, SourceKind]> = [
  ["same-siem", "siem"],
  ["same-alerts-api", "alerts"],
  ["same-graph", "graph"],
];

/** Keys whose values the three APIs express identically. */
const SHARED_CEF = [
  "cat",
  "shost",
  "sourceDnsDomain",
  "fname",
  "filePath",
  "fileHash",
  "cs6",
  "suser",
  "sntdom",
  "cs2",
  "src",
  "request",
  "externalId",
  "start",
  "rt",
  "msg",
  "deviceExternalId",
  "cn1",
  "MicrosoftDefenderComputerDnsName",
  "MicrosoftDefenderIoaDefinitionId",
  "MicrosoftDefenderMachineGroup",
];
/** The Alerts API has no logged-on users and no portal links: only the SIEM API and Graph fill these. */
const SIEM_AND_GRAPH_CEF = ["suid", "flexString1", "MicrosoftDefenderLinkToMTP"];
/** Filled by all three, each in its own vocabulary or form. */
const PRESENT_CEF = ["sourceServiceName", "cs3"];

test("CEF: the same values for the shared keys, whichever API the alert came from", () => {
  const cef = makeFormatter(formatOptions({ format: "cef" }), fixedDeps);
  const [siem, alerts, graph] = SOURCES.map(([name, kind]) =>
    parseCef(cef.format(loadDetection(name), kind).bytes.toString()),
  );
  assert.ok(siem && alerts && graph);
  for (const parsed of [alerts, graph]) {
    assert.equal(parsed.classId, siem.classId);
    assert.equal(parsed.name, siem.name);
    assert.equal(parsed.severity, "5");
    assert.equal(parsed.severity, siem.severity);
    for (const key of SHARED_CEF) {
      assert.ok(siem.extension.has(key), `the SIEM detection fills ${key}`);
      assert.equal(parsed.extension.get(key), siem.extension.get(key), key);
    }
    for (const key of PRESENT_CEF) assert.ok(parsed.extension.has(key), key);
  }
  for (const key of SIEM_AND_GRAPH_CEF) {
    assert.ok(siem.extension.has(key), key);
    assert.ok(graph.extension.has(key), key);
    assert.ok(!alerts.extension.has(key), key);
  }
  assert.equal(graph.extension.get("suid"), siem.extension.get("suid"));
  // FullId identifies the alert's version in the newer APIs: id@last update.
  assert.equal(graph.extension.get("cs3"), "da638424151101234500_-517742210@2024-02-01T13:47:02.9876543Z");
  assert.equal(alerts.extension.get("cs3"), graph.extension.get("cs3"));
});

test("LEEF: the same values for the shared attributes, whichever API the alert came from", () => {
  const leef = makeFormatter(formatOptions({ format: "leef" }), fixedDeps);
  const [siem, alerts, graph] = SOURCES.map(([name, kind]) =>
    parseLeef(leef.format(loadDetection(name), kind).bytes.toString()),
  );
  assert.ok(siem && alerts && graph);
  const shared = [
    "devTime",
    "sev",
    "cat",
    "usrName",
    "src",
    "url",
    "AlertId",
    "AlertTitle",
    "AlertTime",
    "MachineName",
    "MachineDomain",
    "FileName",
    "FilePath",
    "Sha1",
    "Sha256",
    "UserDomain",
    "CommandLine",
    "DeviceID",
    "MachineGroup",
    "Description",
    "IoaDefinitionId",
    "WasExecutingWhileDetected",
  ];
  for (const parsed of [alerts, graph]) {
    assert.equal(parsed.eventId, siem.eventId);
    for (const key of shared) {
      assert.ok(siem.attributes.has(key), `the SIEM detection fills ${key}`);
      // AlertTime is sent as received: the same instant written with other digits compares by time.
      if (key === "AlertTime") {
        assert.equal(
          Date.parse(String(parsed.attributes.get(key))),
          Date.parse(String(siem.attributes.get(key))),
        );
      } else assert.equal(parsed.attributes.get(key), siem.attributes.get(key), key);
    }
  }
});
