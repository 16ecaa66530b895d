// Issue 11, finding 8: the config file can neither hang nor exhaust the process, every YAML error is a
// config error that never quotes secret text, `$` has one documented meaning, and URL credentials are
// masked. Real files, FIFOs and devices on this machine; the CLI's exit codes are in
// test/integration/config-hardening.test.ts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { effectiveConfig } from "../../../src/cli/check-config.js";
import { loadConfigFile, parseConfig } from "../../../src/config/load.js";
import { MAX_FILE_BYTES, readSmallFile, readSmallFileAsync } from "../../../src/config/read-file.js";
import { ConfigError } from "../../../src/errors.js";
import { createLogger } from "../../../src/log.js";
import { resolveProxy } from "../../../src/source/proxy.js";
import { maskUrlCredentials } from "../../../src/url-credentials.js";

const dir = mkdtempSync(join(tmpdir(), "mde-hardening-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "Zq9-secret-text-never-shown";

function yaml(secretLine: string, extra = ""): string {
  return `tenants:
  - name: contoso
    tenant_id: t
    client_id: c
    ${secretLine}
    region: eu
destinations:
  - name: arcsight
    host: 127.0.0.1
${extra}`;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync("mkfifo", [path]);
  return path;
}

test("finding 8: a FIFO as *_file is refused without blocking, naming the key", () => {
  const pipe = fifo("secret.fifo");
  // No writer ever opens the FIFO: a blocking read would hang this test until its timeout.
  const err = configError(() => parseConfig(yaml(`client_secret_file: ${pipe}`), "c.yaml", {}));
  assert.equal(err.issues[0]?.path, "tenants[0].client_secret_file");
  assert.equal(err.issues[0]?.line, 5);
  assert.match(err.issues[0]?.message ?? "", /is a FIFO \(named pipe\), not a regular file/);

  // The files other modules read (certificates, keys, CA bundles) are checked at load too.
  const tls = configError(() =>
    parseConfig(
      yaml(
        `client_secret: s`,
        `    protocol: tls\n    tls:\n      ca_file: ${pipe}\nproxy:\n  ca_file: ${pipe}\n`,
      ),
      "c.yaml",
      {},
    ),
  );
  assert.deepEqual(tls.issues.map((i) => i.path).sort(), ["destinations[0].tls.ca_file", "proxy.ca_file"]);
  const cert = configError(() =>
    parseConfig(yaml(`client_certificate_file: ${pipe}\n    client_key_file: ${pipe}`), "c.yaml", {}),
  );
  assert.deepEqual(cert.issues.map((i) => i.path).sort(), [
    "tenants[0].client_certificate_file",
    "tenants[0].client_key_file",
  ]);
});

test("finding 8: /dev/zero, a directory and a file over 64 KiB are refused; the readers never read past the limit", async () => {
  const zero = configError(() => parseConfig(yaml("client_secret_file: /dev/zero"), "c.yaml", {}));
  assert.match(zero.issues[0]?.message ?? "", /\/dev\/zero: is a character device, not a regular file/);
  const directory = configError(() => parseConfig(yaml(`client_secret_file: ${dir}`), "c.yaml", {}));
  assert.match(directory.issues[0]?.message ?? "", /is a directory, not a regular file/);

  const big = join(dir, "big-secret");
  writeFileSync(big, "x".repeat(MAX_FILE_BYTES + 1));
  const large = configError(() => parseConfig(yaml(`client_secret_file: ${big}`), "c.yaml", {}));
  assert.match(large.issues[0]?.message ?? "", /is 64\.0 KiB, more than the limit of 64 KiB/);
  assert.ok(!large.message.includes("xxxx"), "never the content");

  assert.throws(() => readSmallFile("/dev/zero"), /character device/);
  await assert.rejects(readSmallFileAsync("/dev/zero"), /character device/);
  await assert.rejects(readSmallFileAsync(fifo("async.fifo")), /FIFO/);
  assert.equal(readSmallFile(big, MAX_FILE_BYTES + 1).length, MAX_FILE_BYTES + 1);
});

test("finding 8: the config file itself must be a regular file within 1 MiB", () => {
  const pipe = fifo("config.fifo");
  const err = configError(() => loadConfigFile(pipe, {}));
  assert.equal(err.code, "E_CONFIG_READ");
  assert.match(err.message, /is a FIFO/);
  assert.equal(configError(() => loadConfigFile("/dev/zero", {})).code, "E_CONFIG_READ");
  const huge = join(dir, "huge.yaml");
  writeFileSync(huge, `${yaml("client_secret: s")}# ${"x".repeat(1024 * 1024)}\n`);
  assert.match(configError(() => loadConfigFile(huge, {})).message, /more than the limit of 1 MiB/);
});

test("finding 8: every YAML error is a ConfigError naming the key and line, never quoting the text", () => {
  const cases: Array<[string, string, RegExp]> = [
    // An unquoted secret starting with `*` is an alias; the library's message repeats the alias name.
    [yaml(`client_secret: *${SECRET}`), "tenants[0].client_secret", /alias \(\*name\) without an anchor/],
    // `!` starts a tag: the library only warns and keeps what follows the tag.
    [yaml(`client_secret: !${SECRET}`), "tenants[0].client_secret", /unknown tag/],
    [yaml(`client_secret: @${SECRET}`), "tenants[0].client_secret", /cannot start with @/],
    [yaml(`client_secret: \`${SECRET}`), "tenants[0].client_secret", /cannot start with/],
    [yaml(`client_secret: "${SECRET}\\q"`), "tenants[0].client_secret", /invalid \\ escape/],
    [yaml(`client_secret: "${SECRET}`), "", /not closed/],
    // A value containing ": " becomes a mapping: the path must not name the secret as a key.
    [yaml(`client_secret: ${SECRET}: x`), "tenants[0].client_secret", /nested mapping/],
  ];
  for (const [text, path, message] of cases) {
    const err = configError(() => parseConfig(text, "c.yaml", {}));
    assert.ok(!err.message.includes(SECRET), `no secret text in: ${err.message}`);
    assert.ok(!err.message.includes(SECRET.slice(0, 6)), `not even a piece: ${err.message}`);
    assert.match(err.message, message);
    if (path !== "") assert.equal(err.issues[0]?.path, path, err.message);
    assert.ok(err.issues[0]?.line !== undefined, err.message);
  }
});

test("finding 8: an alias bomb and deep nesting are config errors, bounded in time and memory", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    ...["b", "c", "d", "e", "f", "g", "h", "i"].map(
      (k, i) =>
        `${k}: &${k} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(", ")}]`,
    ),
  ].join("\n");
  assert.match(configError(() => parseConfig(bomb, "c.yaml", {})).message, /aliases expand to too much/);

  // 100,000 nested brackets: the parser alone would take hundreds of MB; refused by the lexer's count.
  const deep = `${yaml("client_secret: s")}x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
  const err = configError(() => parseConfig(deep, "c.yaml", {}));
  assert.match(err.message, /nesting deeper than 64 levels/);
  assert.equal(err.issues[0]?.line, 10);
  const seqs = `${yaml("client_secret: s")}x: ${"- ".repeat(100)}x\n`;
  assert.match(configError(() => parseConfig(seqs, "c.yaml", {})).message, /nesting deeper/);

  // Ordinary anchors and aliases still work.
  const reuse = parseConfig(
    `${yaml("client_secret: s")}    port: &port 1514\n  - name: second\n    host: 127.0.0.2\n    port: *port\n`,
    "c.yaml",
    {},
  );
  assert.equal(reuse.config.destinations[1]?.port, 1514);
});

test("finding 8: $$ is a literal $, a malformed ${ is an error, and values from files or variables are never expanded", () => {
  const env = { NAME: "a$$b${NAME}", EMPTY: "" };
  const literal = parseConfig(yaml('client_secret: "pa$$w0rd-$${HOME}-$x-$"'), "c.yaml", env);
  assert.equal(literal.config.tenants[0]?.client_secret, "pa$w0rd-${HOME}-$x-$");
  // A variable's value is used as is: not expanded again, `$$` not reduced.
  const fromEnv = parseConfig(yaml("client_secret: ${NAME}"), "c.yaml", env);
  assert.equal(fromEnv.config.tenants[0]?.client_secret, "a$$b${NAME}");
  assert.equal(
    parseConfig(yaml("client_secret: ${EMPTY:-d$fault}"), "c.yaml", env).config.tenants[0]?.client_secret,
    "d$fault",
  );
  // A file's content is used as is.
  const file = join(dir, "dollar-secret");
  writeFileSync(file, "pa$$w0rd-${NAME}-${MISSING}\n");
  const fromFile = parseConfig(yaml(`client_secret_file: ${file}`), "c.yaml", env);
  assert.equal(fromFile.config.tenants[0]?.client_secret, "pa$$w0rd-${NAME}-${MISSING}");
  // `${` that is not a variable: an error naming the key, without the value.
  for (const bad of ["pa${w0rd", "x${1ABC}", "${NAME-default}"]) {
    const err = configError(() => parseConfig(yaml(`client_secret: "${bad}"`), "c.yaml", env));
    assert.equal(err.issues[0]?.path, "tenants[0].client_secret");
    assert.match(err.issues[0]?.message ?? "", /write \$\$ for a literal \$/);
    assert.ok(!err.message.includes(bad));
  }
});

test("finding 8: URL credentials are masked in check-config output, config errors and log lines", () => {
  const loaded = parseConfig(
    yaml(
      "client_secret: s\n    api_url: https://svc:Zq9-url-pw@mde.example.com/api\n    authority_host: https://u:p%40ss@login.example.com",
    ),
    "c.yaml",
    {},
  );
  const printed = JSON.stringify(effectiveConfig(loaded));
  assert.ok(!printed.includes("Zq9-url-pw") && !printed.includes("p%40ss"), printed);
  assert.match(printed, /https:\/\/\*\*\*@mde\.example\.com\/api/);
  assert.match(printed, /https:\/\/\*\*\*@login\.example\.com/);

  const err = configError(() =>
    parseConfig(yaml("client_secret: s\n    api_url: https://svc:Zq9-url-pw@mde example.com"), "c.yaml", {}),
  );
  assert.ok(!err.message.includes("Zq9-url-pw"), err.message);
  assert.match(err.message, /https:\/\/\*\*\*@mde example\.com/);

  // Log lines, JSON and pretty alike, whatever field or message holds the URL.
  for (const format of ["json", "pretty"] as const) {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      format,
      tty: false,
      destination: { write: (l) => lines.push(l) },
    });
    log.warn(
      { url: "https://svc:Zq9-url-pw@mde.example.com/api" },
      "Calling http://u:Zq9-url-pw@127.0.0.1:1/x.",
    );
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes("Zq9-url-pw"), lines[0]);
    assert.match(lines[0] ?? "", /https:\/\/\*\*\*@mde\.example\.com\/api/);
    assert.match(lines[0] ?? "", /http:\/\/\*\*\*@127\.0\.0\.1:1\/x/);
  }

  assert.equal(maskUrlCredentials("x https://a:b@c@host/p?q=1 y"), "x https://***@host/p?q=1 y");
  assert.equal(maskUrlCredentials('{"url":"http://u:p@h:1"}'), '{"url":"http://***@h:1"}');
  assert.equal(maskUrlCredentials("mail me: a@b.example"), "mail me: a@b.example");
});

test("finding 8: the proxy password has a _file form, masked by check-config", () => {
  const file = join(dir, "proxy-password");
  writeFileSync(file, "Zq9-proxy-pw\n");
  const loaded = parseConfig(
    yaml(
      "client_secret: s",
      `proxy:\n  url: http://127.0.0.1:3128\n  username: svc\n  password_file: ${file}\n`,
    ),
    "c.yaml",
    {},
  );
  assert.equal(loaded.config.proxy?.password, "Zq9-proxy-pw");
  const settings = resolveProxy(loaded.config.proxy, {});
  assert.equal(settings?.https.authorization, `Basic ${Buffer.from("svc:Zq9-proxy-pw").toString("base64")}`);
  assert.equal(settings?.https.label, "127.0.0.1:3128");
  const printed = JSON.stringify(effectiveConfig(loaded));
  assert.ok(!printed.includes("Zq9-proxy-pw"));
  assert.match(printed, new RegExp(`"password":"\\*\\*\\*\\*\\* \\(from ${file.replace(/[.]/g, "\\.")}\\)"`));

  // Credentials in two places, or a password without a user, are refused.
  const both = configError(() =>
    parseConfig(
      yaml("client_secret: s", "proxy:\n  url: http://a:b@127.0.0.1:3128\n  username: svc\n  password: x\n"),
      "c.yaml",
      {},
    ),
  );
  assert.equal(both.issues[0]?.path, "proxy.url");
  const noUser = configError(() =>
    parseConfig(
      yaml("client_secret: s", "proxy:\n  url: http://127.0.0.1:3128\n  password: x\n"),
      "c.yaml",
      {},
    ),
  );
  assert.equal(noUser.issues[0]?.path, "proxy.username");
});
