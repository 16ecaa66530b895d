import assert from "node:assert/strict";
import os from "node:os";
import { test } from "node:test";
import { ConfigError, ForwarderError } from "../../../src/errors.js";
import type { FormatOptions } from "../../../src/format/config.js";
import { sanitizeHostname } from "../../../src/format/syslog-header.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter } from "./fixtures.js";
import { assertOneLine } from "./oracle.js";

const rejects = (options: FormatOptions, path: string) =>
  assert.throws(
    () => makeFormatter(options),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === "E_CONFIG_INVALID" &&
      err.permanent &&
      err.issues.some((i) => i.path === path),
    path,
  );

test("nonsense options are rejected once, at creation, naming the key", () => {
  const bad = <K extends keyof FormatOptions>(key: K, value: unknown) =>
    formatOptions({ [key]: value } as Partial<FormatOptions>);
  rejects(bad("format", "xml"), "format");
  rejects(bad("syslog_header", "rfc9999"), "syslog_header");
  rejects(bad("facility", "local8"), "facility");
  rejects(bad("facility", "toString"), "facility");
  rejects(bad("app_name", ""), "app_name");
  rejects(bad("app_name", "has space"), "app_name");
  rejects(bad("app_name", "a".repeat(49)), "app_name");
  rejects(bad("hostname", "bad host"), "hostname");
  rejects(bad("hostname", ""), "hostname");
  rejects(bad("leef_version", "3.0"), "leef_version");
  rejects(formatOptions({ syslog_header: "rfc3164", app_name: "---" }), "app_name");
  assert.doesNotThrow(() => makeFormatter(formatOptions({ syslog_header: "rfc5424", app_name: "---" })));
});

test("format() returns one UTF-8 line without framing or trailing LF", () => {
  for (const format of ["cef", "leef", "json"] as const) {
    for (const name of ["microsoft-example", "hostile"]) {
      const { bytes } = makeFormatter(formatOptions({ format }), fixedDeps).format(loadDetection(name));
      const text = assertOneLine(bytes);
      assert.ok(text.startsWith("<131>1 2026-10-09T07:05:03.004Z siem-fwd.example.com mde-forwarder - - - "));
      assert.ok(!text.endsWith("\n") && !text.endsWith(" "));
    }
  }
});

test("the header time comes from the clock on every call", () => {
  let now = Date.parse("2026-10-09T07:05:03.004Z");
  const formatter = makeFormatter(formatOptions({ syslog_header: "rfc3164" }), {
    clock: () => new Date(now),
    hostname: "h",
  });
  const d = loadDetection("microsoft-example");
  assert.ok(formatter.format(d).bytes.toString().startsWith("<131>Oct  9 07:05:03 h "));
  now += 86_400_000 + 1_000;
  assert.ok(formatter.format(d).bytes.toString().startsWith("<131>Oct 10 07:05:04 h "));
});

test("hostname: options first, then deps, then the machine's name (sanitised)", () => {
  const d = { Severity: "Low" };
  const clock = fixedDeps.clock;
  const host = (options: FormatOptions, deps: { hostname?: string }) =>
    makeFormatter(options, { clock, ...deps })
      .format(d)
      .bytes.toString()
      .split(" ")[2];
  assert.equal(host(formatOptions({ hostname: "from-options" }), { hostname: "from-deps" }), "from-options");
  assert.equal(host(formatOptions(), { hostname: "from-deps" }), "from-deps");
  assert.equal(host(formatOptions(), {}), sanitizeHostname(os.hostname()));
  assert.equal(host(formatOptions(), { hostname: "bad name" }), "bad-name");
});

test("PRI follows the facility option and the detection severity", () => {
  const pri = (facility: FormatOptions["facility"], severity: string) =>
    makeFormatter(formatOptions({ facility }), fixedDeps)
      .format({ Severity: severity })
      .bytes.toString()
      .split("1 ")[0];
  assert.equal(pri("local0", "High"), "<131>");
  assert.equal(pri("local0", "Informational"), "<134>");
  assert.equal(pri("local7", "Medium"), "<188>");
  assert.equal(pri("user", "Low"), "<13>");
});

test("truncations are reported for cef and leef, never for json", () => {
  const d = { AlertId: "x".repeat(50), IoaDefinitionId: "i".repeat(300), Severity: "High" };
  const truncated = (format: FormatOptions["format"], leef_version: FormatOptions["leef_version"] = "2.0") =>
    makeFormatter(formatOptions({ format, leef_version }), fixedDeps).format(d).truncated;
  assert.equal(truncated("cef"), 1); // externalId
  assert.equal(truncated("leef"), 1); // EventID
  assert.equal(truncated("leef", "1.0"), 1);
  assert.equal(truncated("json"), 0);
});

test("leef_version selects the LEEF version", () => {
  const d = loadDetection("microsoft-example");
  const body = (leef_version: FormatOptions["leef_version"]) =>
    makeFormatter(formatOptions({ format: "leef", syslog_header: "none", leef_version }), fixedDeps)
      .format(d)
      .bytes.toString();
  assert.ok(body("1.0").startsWith("LEEF:1.0|"));
  assert.ok(body("2.0").startsWith("LEEF:2.0|"));
  assert.ok(body("2.0").includes("|x09|devTime="));
});

test("an unserialisable detection is an E_FORMAT error, not a crash of the encoder", () => {
  const cyclic: Record<string, unknown> = { Severity: "High" };
  cyclic.Nested = { cyclic };
  for (const format of ["cef", "leef", "json"] as const) {
    assert.throws(
      () => makeFormatter(formatOptions({ format }), fixedDeps).format(cyclic),
      (err: unknown) => err instanceof ForwarderError && err.code === "E_FORMAT",
      format,
    );
  }
});
