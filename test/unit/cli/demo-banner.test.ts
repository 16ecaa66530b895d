// The demo's banner is the first thing a new user reads: each label and its URL stay apart (the Graph row
// once printed "Graph alerts_v2 simulatorhttp://...").
import assert from "node:assert/strict";
import { test } from "node:test";
import { bannerRow } from "../../../src/cli/demo.js";

test("the demo banner keeps every label apart from its value, in one column", () => {
  const labels = [
    "Graph alerts_v2 simulator",
    "Graph incidents simulator",
    "Alerts API simulator",
    "MDE SIEM API simulator",
    "syslog receiver",
    "metrics",
  ];
  const rows = labels.map((label) => bannerRow(label, "http://127.0.0.1:8080"));
  for (const [i, row] of rows.entries()) {
    assert.match(row, new RegExp(`^ {2}${labels[i]} {2,}http://`), row);
  }
  assert.equal(new Set(rows.map((row) => row.indexOf("http://"))).size, 1, "one column");
});
