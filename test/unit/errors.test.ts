// Issue 11, finding 5: whatever a remote peer puts into an error text (a reflected Authorization header, a
// token echoed in a body) loses its credentials wherever the message is rendered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError, formatConfigIssues, redactCredentials } from "../../src/errors.js";

const JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLndpbmRvd3MubmV0In0.c2lnbmF0dXJlLWJ5dGVz";

test("bearer and basic credentials, JWTs (whole or a prefix) and credential fields are redacted", () => {
  const cases: Array<[string, string]> = [
    [`Authorization: Bearer ${JWT}`, "Authorization: Bearer [redacted]"],
    [`authorization: bearer abcdefgh12345678`, "authorization: bearer [redacted]"],
    ["Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", "Proxy-Authorization: Basic [redacted]"],
    [`starts "${JWT.slice(0, 24)}"`, 'starts "[redacted]"'],
    [`token ${JWT} in prose`, "token [redacted] in prose"],
    ["grant_type=x&client_secret=s3cr3t&client_id=1", "grant_type=x&client_secret=[redacted]&client_id=1"],
    ['{"access_token":"abc.def","expires_in":3599}', '{"access_token":"[redacted]","expires_in":3599}'],
    ["Authorization: abcdef0123456789", "Authorization: [redacted]"],
  ];
  for (const [input, expected] of cases) assert.equal(redactCredentials(input), expected, input);
});

test("ordinary messages are left alone", () => {
  for (const text of [
    "SIEM API for tenant contoso answered 503 (throttled)",
    "basic auth is not supported",
    "tenants[0].client_secret: must not be empty",
    "token endpoint for tenant contoso answered 400 (invalid_client, AADSTS7000215)",
    formatConfigIssues([{ path: "tenants[0].client_secret", line: 4, message: "is required" }], "f.yaml"),
  ]) {
    assert.equal(redactCredentials(text), text);
  }
});

test("every ForwarderError message is redacted, whoever built it", () => {
  const err = new ForwarderError("E_API_SERVER", `proxy said: Authorization: Bearer ${JWT}`);
  assert.equal(err.message, "proxy said: Authorization: Bearer [redacted]");
  assert.ok(!String(err.stack).includes(JWT.slice(0, 10)));
});
