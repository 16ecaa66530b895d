import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeCef } from "../../../src/format/cef.js";
import { CEF_RULES } from "../../../src/format/mapping.js";
import type { Detection } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { loadDetection } from "./fixtures.js";
import {
  cefExtraKey,
  cefHeaderBytes,
  cefHeaderText,
  cefValueBytes,
  cefValueText,
  checkValue,
} from "./oracle.js";

const parse = (detection: Detection) => parseCef(encodeCef(detection).text);
const ext = (detection: Detection) => parse(detection).extension;

test("the Microsoft example maps to the documented keys, in table order", () => {
  const d = loadDetection("microsoft-example");
  const cef = parse(d);
  assert.equal(cef.version, "0");
  assert.equal(cef.vendor, "Microsoft");
  assert.equal(cef.product, "Microsoft Defender ATP");
  assert.equal(cef.deviceVersion, "2.0");
  assert.equal(cef.classId, "b20af1d2-5990-4672-87f1-acc2a8ff7725");
  assert.equal(cef.name, "Suspicious File Activity");
  assert.equal(cef.severity, "8");
  assert.deepEqual(
    cef.pairs.map(([k]) => k),
    [
      "cat",
      "sourceServiceName",
      "shost",
      "fname",
      "filePath",
      "fileHash",
      "cs5",
      "cs5Label",
      "externalId",
      "flexString1",
      "flexString1Label",
      "rt",
      "start",
      "sourceDnsDomain",
      "cs3",
      "cs3Label",
      "msg",
      "deviceExternalId",
      "MicrosoftDefenderComputerDnsName",
      "MicrosoftDefenderIoaDefinitionId",
      "MicrosoftDefenderAlertPart",
      "MicrosoftDefenderFileHash",
      "MicrosoftDefenderIncidentLinkToWDATP",
      "MicrosoftDefenderReportID",
      "MicrosoftDefenderLinkToMTP",
      "MicrosoftDefenderIncidentLinkToMTP",
      "MicrosoftDefenderExternalId",
      "MicrosoftDefenderIocUniqueId",
    ],
  );
  const e = cef.extension;
  assert.equal(e.get("filePath"), "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty");
  assert.equal(e.get("rt"), String(Date.parse("2020-09-30T14:11:44.077Z")));
  assert.equal(e.get("start"), String(Date.parse("2020-09-30T14:09:20.357Z")));
  assert.equal(e.get("cs3"), d.FullId);
  assert.equal(e.get("MicrosoftDefenderIncidentLinkToMTP"), d.IncidentLinkToMTP);
  assert.equal(e.get("MicrosoftDefenderReportID"), "1053729833");
  assert.equal(e.get("MicrosoftDefenderAlertPart"), "0");
  assert.equal(encodeCef(d).truncated, 0);
});

test("every non-empty field of both fixtures comes back from the parser (round trip)", () => {
  const limits = new Map(CEF_RULES.map((r) => [r.field, r]));
  for (const name of ["microsoft-example", "hostile"]) {
    const d = loadDetection(name);
    const { text, truncated } = encodeCef(d);
    const cef = parseCef(text);
    let cuts = 0;
    cuts += Number(
      checkValue("Name", cef.name, cefHeaderText(String(d.AlertTitle)), 512, cefHeaderBytes, false),
    );
    for (const [field, raw] of Object.entries(d)) {
      const rule = limits.get(field);
      if (raw === null || raw === "" || rule?.kind === "header" || rule?.kind === "severity") continue;
      if (rule?.kind === "text" && rule.key !== undefined) {
        const what = `${name}.${field}`;
        const rawText = typeof raw === "string" ? raw : JSON.stringify(raw);
        const got = cef.extension.get(rule.key);
        cuts += Number(checkValue(what, got, cefValueText(rawText), rule.maxBytes ?? 0, cefValueBytes, true));
        if (got !== undefined && rule.label !== undefined)
          assert.equal(cef.extension.get(`${rule.key}Label`), rule.label);
      } else if (rule === undefined) {
        const rawText = typeof raw === "string" ? raw : JSON.stringify(raw);
        const got = cef.extension.get(cefExtraKey(field));
        cuts += Number(checkValue(`${name}.${field}`, got, cefValueText(rawText), 4000, cefValueBytes, true));
      }
    }
    assert.equal(truncated, cuts, name);
  }
});

test("the hostile fixture: flags, IPv6, unparseable time and the unknown field", () => {
  const e = ext(loadDetection("hostile"));
  assert.equal(e.has("cn2"), false, "null RemediationIsSuccess is omitted");
  assert.equal(e.has("cn2Label"), false, "and so is its label");
  assert.equal(e.get("cn1"), "1");
  assert.equal(e.get("cn1Label"), "WasExecutingWhileDetected");
  assert.equal(e.get("c6a2"), "fe80::1ff:fe23:4567:890a");
  assert.equal(e.get("c6a2Label"), "IpAddress");
  assert.equal(e.has("src"), false);
  assert.equal(e.has("rt"), false);
  assert.equal(e.get("MicrosoftDefenderLastProcessedTimeUtc"), "not a timestamp\r\n");
  assert.equal(e.get("MicrosoftDefenderFutureFieldv2"), '{"nested":["a=b",1,true,null],"pipe":"|"}');
  assert.equal(e.get("filePath"), "C:\\Users\\x\\AppData\\ already \\= escaped \\\\= twice");
  assert.equal(e.get("msg"), "Line one\r\nLine two\nLine three\rends with spaces");
  assert.equal(e.has("MicrosoftDefenderIocValue"), false, "whitespace-only value is omitted");
});

test("Device Event Class ID: IoaDefinitionId, else ThreatName, else MDE:<Source>:<Category>", () => {
  const base = {
    IoaDefinitionId: "ioa-1",
    ThreatName: "HackTool:Win32/Mikatz!dha",
    Source: "EDR",
    Category: "Malware",
  };
  assert.equal(parse(base).classId, "ioa-1");
  assert.equal(parse({ ...base, IoaDefinitionId: "" }).classId, "HackTool:Win32/Mikatz!dha");
  assert.equal(parse({ ...base, IoaDefinitionId: "  " }).classId, "HackTool:Win32/Mikatz!dha");
  assert.equal(parse({ ...base, IoaDefinitionId: null, ThreatName: "" }).classId, "MDE:EDR:Malware");
  assert.equal(parse({ Category: "Malware" }).classId, "MDE:Unknown:Malware");
  assert.equal(parse({}).classId, "MDE:Unknown:Unknown");
  const escaped = encodeCef({ IoaDefinitionId: "a|b\\c\r\nd" }).text;
  assert.ok(escaped.includes("|a\\|b\\\\c  d|"), escaped);
});

test("header severity: Informational 1, Low 3, Medium 5, High 8, anything else 0", () => {
  const cases: Array<[unknown, string]> = [
    ["Informational", "1"],
    ["low", "3"],
    ["MEDIUM", "5"],
    ["High", "8"],
    ["Critical", "0"],
    [null, "0"],
    [undefined, "0"],
  ];
  for (const [severity, expected] of cases) {
    assert.equal(parse({ Severity: severity }).severity, expected, String(severity));
  }
  // A severity the header cannot say is kept raw; a known one is not repeated.
  assert.equal(ext({ Severity: "Critical" }).get("MicrosoftDefenderSeverity"), "Critical");
  assert.equal(ext({ Severity: "High" }).has("MicrosoftDefenderSeverity"), false);
});

test("Name is AlertTitle, escaped; Unknown when missing", () => {
  assert.equal(parse({ AlertTitle: "a|b\\c" }).name, "a|b\\c");
  assert.ok(encodeCef({ AlertTitle: "a|b\\c" }).text.includes("|a\\|b\\\\c|"));
  assert.equal(parse({ AlertTitle: "x\ty\nz" }).name, "x y z");
  assert.equal(parse({}).name, "Unknown");
  assert.equal(ext({ AlertTitle: "t" }).has("MicrosoftDefenderAlertTitle"), false);
});

test("flags map booleans and true/false strings to 1/0, anything else goes raw to its own key", () => {
  const cases: Array<[unknown, string | undefined]> = [
    [true, "1"],
    [false, "0"],
    ["True", "1"],
    ["FALSE", "0"],
    [null, undefined],
    ["", undefined],
  ];
  for (const [value, expected] of cases) {
    const e = ext({ RemediationIsSuccess: value });
    assert.equal(e.get("cn2"), expected, String(value));
    assert.equal(e.get("cn2Label"), expected === undefined ? undefined : "RemediationIsSuccess");
  }
  const e = ext({ RemediationIsSuccess: "maybe", WasExecutingWhileDetected: 1 });
  assert.equal(e.get("MicrosoftDefenderRemediationIsSuccess"), "maybe");
  assert.equal(e.get("MicrosoftDefenderWasExecutingWhileDetected"), "1");
  assert.equal(e.has("cn2"), false);
});

test("IpAddress: IPv4 to src, IPv6 to c6a2, anything else raw", () => {
  assert.equal(ext({ IpAddress: "10.1.2.3" }).get("src"), "10.1.2.3");
  const v6 = ext({ IpAddress: "2001:db8::1" });
  assert.equal(v6.get("c6a2"), "2001:db8::1");
  assert.equal(v6.get("c6a2Label"), "IpAddress");
  const bad = ext({ IpAddress: "10.1.2.300" });
  assert.equal(bad.has("src"), false);
  assert.equal(bad.get("MicrosoftDefenderIpAddress"), "10.1.2.300");
  assert.equal(ext({ IpAddress: "" }).size, 0);
});

test("times become epoch milliseconds; an unparseable one is kept raw", () => {
  const e = ext({
    LastProcessedTimeUtc: "2020-09-30T14:11:44.0779765Z",
    AlertTime: "2020-09-30T16:09:20+02:00",
  });
  assert.equal(e.get("rt"), "1601475104077");
  assert.equal(e.get("start"), String(Date.parse("2020-09-30T14:09:20Z")));
  const bad = ext({ AlertTime: "yesterday", LastProcessedTimeUtc: 1601475104077 });
  assert.equal(bad.get("MicrosoftDefenderAlertTime"), "yesterday");
  assert.equal(bad.get("MicrosoftDefenderLastProcessedTimeUtc"), "1601475104077");
});

test("other fields get user-defined keys, stringified, each key once", () => {
  const e = ext({
    "New-Field.x": "v",
    Count: 3,
    Flag: false,
    Tags: ["a", "b"],
    Obj: { k: "v=1" },
    "A-B": "first",
    AB: "second",
    "": "nameless",
    Empty: "",
    Nothing: null,
  });
  assert.equal(e.get("MicrosoftDefenderNewFieldx"), "v");
  assert.equal(e.get("MicrosoftDefenderCount"), "3");
  assert.equal(e.get("MicrosoftDefenderFlag"), "false");
  assert.equal(e.get("MicrosoftDefenderTags"), '["a","b"]');
  assert.equal(e.get("MicrosoftDefenderObj"), '{"k":"v=1"}');
  assert.equal(e.get("MicrosoftDefenderAB"), "first");
  assert.equal(e.get("MicrosoftDefenderAB2"), "second");
  assert.equal(e.get("MicrosoftDefenderUnnamed"), "nameless");
  assert.equal(e.has("MicrosoftDefenderEmpty"), false);
  assert.equal(e.has("MicrosoftDefenderNothing"), false);
});

test("extension escaping: backslash, equals, CR, LF escaped; TAB, NUL, DEL spaced; pipe kept", () => {
  const { text } = encodeCef({ Description: "a\\b=c|d\r\ne\tf\0g\x7fh" });
  assert.ok(text.endsWith("msg=a\\\\b\\=c|d\\r\\ne f g h"), text);
  assert.equal(ext({ Description: "already \\= escaped" }).get("msg"), "already \\= escaped");
  assert.ok(encodeCef({ Description: "already \\= escaped" }).text.endsWith("msg=already \\\\\\= escaped"));
});

test("lone surrogates become U+FFFD; pairs survive", () => {
  const { text } = encodeCef({ Description: "a\ud800b\udc00c😀" });
  assert.ok(text.endsWith("msg=a\ufffdb\ufffdc😀"));
  assert.ok(Buffer.from(text).toString("utf8") === text);
});

test("no trailing space: trailing spaces are trimmed, whitespace-only values omitted with their label", () => {
  const { text } = encodeCef({ Description: "x", Actor: "ends   ", Sha256: " \t " });
  assert.ok(!text.endsWith(" "));
  const e = parseCef(text).extension;
  assert.equal(e.get("cs4"), "ends");
  assert.equal(e.has("cs6"), false);
  assert.equal(e.has("cs6Label"), false);
  assert.ok(!encodeCef({ Unknown: "last   " }).text.endsWith(" "));
});

test("truncation: UTF-8 bytes after escaping, never inside an escape pair or a code point", () => {
  // externalId allows 40 bytes.
  const ascii = encodeCef({ AlertId: "a".repeat(41) });
  assert.equal(parseCef(ascii.text).extension.get("externalId"), "a".repeat(40));
  assert.equal(ascii.truncated, 1);
  // 39 bytes, then `\\` needs two more: the pair is dropped whole.
  const pair = encodeCef({ AlertId: `${"a".repeat(39)}\\b` });
  assert.equal(parseCef(pair.text).extension.get("externalId"), "a".repeat(39));
  assert.equal(pair.truncated, 1);
  // 38 bytes, then a 3-byte character: cut before it.
  const cjk = encodeCef({ AlertId: `${"a".repeat(38)}中` });
  assert.equal(parseCef(cjk.text).extension.get("externalId"), "a".repeat(38));
  // A surrogate pair is one 4-byte code point.
  const emoji = encodeCef({ AlertId: `${"a".repeat(37)}😀` });
  assert.equal(parseCef(emoji.text).extension.get("externalId"), "a".repeat(37));
  // Exactly at the limit: nothing cut.
  const exact = encodeCef({ AlertId: `${"a".repeat(38)}\\` });
  assert.equal(parseCef(exact.text).extension.get("externalId"), `${"a".repeat(38)}\\`);
  assert.equal(exact.truncated, 0);
});

test("every truncated value is counted: header and extension", () => {
  const { text, truncated } = encodeCef({
    AlertTitle: "t".repeat(600),
    IoaDefinitionId: "i".repeat(2000),
    Description: "d".repeat(2000),
    RemediationAction: "r".repeat(64),
    Extra: "e".repeat(5000),
  });
  const cef = parseCef(text);
  assert.equal(Buffer.byteLength(cef.name), 512);
  assert.equal(Buffer.byteLength(cef.classId), 1023);
  assert.equal(cef.extension.get("msg")?.length, 1023);
  assert.equal(cef.extension.get("act")?.length, 63);
  assert.equal(cef.extension.get("MicrosoftDefenderExtra")?.length, 4000);
  assert.equal(cef.extension.get("MicrosoftDefenderIoaDefinitionId")?.length, 2000);
  assert.equal(truncated, 5);
});

test("vendor, product and version can be overridden and are escaped and limited", () => {
  const { text, truncated } = encodeCef({}, { vendor: "Ven|dor", product: "P".repeat(70), version: "1\\0" });
  const cef = parseCef(text);
  assert.equal(cef.vendor, "Ven|dor");
  assert.equal(cef.product, "P".repeat(63));
  assert.equal(cef.deviceVersion, "1\\0");
  assert.equal(truncated, 1);
});

test("keys are never copied from input: a hostile field name cannot inject a pair", () => {
  const { text } = encodeCef({ "x=1 cs1": "v", "a b": "=" });
  const e = parseCef(text).extension;
  assert.equal(e.get("MicrosoftDefenderx1cs1"), "v");
  assert.equal(e.get("MicrosoftDefenderab"), "=");
  assert.equal(e.has("cs1"), false);
});

test("regression (property gauntlet): blanks past a limit are trimmed, not counted as a cut", () => {
  // 2,000 NULs and spaces become spaces, then nothing: the value is omitted and nothing was truncated.
  const blank = encodeCef({ AlertTitle: "t", Severity: "Low", UserName: "\0 ".repeat(1_000) });
  assert.equal(blank.truncated, 0);
  assert.ok(!blank.text.includes("suser="));
  // Real content followed by a long blank tail fits once the tail is gone.
  const tail = encodeCef({ AlertTitle: "t", Severity: "Low", Description: `real text${" \t".repeat(900)}` });
  assert.equal(tail.truncated, 0);
  assert.ok(tail.text.endsWith("msg=real text"));
});
