import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeLeef, parseLeefDelimiter } from "../../../src/format/leef.js";
import type { Detection } from "../../../src/record.js";
import { parseLeef } from "../../support/leef-parser.js";
import { loadDetection } from "./fixtures.js";
import { leefValueText } from "./oracle.js";

const attrs = (detection: Detection) => parseLeef(encodeLeef(detection).text).attributes;

test("LEEF 2.0 header names TAB as its delimiter; 1.0 has no delimiter field", () => {
  const d = loadDetection("microsoft-example");
  const v2 = encodeLeef(d).text;
  assert.ok(
    v2.startsWith(
      "LEEF:2.0|Microsoft|Microsoft Defender ATP|2.0|b20af1d2-5990-4672-87f1-acc2a8ff7725|x09|devTime=",
    ),
  );
  const v1 = encodeLeef(d, { version: "1.0" }).text;
  assert.ok(
    v1.startsWith(
      "LEEF:1.0|Microsoft|Microsoft Defender ATP|2.0|b20af1d2-5990-4672-87f1-acc2a8ff7725|devTime=",
    ),
  );
  // Same attributes, same order, both TAB-separated.
  assert.equal(v1.slice(v1.indexOf("devTime=")), v2.slice(v2.indexOf("devTime=")));
  assert.equal(parseLeef(v1).delimiterField, undefined);
  assert.equal(parseLeef(v2).delimiterField, "x09");
});

test("the Microsoft example: predefined keys first, then every other field under its own name", () => {
  const d = loadDetection("microsoft-example");
  const leef = parseLeef(encodeLeef(d).text);
  assert.deepEqual(leef.keys.slice(0, 3), ["devTime", "sev", "cat"]);
  const a = leef.attributes;
  assert.equal(a.get("devTime"), "1601475104077");
  assert.equal(a.get("devTime")?.length, 13);
  assert.equal(a.get("sev"), "8");
  assert.equal(a.get("cat"), "Malware");
  assert.equal(a.get("MachineName"), "mymachine1");
  assert.equal(a.get("FullId"), d.FullId);
  assert.equal(a.get("IncidentLinkToMTP"), d.IncidentLinkToMTP);
  assert.equal(a.get("AlertPart"), "0");
  for (const consumed of ["Severity", "Category", "LastProcessedTimeUtc", "UserName", "Url", "IpAddress"]) {
    assert.equal(a.has(consumed), false, consumed);
  }
  // Everything else that is non-empty is there, unchanged.
  const predefined = new Set([
    "Severity",
    "Category",
    "LastProcessedTimeUtc",
    "UserName",
    "IpAddress",
    "Url",
  ]);
  for (const [field, value] of Object.entries(d)) {
    if (predefined.has(field) || value === null || value === "") continue;
    assert.equal(a.get(field), String(value), field);
  }
});

test("the hostile fixture round-trips after the documented replacements", () => {
  const d = loadDetection("hostile");
  for (const version of ["1.0", "2.0"] as const) {
    const { text, truncated } = encodeLeef(d, { version });
    const leef = parseLeef(text);
    assert.equal(truncated, 0);
    assert.equal(leef.eventId, "HackTool:Win32/Mikatz!dha v2\\x");
    const a = leef.attributes;
    assert.equal(a.get("src"), "fe80::1ff:fe23:4567:890a");
    assert.equal(a.get("LastProcessedTimeUtc"), "not a timestamp  ");
    assert.equal(a.has("devTime"), false);
    assert.equal(a.get("sev"), "8");
    assert.equal(a.get("WasExecutingWhileDetected"), "True");
    assert.equal(a.has("RemediationIsSuccess"), false);
    assert.equal(a.get("FutureFieldv2"), '{"nested":["a=b",1,true,null],"pipe":"|"}');
    for (const field of [
      "Description",
      "CommandLine",
      "AlertTitle",
      "FilePath",
      "Actor",
      "ThreatFamily",
      "IocValue",
    ]) {
      assert.equal(a.get(field), leefValueText(String(d[field])), field);
    }
  }
});

test("sev: Informational 1, Low 3, Medium 5, High 8; unknown severity omitted and kept raw", () => {
  const cases: Array<[string, string]> = [
    ["informational", "1"],
    ["Low", "3"],
    ["medium", "5"],
    ["HIGH", "8"],
  ];
  for (const [severity, sev] of cases) {
    const a = attrs({ Severity: severity });
    assert.equal(a.get("sev"), sev, severity);
    assert.equal(a.has("Severity"), false);
  }
  const unknown = attrs({ Severity: "Critical" });
  assert.equal(unknown.has("sev"), false);
  assert.equal(unknown.get("Severity"), "Critical");
  assert.equal(attrs({}).size, 0);
});

test("src takes a valid IPv4 or IPv6 address only", () => {
  assert.equal(attrs({ IpAddress: "10.0.0.1" }).get("src"), "10.0.0.1");
  assert.equal(attrs({ IpAddress: "::1" }).get("src"), "::1");
  const bad = attrs({ IpAddress: "not-an-ip" });
  assert.equal(bad.has("src"), false);
  assert.equal(bad.get("IpAddress"), "not-an-ip");
});

test("usrName, url and cat are predefined; usrName is limited to 255 bytes", () => {
  const a = attrs({ UserName: "alice", Url: "http://x/?a=b", Category: "Malware" });
  assert.equal(a.get("usrName"), "alice");
  assert.equal(a.get("url"), "http://x/?a=b");
  assert.equal(a.get("cat"), "Malware");
  const long = encodeLeef({ UserName: "é".repeat(200) });
  assert.equal(parseLeef(long.text).attributes.get("usrName"), "é".repeat(127));
  assert.equal(long.truncated, 1);
});

test("no escaping exists: TAB, CR, LF, NUL and DEL become spaces, = and | stay", () => {
  const { text } = encodeLeef({ Description: "a\tb\r\nc\0d\x7fe=f|g" });
  assert.ok(text.endsWith("Description=a b  c d e=f|g"), JSON.stringify(text));
  assert.equal(attrs({ Description: "x\ud800y" }).get("Description"), "x\ufffdy");
});

test("EventID: same rule as CEF, pipes and controls replaced, at most 255 bytes", () => {
  assert.equal(parseLeef(encodeLeef({ ThreatName: "a|b\tc" }).text).eventId, "a b c");
  assert.equal(parseLeef(encodeLeef({ Source: "EDR" }).text).eventId, "MDE:EDR:Unknown");
  const long = encodeLeef({ IoaDefinitionId: "i".repeat(300) });
  assert.equal(parseLeef(long.text).eventId, "i".repeat(255));
  assert.equal(long.truncated, 1);
});

test("keys are alphanumeric, unique and never taken from input unchanged", () => {
  const a = attrs({ "Odd key=1\t": "v", Oddkey1: "w", cat: "not the category", "": "x" });
  assert.equal(a.get("Oddkey1"), "v");
  assert.equal(a.get("Oddkey12"), "w");
  assert.equal(a.get("cat2"), "not the category");
  assert.equal(a.has("cat"), false);
  assert.equal(a.get("Unnamed"), "x");
});

test("parseLeefDelimiter: one character or xHH/0xHH; the header names it as configured", () => {
  assert.deepEqual(parseLeefDelimiter("^"), { char: "^", field: "^" });
  assert.deepEqual(parseLeefDelimiter("x5E"), { char: "^", field: "x5E" });
  assert.deepEqual(parseLeefDelimiter("0x5e"), { char: "^", field: "0x5e" });
  assert.deepEqual(parseLeefDelimiter("0x005E"), { char: "^", field: "0x005E" });
  assert.deepEqual(parseLeefDelimiter("x9"), { char: "\t", field: "x9" });
  assert.deepEqual(parseLeefDelimiter("\t"), { char: "\t", field: "x09" });
  for (const refused of [
    "|",
    "x7C",
    "=",
    "\\",
    " ",
    "a",
    "Z",
    "7",
    "x41",
    "\n",
    "x0D",
    "x00",
    "é",
    "",
    "^^",
    "x12345",
  ]) {
    assert.equal(typeof parseLeefDelimiter(refused), "string", JSON.stringify(refused));
  }
});

test("a configured delimiter separates attributes and becomes a space inside every value", () => {
  for (const [delimiter, char, field] of [
    ["^", "^", "^"],
    ["x7E", "~", "x7E"],
    ["0x3B", ";", "0x3B"],
  ] as const) {
    const d = { Description: `a${char}b\tc|d=e^f~g;h`, [`Odd${char}key`]: `${char}${char}` };
    const { text } = encodeLeef(d, { delimiter });
    const leef = parseLeef(text);
    assert.equal(leef.delimiterField, field);
    const expected = leefValueText(`a${char}b\tc|d=e^f~g;h`).replaceAll(char, " ");
    assert.equal(leef.attributes.get("Description"), expected, delimiter);
    assert.equal(leef.attributes.get("Oddkey"), "  ");
    // One separator between the two attributes, plus the header field when it is the character itself.
    assert.equal(text.split(char).length - 1, field === char ? 2 : 1);
  }
});

test("a delimiter the config refuses is refused by the encoder too", () => {
  assert.throws(() => encodeLeef({}, { delimiter: "|" }), /leef_delimiter/);
  assert.throws(() => encodeLeef({}, { delimiter: "^", version: "1.0" }), /LEEF 2.0 only/);
});
