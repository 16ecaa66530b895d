// Every problem of the new format keys is found at start-up, with its path relative to the destination
// and a message that says what to do: by validateFormatOptions, by makeFormatter (ConfigError), by a
// destination schema that calls refineFormatOptions, and (for the shape) by the config loader.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError, type ConfigIssue } from "../../../src/errors.js";
import {
  type FormatOptionsInput,
  formatOptionsShape,
  refineFormatOptions,
  validateFormatOptions,
} from "../../../src/format/config.js";
import { makeFormatter } from "./fixtures.js";

type Case = readonly [what: string, options: FormatOptionsInput, path: string, message: string];

const cef = (mapping: NonNullable<FormatOptionsInput["mapping"]>): FormatOptionsInput => ({
  format: "cef",
  mapping,
});
const leef = (mapping: NonNullable<FormatOptionsInput["mapping"]>, more: FormatOptionsInput = {}) => ({
  format: "leef" as const,
  ...more,
  mapping,
});

const NOT_ONE_CHAR =
  'must be one character, or its hex code written "xHH" or "0xHH" (for example "^" or "x5E")';
const UNSAFE_CHAR =
  "cannot be a letter, a digit, a space, =, | or \\ (they occur in keys, values or the header)";
const NOT_PRINTABLE = "must be TAB (x09) or a printable ASCII character";
const NUMBER_KEY = (key: string) =>
  `"${key}" is a number key: only a flag (RemediationIsSuccess, WasExecutingWhileDetected) or a number (AlertPart, ReportID, IncidentId, InvestigationId, EvidenceIndex, EvidenceCount, AlertCount) can go there`;

/** Options that the shape (each key alone) refuses. */
const SHAPE: readonly Case[] = [
  ["delimiter of two characters", { format: "leef", leef_delimiter: "ab" }, "leef_delimiter", NOT_ONE_CHAR],
  ["hex with 5 digits", { format: "leef", leef_delimiter: "x0005E" }, "leef_delimiter", NOT_ONE_CHAR],
  ["empty delimiter", { format: "leef", leef_delimiter: "" }, "leef_delimiter", NOT_ONE_CHAR],
  ["= delimiter", { format: "leef", leef_delimiter: "=" }, "leef_delimiter", UNSAFE_CHAR],
  ["| delimiter", { format: "leef", leef_delimiter: "|" }, "leef_delimiter", UNSAFE_CHAR],
  ["x7C is |", { format: "leef", leef_delimiter: "x7C" }, "leef_delimiter", UNSAFE_CHAR],
  ["0x3D is =", { format: "leef", leef_delimiter: "0x3D" }, "leef_delimiter", UNSAFE_CHAR],
  ["backslash delimiter", { format: "leef", leef_delimiter: "\\" }, "leef_delimiter", UNSAFE_CHAR],
  ["space delimiter", { format: "leef", leef_delimiter: " " }, "leef_delimiter", UNSAFE_CHAR],
  ["letter delimiter", { format: "leef", leef_delimiter: "a" }, "leef_delimiter", UNSAFE_CHAR],
  ["digit delimiter", { format: "leef", leef_delimiter: "x30" }, "leef_delimiter", UNSAFE_CHAR],
  ["LF delimiter", { format: "leef", leef_delimiter: "x0A" }, "leef_delimiter", NOT_PRINTABLE],
  ["CR delimiter", { format: "leef", leef_delimiter: "\r" }, "leef_delimiter", NOT_PRINTABLE],
  ["NUL delimiter", { format: "leef", leef_delimiter: "0x0" }, "leef_delimiter", NOT_PRINTABLE],
  ["DEL delimiter", { format: "leef", leef_delimiter: "x7F" }, "leef_delimiter", NOT_PRINTABLE],
  ["non-ASCII delimiter", { format: "leef", leef_delimiter: "¦" }, "leef_delimiter", NOT_PRINTABLE],
  ["non-ASCII hex delimiter", { format: "leef", leef_delimiter: "x00A6" }, "leef_delimiter", NOT_PRINTABLE],
  [
    "a number as delimiter (YAML reads 0x09 unquoted as 9)",
    { format: "leef", leef_delimiter: 9 as unknown as string },
    "leef_delimiter",
    'must be one character or its hex code, quoted: "^" or "x5E"',
  ],
  ["empty vendor", { header: { vendor: "" } }, "header.vendor", "must not be empty"],
  ["blank product", { header: { product: "   " } }, "header.product", "must not be empty"],
  [
    "control character in the version",
    { header: { version: "2.0\n" } },
    "header.version",
    "must not contain control characters (tab, CR, LF...)",
  ],
  [
    "lone surrogate in the vendor",
    { header: { vendor: "a\ud800" } },
    "header.vendor",
    "must be valid Unicode text",
  ],
  [
    "unquoted version number",
    { header: { version: 2 as unknown as string } },
    "header.version",
    'must be text (quote a number: "2.0")',
  ],
  [
    "unknown header key",
    { header: { vendr: "x" } as unknown as { vendor: string } },
    "header",
    'Unrecognized key: "vendr"',
  ],
  [
    "target that is not a key",
    cef({ fields: { Actor: "cs-4" } }),
    "mapping.fields.Actor",
    "must be a key of letters and digits, or null to drop the field",
  ],
  [
    "target that is a number",
    cef({ fields: { Actor: 4 as unknown as string } }),
    "mapping.fields.Actor",
    "must be an output key, or null to drop the field",
  ],
  ["empty field name", cef({ fields: { "": "cs4" } }), "mapping.fields", "a field name must not be empty"],
  [
    "label of a bad key",
    cef({ labels: { "cs 4": "x" } }),
    "mapping.labels.cs 4",
    "must be a key of letters and digits",
  ],
  [
    "constant of a bad key",
    cef({ constants: { "dvc-host": "x" } }),
    "mapping.constants.dvc-host",
    "must be a key of letters and digits",
  ],
  [
    "constant that is a list",
    cef({ constants: { dvchost: ["a"] as unknown as string } }),
    "mapping.constants.dvchost",
    "must be text or a number",
  ],
  [
    "user-defined key with an underscore",
    cef({ user_defined_keys: ["Acme_Tenant"] }),
    "mapping.user_defined_keys[0]",
    "must be a key of letters and digits",
  ],
  [
    "unknown mapping key",
    cef({ field: {} } as unknown as NonNullable<FormatOptionsInput["mapping"]>),
    "mapping",
    'Unrecognized key: "field"',
  ],
  ["max_message_bytes too small", { max_message_bytes: 255 }, "max_message_bytes", "must be at least 256"],
  [
    "max_message_bytes not whole",
    { max_message_bytes: 1024.5 },
    "max_message_bytes",
    "must be a whole number",
  ],
];

/** Options each key of which is fine alone, but not together. */
const TOGETHER: readonly Case[] = [
  [
    "delimiter for cef",
    { format: "cef", leef_delimiter: "^" },
    "leef_delimiter",
    "applies to format leef only",
  ],
  [
    "delimiter for LEEF 1.0",
    { format: "leef", leef_version: "1.0", leef_delimiter: "x09" },
    "leef_delimiter",
    'applies to leef_version "2.0" only (LEEF 1.0 always separates attributes with TAB)',
  ],
  [
    "rfc3164 TAG without letters",
    { syslog_header: "rfc3164", app_name: "---" },
    "app_name",
    "must contain a letter or digit (the RFC 3164 TAG)",
  ],
  [
    "CEF vendor over 63 bytes",
    { format: "cef", header: { vendor: "v".repeat(64) } },
    "header.vendor",
    "must be at most 63 bytes after CEF escaping",
  ],
  [
    "CEF product at 63 bytes only once escaped",
    { format: "cef", header: { product: `${"p".repeat(62)}|` } },
    "header.product",
    "must be at most 63 bytes after CEF escaping",
  ],
  [
    "CEF version over 31 bytes of UTF-8",
    { format: "cef", header: { version: "é".repeat(16) } },
    "header.version",
    "must be at most 31 bytes after CEF escaping",
  ],
  [
    "LEEF vendor with a pipe",
    { format: "leef", header: { vendor: "a|b" } },
    "header.vendor",
    "must not contain | (LEEF has no escaping; | separates the header fields)",
  ],
  [
    "LEEF version over 31 bytes",
    { format: "leef", header: { version: "v".repeat(32) } },
    "header.version",
    "must be at most 31 bytes",
  ],
  [
    "mapping for json",
    { format: "json", mapping: { fields: { Actor: null } } },
    "mapping",
    "applies to formats cef and leef only (json sends the detection as received)",
  ],
  // CEF targets
  [
    "not a dictionary key",
    cef({ fields: { Actor: "actor" } }),
    "mapping.fields.Actor",
    '"actor" is not a CEF dictionary key; list it in mapping.user_defined_keys to send it as a user-defined key',
  ],
  [
    "consumer key",
    cef({ fields: { Actor: "rawEvent" } }),
    "mapping.fields.Actor",
    '"rawEvent" is a consumer key: ArcSight sets it on ingestion, a producer must not send it',
  ],
  [
    "another consumer key",
    cef({ fields: { ComputerDnsName: "ahost" } }),
    "mapping.fields.ComputerDnsName",
    '"ahost" is a consumer key: ArcSight sets it on ingestion, a producer must not send it',
  ],
  [
    "label key as a target",
    cef({ fields: { Actor: "cs4Label" } }),
    "mapping.fields.Actor",
    '"cs4Label" is a label: set it in mapping.labels.cs4',
  ],
  [
    "CEF header Name",
    cef({ fields: { AlertTitle: "msg" } }),
    "mapping.fields.AlertTitle",
    "AlertTitle is carried by the CEF header (Name): it cannot be mapped or dropped",
  ],
  [
    "CEF header Severity",
    cef({ fields: { Severity: null } }),
    "mapping.fields.Severity",
    "Severity is carried by the CEF header (Severity): it cannot be mapped or dropped",
  ],
  [
    "text into a timestamp key",
    cef({ fields: { Actor: "end" } }),
    "mapping.fields.Actor",
    '"end" is a timestamp key: only a time field (AlertTime, LastProcessedTimeUtc, FirstActivityTime, LastActivityTime, ResolvedTime, LastUpdateTime, CreatedTime) can go there',
  ],
  [
    "text into an IPv4 key",
    cef({ fields: { ComputerDnsName: "dvc" } }),
    "mapping.fields.ComputerDnsName",
    '"dvc" is an IPv4 address key: only IpAddress can go there',
  ],
  [
    "text into an IPv6 key",
    cef({ fields: { InternalIPv6List: "c6a1" } }),
    "mapping.fields.InternalIPv6List",
    '"c6a1" is an IPv6 address key: only IpAddress can go there',
  ],
  ["text into an integer key", cef({ fields: { Actor: "cnt" } }), "mapping.fields.Actor", NUMBER_KEY("cnt")],
  [
    "an IP into a long key",
    cef({ fields: { IpAddress: "cn3" } }),
    "mapping.fields.IpAddress",
    NUMBER_KEY("cn3"),
  ],
  [
    "a time into a double key",
    cef({ fields: { AlertTime: "cfp1" } }),
    "mapping.fields.AlertTime",
    NUMBER_KEY("cfp1"),
  ],
  [
    "anything into a MAC key",
    cef({ fields: { MachineName: "smac" } }),
    "mapping.fields.MachineName",
    '"smac" is a MAC address key: no detection field holds one',
  ],
  [
    "a key that is another field's default",
    cef({ fields: { MachineGroup: "cs5" } }),
    "mapping.fields.MachineGroup",
    '"cs5" is already the key of Md5 (default mapping): map Md5 elsewhere or drop it (Md5: null)',
  ],
  [
    "two fields to one key",
    cef({ fields: { Md5: null, MachineGroup: "cs5", ComputerDnsName: "cs5" } }),
    "mapping.fields.ComputerDnsName",
    '"cs5" is also the target of mapping.fields.MachineGroup',
  ],
  [
    "IpAddress keeps c6a2 by default",
    cef({ fields: { InternalIPv6List: "c6a2" } }),
    "mapping.fields.InternalIPv6List",
    '"c6a2" is an IPv6 address key: only IpAddress can go there',
  ],
  [
    "field name too long to be its own label",
    cef({ fields: { [`F${"x".repeat(128)}`]: "flexString2" } }),
    `mapping.fields.F${"x".repeat(128)}`,
    "needs a label in mapping.labels.flexString2: the field name as label must be at most 128 bytes after CEF escaping",
  ],
  // CEF labels
  [
    "label for a key without one",
    cef({ labels: { msg: "Message" } }),
    "mapping.labels.msg",
    '"msg" has no label (labels exist for cs1-cs6, cn1-cn3, c6a1-c6a4, cfp1-cfp4, deviceCustomDate1-2, flexString1-2, flexDate1)',
  ],
  [
    "label for a key nobody maps to",
    cef({ fields: { Actor: null }, labels: { cs4: "Actor" } }),
    "mapping.labels.cs4",
    'no field or constant is mapped to "cs4"',
  ],
  ["empty label", cef({ labels: { cs5: "" } }), "mapping.labels.cs5", "must not be empty"],
  [
    "label with a tab",
    cef({ labels: { cs5: "MD5\thash" } }),
    "mapping.labels.cs5",
    "must not contain control characters (tab, CR, LF...)",
  ],
  [
    "label ending in a space",
    cef({ labels: { cs5: "MD5 " } }),
    "mapping.labels.cs5",
    "must not start or end with a space",
  ],
  [
    "flexString label over 128 bytes",
    cef({ labels: { flexString1: "l".repeat(129) } }),
    "mapping.labels.flexString1",
    "must be at most 128 bytes after CEF escaping",
  ],
  // CEF constants
  [
    "constant for a timestamp key",
    cef({ constants: { end: "1601475104077" } }),
    "mapping.constants.end",
    '"end" is a timestamp key: it takes a time field, not a constant',
  ],
  [
    "constant that is not an IPv4 address",
    cef({ constants: { dvc: "10.0.0.300" } }),
    "mapping.constants.dvc",
    "must be an IPv4 address",
  ],
  [
    "constant that is not an IPv6 address",
    cef({ constants: { c6a4: "10.0.0.1" }, labels: { c6a4: "Collector" } }),
    "mapping.constants.c6a4",
    "must be an IPv6 address",
  ],
  [
    "constant that is not a whole number",
    cef({ constants: { cnt: "1.5" } }),
    "mapping.constants.cnt",
    "must be a whole number",
  ],
  [
    "constant that is not a number",
    cef({ constants: { cfp1: "high" }, labels: { cfp1: "Score" } }),
    "mapping.constants.cfp1",
    "must be a number",
  ],
  [
    "constant that is not a MAC address",
    cef({ constants: { dmac: "00:11:22:33:44" } }),
    "mapping.constants.dmac",
    "must be a MAC address (11:2d:1a:2b:3c:4d)",
  ],
  [
    "constant over the key's length",
    cef({ constants: { dvchost: "h".repeat(101) } }),
    "mapping.constants.dvchost",
    "must be at most 100 bytes after CEF escaping",
  ],
  [
    "constant over the length once escaped",
    cef({ constants: { dvchost: `${"h".repeat(99)}=` } }),
    "mapping.constants.dvchost",
    "must be at most 100 bytes after CEF escaping",
  ],
  [
    "constant with a line break",
    cef({ constants: { dvchost: "a\nb" } }),
    "mapping.constants.dvchost",
    "must not contain control characters (tab, CR, LF...)",
  ],
  [
    "constant with a trailing space",
    cef({ constants: { dvchost: "host " } }),
    "mapping.constants.dvchost",
    "must not start or end with a space",
  ],
  [
    "constant of a custom field without a label",
    cef({ fields: { Sha256: null }, constants: { cs6: "x" } }),
    "mapping.constants.cs6",
    "needs a label: set mapping.labels.cs6",
  ],
  [
    "constant on another field's default key",
    cef({ constants: { msg: "fixed" } }),
    "mapping.constants.msg",
    '"msg" is already the key of Description (default mapping): map Description elsewhere or drop it (Description: null)',
  ],
  [
    "constant on a mapped key",
    cef({ fields: { ComputerDnsName: "dhost" }, constants: { dhost: "fixed" } }),
    "mapping.constants.dhost",
    '"dhost" is also the target of mapping.fields.ComputerDnsName',
  ],
  [
    "constant of a consumer key",
    cef({ constants: { agt: "10.0.0.1" } }),
    "mapping.constants.agt",
    '"agt" is a consumer key: ArcSight sets it on ingestion, a producer must not send it',
  ],
  [
    "constant of an unlisted user-defined key",
    cef({ constants: { AcmeTenant: "x" } }),
    "mapping.constants.AcmeTenant",
    '"AcmeTenant" is not a CEF dictionary key; list it in mapping.user_defined_keys to send it as a user-defined key',
  ],
  // CEF user-defined keys
  [
    "user-defined key that is a dictionary key",
    cef({ user_defined_keys: ["AcmeTenant", "dhost"] }),
    "mapping.user_defined_keys[1]",
    '"dhost" is a CEF dictionary key',
  ],
  [
    "user-defined key that is a consumer key",
    cef({ user_defined_keys: ["rawEvent"] }),
    "mapping.user_defined_keys[0]",
    '"rawEvent" is a CEF dictionary key',
  ],
  [
    "user-defined key listed twice",
    cef({ user_defined_keys: ["AcmeTenant", "AcmeTenant"] }),
    "mapping.user_defined_keys[1]",
    '"AcmeTenant" is listed twice',
  ],
  // LEEF
  [
    "labels in LEEF",
    leef({ labels: { cs1: "x" } }),
    "mapping.labels",
    "applies to format cef only: LEEF has no labels",
  ],
  [
    "user-defined keys in LEEF",
    leef({ user_defined_keys: ["Acme"] }),
    "mapping.user_defined_keys",
    "applies to format cef only: LEEF takes any key of letters and digits",
  ],
  [
    "devTime from text",
    leef({ fields: { LastProcessedTimeUtc: null, Actor: "devTime" } }),
    "mapping.fields.Actor",
    '"devTime" is a timestamp key: only a time field (AlertTime, LastProcessedTimeUtc, FirstActivityTime, LastActivityTime, ResolvedTime, LastUpdateTime, CreatedTime) can go there',
  ],
  [
    "sev from text",
    leef({ fields: { Severity: null, Category: "sev" } }),
    "mapping.fields.Category",
    '"sev" is the LEEF severity (1-10): only Severity can go there',
  ],
  [
    "dst from text",
    leef({ fields: { MachineName: "dst" } }),
    "mapping.fields.MachineName",
    '"dst" is an IP address key: only IpAddress can go there',
  ],
  [
    "srcPort from text",
    leef({ fields: { Actor: "srcPort" } }),
    "mapping.fields.Actor",
    NUMBER_KEY("srcPort"),
  ],
  [
    "srcMAC",
    leef({ fields: { DeviceID: "srcMAC" } }),
    "mapping.fields.DeviceID",
    '"srcMAC" is a MAC address key: no detection field holds one',
  ],
  [
    "devTimeFormat as a target",
    leef({ fields: { Actor: "devTimeFormat" } }),
    "mapping.fields.Actor",
    '"devTimeFormat" cannot be set: devTime is sent as epoch milliseconds',
  ],
  [
    "devTimeFormat as a constant",
    leef({ constants: { devTimeFormat: "MMM dd yyyy HH:mm:ss" } }),
    "mapping.constants.devTimeFormat",
    '"devTimeFormat" cannot be set: devTime is sent as epoch milliseconds',
  ],
  [
    "sev constant out of range",
    leef({ fields: { Severity: null }, constants: { sev: "11" } }),
    "mapping.constants.sev",
    "must be a whole number from 1 to 10",
  ],
  [
    "usrName constant over 255 bytes",
    leef({ fields: { UserName: null }, constants: { usrName: "u".repeat(256) } }),
    "mapping.constants.usrName",
    "must be at most 255 bytes",
  ],
  [
    "constant holding the delimiter",
    leef({ constants: { policy: "a^b" } }, { leef_delimiter: "x5E" }),
    "mapping.constants.policy",
    "must not contain the LEEF delimiter",
  ],
  [
    "LEEF key that is another field's default",
    leef({ fields: { AlertTitle: "cat" } }),
    "mapping.fields.AlertTitle",
    '"cat" is already the key of Category (default mapping): map Category elsewhere or drop it (Category: null)',
  ],
];

const issue = (path: string, message: string): ConfigIssue => ({ path, message });

for (const [what, options, path, message] of [...SHAPE, ...TOGETHER]) {
  test(`refused: ${what} (${path})`, () => {
    assert.deepEqual(validateFormatOptions(options), [issue(path, message)]);
    assert.throws(
      () => makeFormatter(options),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === "E_CONFIG_INVALID" &&
        err.permanent &&
        err.issues.length === 1 &&
        err.issues[0]?.path === path &&
        err.issues[0]?.message === message,
    );
  });
}

/** The destination schema as src/config/schema.ts builds it, with the refinement wired in. */
const destination = z
  .strictObject({ name: z.string(), ...formatOptionsShape })
  .superRefine((d, ctx) => refineFormatOptions(d, ctx));

test("refineFormatOptions reports the cross-key problems with their paths, once", () => {
  for (const [what, options, path, message] of TOGETHER) {
    const result = destination.safeParse({ name: "d", ...options });
    assert.equal(result.success, false, what);
    const got = result.error?.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const dotted = path.replace(/\[(\d+)\]/g, ".$1");
    assert.deepEqual(got, [{ path: dotted, message }], what);
  }
});

test("refineFormatOptions adds nothing when a key already failed alone", () => {
  const result = destination.safeParse({ name: "d", format: "cef", mapping: { fields: { Actor: "cs-4" } } });
  assert.deepEqual(
    result.error?.issues.map((i) => i.path.join(".")),
    ["mapping.fields.Actor"],
  );
});

test("every problem is reported at once, not only the first", () => {
  const issues = validateFormatOptions({
    format: "cef",
    header: { vendor: "v".repeat(70) },
    mapping: {
      fields: { MachineGroup: "cs5", Actor: "rt" },
      labels: { msg: "x" },
      constants: { dvc: "nope" },
    },
  });
  assert.deepEqual(issues.map((i) => i.path).sort(), [
    "header.vendor",
    "mapping.constants.dvc",
    "mapping.fields.Actor",
    "mapping.fields.MachineGroup",
    "mapping.labels.msg",
  ]);
});

test("valid options: the example of docs/mapping.md, delimiters, limits and defaults", () => {
  const valid: FormatOptionsInput[] = [
    {},
    {
      format: "cef",
      header: { vendor: "Acme|Corp", product: "MDE Bridge", version: "1.0" },
      mapping: {
        fields: { MachineGroup: "cs5", Md5: "MicrosoftDefenderMd5", Actor: null },
        labels: { cs5: "MachineGroup" },
        constants: { dvchost: "mde-forwarder-01", AcmeTenantName: "Contoso" },
        user_defined_keys: ["MicrosoftDefenderMd5", "AcmeTenantName"],
      },
      max_message_bytes: 2048,
    },
    { format: "cef", header: { vendor: "v".repeat(63), version: `${"é".repeat(15)}x` } },
    { format: "leef", header: { vendor: `${"v".repeat(62)}\\` } },
    ...["^", "x5E", "0x5e", "x09", "0x0009", "\t", "~", ";", "#", ",", "!", "x7E"].map((d) => ({
      format: "leef" as const,
      leef_delimiter: d,
    })),
    { format: "leef", mapping: { fields: { Severity: "Priority", AlertPart: "srcPort", IpAddress: "dst" } } },
    { format: "leef", mapping: { fields: { LastProcessedTimeUtc: "ProcessedAt", AlertTime: "devTime" } } },
    {
      format: "leef",
      mapping: {
        fields: { Severity: null },
        constants: { sev: "5", dst: "::1", srcPort: 514 as unknown as string },
      },
    },
    {
      format: "cef",
      mapping: { constants: { cnt: 1 as unknown as string, cfp1: "1.5e3" }, labels: { cfp1: "Score" } },
    },
    {
      format: "cef",
      mapping: { fields: { Md5: "cs5", IpAddress: "src" }, labels: { cs5: "MD5 = hash \\o/" } },
    },
    { format: "json", max_message_bytes: 256 },
  ];
  for (const options of valid) {
    assert.deepEqual(validateFormatOptions(options), [], JSON.stringify(options));
    assert.doesNotThrow(() => makeFormatter(options, { hostname: "h" }));
  }
});

test("schema defaults: header Microsoft / Microsoft Defender ATP / 2.0; no delimiter, mapping or limit", () => {
  const parsed = z.object(formatOptionsShape).parse({});
  assert.deepEqual(parsed.header, { vendor: "Microsoft", product: "Microsoft Defender ATP", version: "2.0" });
  assert.equal(parsed.leef_delimiter, undefined);
  assert.equal(parsed.mapping, undefined);
  assert.equal(parsed.max_message_bytes, undefined);
  const mapping = z.object(formatOptionsShape).parse({ mapping: {} }).mapping;
  assert.deepEqual(mapping, {
    fields: {},
    labels: {},
    constants: {},
    user_defined_keys: [],
    product_per_service: true,
  });
  // ${VAR} expansion gives strings: numbers still parse.
  assert.equal(z.object(formatOptionsShape).parse({ max_message_bytes: "2048" }).max_message_bytes, 2048);
});

const YAML = (destination: string) => `
tenants:
  - name: contoso
    tenant_id: t
    client_id: c
    client_secret: s
    region: eu
destinations:
  - name: qradar
    host: 127.0.0.1
${destination}`;

function loaderIssues(text: string): ConfigIssue[] {
  try {
    parseConfig(text, "test.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  return [];
}

test("the config loader reports a bad key with its full path and line", () => {
  const issues = loaderIssues(
    YAML(`    format: leef
    leef_delimiter: "|"
    mapping:
      fields:
        Actor: cs-4
    max_message_bytes: 100
`),
  );
  assert.deepEqual(issues, [
    { path: "destinations[0].leef_delimiter", line: 12, message: UNSAFE_CHAR },
    {
      path: "destinations[0].mapping.fields.Actor",
      line: 15,
      message: "must be a key of letters and digits, or null to drop the field",
    },
    { path: "destinations[0].max_message_bytes", line: 16, message: "must be at least 256" },
  ]);
});

test("the config loader reports a mapping conflict with its full path and line", () => {
  const issues = loaderIssues(
    YAML(`    format: cef
    mapping:
      fields:
        MachineGroup: cs5
`),
  );
  assert.deepEqual(issues, [
    {
      path: "destinations[0].mapping.fields.MachineGroup",
      line: 14,
      message: '"cs5" is already the key of Md5 (default mapping): map Md5 elsewhere or drop it (Md5: null)',
    },
  ]);
});
