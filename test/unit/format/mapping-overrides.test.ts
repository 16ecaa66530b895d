// Mapping overrides change only what they name: renamed, dropped, relabelled and typed fields, constants
// and user-defined keys, in CEF and LEEF; everything else keeps the default mapping.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FormatOptionsInput } from "../../../src/format/config.js";
import type { Detection } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, loadDetection, makeFormatter } from "./fixtures.js";

type Mapping = NonNullable<FormatOptionsInput["mapping"]>;

const cefWith = (mapping?: Mapping, more: FormatOptionsInput = {}) => {
  const formatter = makeFormatter({ format: "cef", syslog_header: "none", mapping, ...more }, fixedDeps);
  return (d: Detection) => parseCef(formatter.format(d).bytes.toString());
};
const leefWith = (mapping?: Mapping, more: FormatOptionsInput = {}) => {
  const formatter = makeFormatter({ format: "leef", syslog_header: "none", mapping, ...more }, fixedDeps);
  return (d: Detection) => parseLeef(formatter.format(d).bytes.toString());
};

const example = loadDetection("microsoft-example");
const withGroup = { ...example, MachineGroup: "UK Machines", Actor: "APT29" };

test("an override changes only what it names: the rest keeps its keys, values and order", () => {
  const plain = cefWith()(withGroup).pairs;
  const moved = cefWith({ fields: { ComputerDnsName: "dhost" } })(withGroup).pairs;
  const key = (k: string) => (k === "MicrosoftDefenderComputerDnsName" ? "dhost" : k);
  // A field newly mapped by a rule comes after the rules' fields, before the user-defined keys.
  const expected = plain.map(([k, v]) => [key(k), v] as const);
  assert.deepEqual(
    [...moved].sort(([a], [b]) => a.localeCompare(b)),
    [...expected].sort(([a], [b]) => a.localeCompare(b)),
  );
  assert.deepEqual(
    moved.filter(([k]) => k !== "dhost"),
    expected.filter(([k]) => k !== "dhost"),
  );
});

test("rename: a default field keeps its place under the new key; its old label goes with it", () => {
  const cef = cefWith({
    fields: { Md5: "MicrosoftDefenderMd5Hash" },
    user_defined_keys: ["MicrosoftDefenderMd5Hash"],
  })(example);
  const keys = cef.pairs.map(([k]) => k);
  assert.equal(cef.extension.get("MicrosoftDefenderMd5Hash"), example.Md5);
  assert.equal(cef.extension.has("cs5"), false);
  assert.equal(cef.extension.has("cs5Label"), false);
  assert.equal(keys.indexOf("MicrosoftDefenderMd5Hash"), keys.indexOf("fileHash") + 1);
});

test("drop: a null field is gone, and not re-added under a user-defined key", () => {
  const cef = cefWith({ fields: { Actor: null, MachineGroup: null, ExternalId: null } })(withGroup);
  for (const key of ["cs4", "cs4Label", "MicrosoftDefenderActor", "MicrosoftDefenderMachineGroup"]) {
    assert.equal(cef.extension.has(key), false, key);
  }
  assert.equal(cef.extension.has("MicrosoftDefenderExternalId"), false);
  // Other user-defined keys are still there.
  assert.equal(cef.extension.get("MicrosoftDefenderReportID"), "1053729833");
  const leef = leefWith({ fields: { Severity: null, MachineName: null } })(example);
  assert.equal(leef.attributes.has("sev"), false);
  assert.equal(leef.attributes.has("Severity"), false);
  assert.equal(leef.attributes.has("MachineName"), false);
});

test("labels: a new custom field is labelled with the field name, or the configured label, escaped", () => {
  const cef = cefWith({
    fields: { Md5: null, MachineGroup: "cs5", Sha1: "flexString2" },
    labels: { flexString2: "SHA-1 = hash \\ v1", cs3: "Full ID" },
  })(withGroup);
  assert.equal(cef.extension.get("cs5"), "UK Machines");
  assert.equal(cef.extension.get("cs5Label"), "MachineGroup");
  assert.equal(cef.extension.get("flexString2"), example.Sha1);
  assert.equal(cef.extension.get("flexString2Label"), "SHA-1 = hash \\ v1");
  // A default field relabelled keeps its key.
  assert.equal(cef.extension.get("cs3"), example.FullId);
  assert.equal(cef.extension.get("cs3Label"), "Full ID");
});

test("constants: in every message, after the mapped fields, with their label", () => {
  const parse = cefWith({
    fields: { Sha256: null },
    constants: { dvchost: "mde-forwarder-01", cs6: "eu", AcmeTenantName: "Contoso = EU", cnt: "1" },
    labels: { cs6: "Region" },
    user_defined_keys: ["AcmeTenantName"],
  });
  for (const d of [example, {}]) {
    const e = parse(d).extension;
    assert.equal(e.get("dvchost"), "mde-forwarder-01");
    assert.equal(e.get("cs6"), "eu");
    assert.equal(e.get("cs6Label"), "Region");
    assert.equal(e.get("AcmeTenantName"), "Contoso = EU");
    assert.equal(e.get("cnt"), "1");
  }
  const keys = parse(example).pairs.map(([k]) => k);
  assert.ok(keys.indexOf("dvchost") > keys.indexOf("deviceExternalId"));
  assert.ok(keys.indexOf("AcmeTenantName") < keys.indexOf("MicrosoftDefenderComputerDnsName"));
  const leef = leefWith({ constants: { policy: "default", dstPort: "514" } })(example).attributes;
  assert.equal(leef.get("policy"), "default");
  assert.equal(leef.get("dstPort"), "514");
});

test("typed keys: times as epoch ms, IPs by family, flags as 1/0, numbers as digits", () => {
  const parse = cefWith({
    fields: {
      AlertTime: "deviceCustomDate1",
      LastProcessedTimeUtc: "end",
      RemediationIsSuccess: "cn3",
      WasExecutingWhileDetected: "cfp2",
      ReportID: "cnt",
      AlertPart: "cfp1",
    },
  });
  const e = parse({ ...example, RemediationIsSuccess: "TRUE", WasExecutingWhileDetected: false }).extension;
  assert.equal(e.get("deviceCustomDate1"), String(Date.parse("2020-09-30T14:09:20.357Z")));
  assert.equal(e.get("deviceCustomDate1Label"), "AlertTime");
  assert.equal(e.get("end"), "1601475104077");
  assert.equal(e.has("rt"), false);
  assert.equal(e.has("start"), false);
  assert.equal(e.get("cn3"), "1");
  assert.equal(e.get("cn3Label"), "RemediationIsSuccess");
  assert.equal(e.get("cfp2"), "0");
  assert.equal(e.get("cnt"), "1053729833");
  assert.equal(e.get("cfp1"), "0");
  assert.equal(e.get("cfp1Label"), "AlertPart");
  // A value the typed key cannot take goes, raw, to the field's user-defined key.
  const bad = parse({ AlertTime: "yesterday", ReportID: "12a", RemediationIsSuccess: "maybe" }).extension;
  assert.equal(bad.get("MicrosoftDefenderAlertTime"), "yesterday");
  assert.equal(bad.get("MicrosoftDefenderReportID"), "12a");
  assert.equal(bad.get("MicrosoftDefenderRemediationIsSuccess"), "maybe");
  assert.equal(bad.has("deviceCustomDate1Label"), false);
  // A time field on a string key is sent as received.
  assert.equal(
    cefWith({ fields: { AlertTime: "cs4", Actor: null } })(example).extension.get("cs4"),
    example.AlertTime,
  );
});

test("IpAddress: an IPv4 key takes IPv4 only, an IPv6 key IPv6 only; the other family goes raw", () => {
  const v4 = cefWith({ fields: { IpAddress: "dst" } });
  assert.equal(v4({ IpAddress: "10.1.2.3" }).extension.get("dst"), "10.1.2.3");
  const v6on4 = v4({ IpAddress: "2001:db8::1" }).extension;
  assert.equal(v6on4.has("c6a2"), false);
  assert.equal(v6on4.get("MicrosoftDefenderIpAddress"), "2001:db8::1");
  const v6 = cefWith({ fields: { IpAddress: "c6a1" } });
  assert.equal(v6({ IpAddress: "2001:db8::1" }).extension.get("c6a1"), "2001:db8::1");
  assert.equal(v6({ IpAddress: "2001:db8::1" }).extension.get("c6a1Label"), "IpAddress");
  assert.equal(v6({ IpAddress: "10.1.2.3" }).extension.get("MicrosoftDefenderIpAddress"), "10.1.2.3");
  // Mapping a field to its default key changes nothing: IPv6 still goes to c6a2.
  const same = cefWith({ fields: { IpAddress: "src" } })({ IpAddress: "2001:db8::1" }).extension;
  assert.equal(same.get("c6a2"), "2001:db8::1");
  assert.equal(same.get("c6a2Label"), "IpAddress");
  const leef = leefWith({ fields: { IpAddress: "dst" } });
  assert.equal(leef({ IpAddress: "2001:db8::1" }).attributes.get("dst"), "2001:db8::1");
  assert.equal(leef({ IpAddress: "10.0.0.1" }).attributes.has("src"), false);
});

test("LEEF: predefined keys from compatible fields; any other key takes any field as text", () => {
  const parse = leefWith({
    fields: {
      MachineName: "identHostName",
      AlertPart: "srcPort",
      Severity: "Priority",
      LastProcessedTimeUtc: "ProcessedAt",
      AlertTime: "devTime",
    },
  });
  const a = parse(example).attributes;
  assert.equal(a.get("identHostName"), "mymachine1");
  assert.equal(a.get("srcPort"), "0");
  assert.equal(a.get("Priority"), "High");
  assert.equal(a.has("sev"), false);
  assert.equal(a.get("ProcessedAt"), example.LastProcessedTimeUtc);
  assert.equal(a.get("devTime"), String(Date.parse("2020-09-30T14:09:20.357Z")));
  assert.equal(a.has("AlertTime"), false);
});

test("a user-defined target that an automatic key would take: the automatic one gets a suffix", () => {
  const e = cefWith({
    fields: { ComputerDnsName: "MicrosoftDefenderMachineGroup" },
    user_defined_keys: ["MicrosoftDefenderMachineGroup"],
  })(withGroup).extension;
  assert.equal(e.get("MicrosoftDefenderMachineGroup"), example.ComputerDnsName);
  assert.equal(e.get("MicrosoftDefenderMachineGroup2"), "UK Machines");
});

test("the mapping is resolved once, at creation: changing the options later changes nothing", () => {
  const mapping = { fields: { Actor: "cs6" as string | null, Sha256: null } };
  const formatter = makeFormatter({ format: "cef", syslog_header: "none", mapping }, fixedDeps);
  mapping.fields.Actor = null;
  const e = parseCef(formatter.format(withGroup).bytes.toString()).extension;
  assert.equal(e.get("cs6"), "APT29");
  assert.equal(e.get("cs6Label"), "Actor");
});

test("header overrides: vendor, product and version in CEF and LEEF, escaped in CEF", () => {
  const header = { vendor: "Acme|Corp", product: "MDE \\ Bridge", version: "1.2" };
  const cef = cefWith(undefined, { header })(example);
  assert.equal(cef.vendor, "Acme|Corp");
  assert.equal(cef.product, "MDE \\ Bridge");
  assert.equal(cef.deviceVersion, "1.2");
  const leef = leefWith(undefined, { header: { ...header, vendor: "Acme Corp" } })(example);
  assert.equal(leef.vendor, "Acme Corp");
  assert.equal(leef.product, "MDE \\ Bridge");
  assert.equal(leef.productVersion, "1.2");
});
