// The header builder reuses the text of a time step (a millisecond, or a second for RFC 3164) per
// severity: it must change as soon as the time or the severity does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FACILITIES } from "../../../src/format/config.js";
import { createSyslogHeader, syslogHeader } from "../../../src/format/syslog-header.js";

const options = { facility: FACILITIES.local0, hostname: "siem-fwd.example.com", appName: "mde-forwarder" };

for (const style of ["rfc5424", "rfc3164"] as const) {
  test(`${style}: one builder gives the same header as a fresh one, whatever the sequence of times`, () => {
    const builder = createSyslogHeader({ style, ...options });
    const start = Date.parse("2026-12-31T23:59:58.998Z");
    const steps = [0, 0, 1, 1, 2, 999, 1000, 1001, 1002, -5, 86_400_000, 86_400_000];
    for (const step of steps) {
      for (const severity of [3, 5, 3, 6]) {
        const time = new Date(start + step);
        assert.equal(builder(severity, time), syslogHeader(style, { ...options, severity, time }));
      }
    }
  });

  test(`${style}: an invalid time or severity still throws after a cached header`, () => {
    const builder = createSyslogHeader({ style, ...options });
    const time = new Date("2026-01-01T00:00:00Z");
    builder(3, time);
    assert.throws(() => builder(3, new Date(Number.NaN)), /invalid date/);
    assert.throws(() => builder(8, time), /severity 8/);
    assert.throws(() => builder(-1, time), /severity -1/);
  });
}
