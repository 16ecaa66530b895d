// The seen table's key: exact for practical purposes (a 128-bit digest of tenant and key), ordered by the
// key's leading characters (FullIds start with the alert's time), fixed in size.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SEEN_KEY_PREFIX_CHARS, seenKey } from "../../../src/state/seen-key.js";

const FULL_ID = "da638450123456789012_1234567890:Ab1CdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd";

test("issue 16: seenKey is the key's leading characters and 16 bytes of digest, the same every time", () => {
  const k = seenKey("contoso", FULL_ID);
  assert.equal(k.length, SEEN_KEY_PREFIX_CHARS + 16);
  assert.equal(
    k.subarray(0, SEEN_KEY_PREFIX_CHARS).toString("utf8"),
    FULL_ID.slice(0, SEEN_KEY_PREFIX_CHARS),
  );
  assert.ok(seenKey("contoso", FULL_ID).equals(k), "deterministic");
  // A short key is kept whole in front of its digest.
  assert.equal(seenKey("contoso", "42").length, 2 + 16);
});

test("issue 16: seenKey tells tenants and keys apart, however they are split", () => {
  const keys = [
    seenKey("contoso", FULL_ID),
    seenKey("fabrikam", FULL_ID),
    seenKey("contoso", `${FULL_ID}x`),
    seenKey("ab", "c"),
    seenKey("a", "bc"),
    seenKey("a\n", "c"),
    seenKey("a", "\nc"),
    seenKey("", "abc"),
  ];
  const distinct = new Set(keys.map((k) => k.toString("hex")));
  assert.equal(distinct.size, keys.length);
  // 100,000 FullIds sharing their leading characters: no two collide.
  const many = new Set<string>();
  for (let i = 0; i < 100_000; i++)
    many.add(seenKey("contoso", `${FULL_ID.slice(0, 30)}${i}`).toString("hex"));
  assert.equal(many.size, 100_000);
});

test("issue 16: seenKey keeps the time order of FullIds, so one poll's keys share B-tree pages", () => {
  const earlier = seenKey("contoso", "da638450100000000000_1:zzzz");
  const later = seenKey("contoso", "da638450200000000000_1:aaaa");
  assert.ok(Buffer.compare(earlier, later) < 0);
});
