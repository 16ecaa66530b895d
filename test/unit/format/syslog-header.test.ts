import assert from "node:assert/strict";
import { test } from "node:test";
import { FACILITIES } from "../../../src/format/config.js";
import {
  createSyslogHeader,
  rfc3164Tag,
  sanitizeHostname,
  shortHostname,
  syslogHeader,
  syslogSeverity,
} from "../../../src/format/syslog-header.js";

const at = (iso: string) => new Date(iso);
const base = {
  facility: FACILITIES.local0,
  severity: 5,
  hostname: "siem-fwd.example.com",
  appName: "mde-forwarder",
};

test("rfc5424: PRI, version 1, RFC 3339 UTC time with milliseconds, nil PROCID/MSGID/SD, no BOM", () => {
  const header = syslogHeader("rfc5424", { ...base, time: at("2026-11-30T07:32:32.123Z") });
  assert.equal(header, "<133>1 2026-11-30T07:32:32.123Z siem-fwd.example.com mde-forwarder - - - ");
  assert.ok(!Buffer.from(header).includes(Buffer.from([0xef, 0xbb, 0xbf])));
});

test("rfc3164: English month, space-padded day, UTC time, short host, alphanumeric TAG", () => {
  const t = (iso: string) => syslogHeader("rfc3164", { ...base, time: at(iso) });
  assert.equal(t("2026-10-09T07:05:03.004Z"), "<133>Oct  9 07:05:03 siem-fwd mdeforwarder: ");
  assert.equal(t("2026-01-10T00:00:00.999Z"), "<133>Jan 10 00:00:00 siem-fwd mdeforwarder: ");
  assert.equal(t("2026-12-31T23:59:59Z"), "<133>Dec 31 23:59:59 siem-fwd mdeforwarder: ");
  // UTC, whatever the offset the Date was written with.
  assert.equal(t("2026-03-01T01:30:00+02:00"), "<133>Feb 28 23:30:00 siem-fwd mdeforwarder: ");
});

test("none: no header at all", () => {
  assert.equal(syslogHeader("none", { ...base, time: at("2026-10-09T07:05:03Z") }), "");
});

test("PRI = facility * 8 + severity, severity from the detection", () => {
  const cases: Array<[string | null, number]> = [
    ["High", 3],
    ["medium", 4],
    ["Low", 5],
    ["INFORMATIONAL", 6],
    ["Critical", 5],
    [null, 5],
  ];
  for (const [severity, expected] of cases) assert.equal(syslogSeverity({ Severity: severity }), expected);
  const time = at("2026-10-09T07:05:03Z");
  const pri = (facility: number, severity: number) =>
    createSyslogHeader({ style: "rfc5424", facility, hostname: "h", appName: "a" })(severity, time).split(
      "1 ",
    )[0];
  assert.equal(pri(FACILITIES.kern, 3), "<3>");
  assert.equal(pri(FACILITIES.local0, 3), "<131>");
  assert.equal(pri(FACILITIES.local0, 6), "<134>");
  assert.equal(pri(FACILITIES.local4, 4), "<164>");
  assert.equal(pri(FACILITIES.local7, 6), "<190>");
  assert.equal(pri(FACILITIES.security, 5), "<109>");
  assert.throws(() => createSyslogHeader({ style: "rfc5424", facility: 24, hostname: "h", appName: "a" }));
  assert.throws(() => pri(FACILITIES.local0, 8));
});

test("RFC 3164 HOSTNAME drops the domain part, but never splits an IP address", () => {
  assert.equal(shortHostname("siem-fwd.example.com"), "siem-fwd");
  assert.equal(shortHostname("plainhost"), "plainhost");
  assert.equal(shortHostname("10.1.2.3"), "10.1.2.3");
  assert.equal(shortHostname(".weird"), "-");
  const header = syslogHeader("rfc3164", { ...base, hostname: "10.1.2.3", time: at("2026-10-09T07:05:03Z") });
  assert.ok(header.includes(" 10.1.2.3 mdeforwarder: "));
});

test("HOSTNAME is printable ASCII without spaces, at most 255, `-` when empty", () => {
  assert.equal(sanitizeHostname("my host\tné😀"), "my-host-n--");
  assert.equal(sanitizeHostname(""), "-");
  assert.equal(sanitizeHostname("h".repeat(300)).length, 255);
  const header = syslogHeader("rfc5424", { ...base, hostname: "a b\nc", time: at("2026-10-09T07:05:03Z") });
  assert.ok(header.includes(" a-b-c mde-forwarder "));
});

test("TAG is the app name reduced to [A-Za-z0-9], at most 32 characters", () => {
  assert.equal(rfc3164Tag("mde-forwarder"), "mdeforwarder");
  assert.equal(rfc3164Tag("x".repeat(40)).length, 32);
  assert.throws(() => createSyslogHeader({ style: "rfc3164", facility: 16, hostname: "h", appName: "---" }));
});
