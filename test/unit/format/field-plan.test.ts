// The compiled mapping reuses what it worked out for a list of keys (a shape) across detections: these
// check that a cached shape never carries one detection's keys, positions or key suffixes into another.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Formatter } from "../../../src/format/index.js";
import type { Detection } from "../../../src/record.js";
import { fixedDeps, loadDetection, makeFormatter } from "./fixtures.js";

const cef = (): Formatter => makeFormatter({ format: "cef", syslog_header: "none" }, fixedDeps);
const leef = (): Formatter => makeFormatter({ format: "leef", syslog_header: "none" }, fixedDeps);
const text = (formatter: Formatter, detection: Detection): string =>
  formatter.format(detection).bytes.toString("utf8");
const extension = (formatter: Formatter, detection: Detection): string =>
  text(formatter, detection).split("|").slice(7).join("|");

test("two names for one extra key: the suffix goes to whichever comes second with a value, message by message", () => {
  const formatter = cef();
  const both = { AlertId: "a1", "Odd-Name": "x", OddName: "y" };
  const firstEmpty = { AlertId: "a1", "Odd-Name": "", OddName: "y" };
  for (let i = 0; i < 3; i++) {
    assert.equal(
      extension(formatter, both),
      "externalId=a1 MicrosoftDefenderOddName=x MicrosoftDefenderOddName2=y",
    );
    assert.equal(extension(formatter, firstEmpty), "externalId=a1 MicrosoftDefenderOddName=y");
  }
});

test("a rule value sent as an extra takes its key first; the same shape with a mappable value does not", () => {
  const formatter = cef();
  const good = { LastProcessedTimeUtc: "2020-09-30T14:11:44.0779765Z", "LastProcessedTime Utc": "x" };
  const bad = { LastProcessedTimeUtc: "yesterday", "LastProcessedTime Utc": "x" };
  for (let i = 0; i < 3; i++) {
    assert.equal(extension(formatter, good), "rt=1601475104077 MicrosoftDefenderLastProcessedTimeUtc=x");
    assert.equal(
      extension(formatter, bad),
      "MicrosoftDefenderLastProcessedTimeUtc=yesterday MicrosoftDefenderLastProcessedTimeUtc2=x",
    );
  }
});

test("an extra never takes a key a rule could emit, even when that rule has no value", () => {
  const formatter = leef();
  // LEEF extras keep their own (alphanumeric) name: `cat!` and `url` would take Category's and Url's keys.
  const attributes = (detection: Detection) => text(formatter, detection).split("|").slice(6).join("|");
  for (let i = 0; i < 2; i++) {
    assert.equal(attributes({ "cat!": "x", url: "y" }), "cat2=x\turl2=y");
    assert.equal(attributes({ Category: "c", "cat!": "x", url: "y" }), "cat=c\tcat2=x\turl2=y");
  }
});

test("many shapes, in and out of the cache: each message equals a fresh formatter's", () => {
  const example = loadDetection("microsoft-example");
  const hostile = loadDetection("hostile");
  const keys = Object.keys(example);
  // Same keys in other orders, some removed, some added: more shapes than the cache keeps.
  const shapes: Detection[] = [];
  for (let i = 0; i < 24; i++) {
    const rotated = [...keys.slice(i), ...keys.slice(0, i)].filter((_, k) => (k + i) % 7 !== 0);
    const detection: Record<string, unknown> = {};
    for (const key of rotated) detection[key] = example[key];
    if (i % 3 === 0) detection[`Extra ${i}`] = `value ${i}`;
    if (i % 4 === 0) detection.IpAddress = i % 8 === 0 ? "10.0.0.1" : "fe80::1";
    if (i % 5 === 0) detection.LastProcessedTimeUtc = "not a time";
    shapes.push(detection);
  }
  shapes.push(hostile, example);
  for (const make of [cef, leef]) {
    const shared = make();
    for (let round = 0; round < 2; round++) {
      for (const detection of shapes) assert.equal(text(shared, detection), text(make(), detection));
    }
  }
});
