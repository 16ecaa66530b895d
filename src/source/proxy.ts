// The outbound proxy of the source side: which proxy a target URL goes through (config, then the
// environment, with curl's NO_PROXY rules), and an https.Agent that reaches HTTPS targets through an HTTP
// CONNECT tunnel. No dependency: node:http asks for the tunnel, node:tls speaks TLS inside it.
//
// Decisions a caller must know:
// - Only https:// targets are proxied. http:// targets are loopback hosts by config (the simulator), which a
//   proxy on another host cannot reach, and common proxies refuse CONNECT to plain-HTTP ports anyway.
// - Proxy credentials (`http://user:pass@proxy:3128`) go out only as Proxy-Authorization on CONNECT; every
//   log line and error names the proxy as `host:port` (`label`), never with them.

import http from "node:http";
import https from "node:https";
import { BlockList, isIP } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { Env } from "../config/types.js";
import { ForwarderError } from "../errors.js";

export interface ProxyEndpoint {
  readonly host: string;
  readonly port: number;
  /** `Basic …` for Proxy-Authorization, from the URL's user info; a secret: never log it. */
  readonly authorization: string | undefined;
  /** `host:port`: the only form of the proxy that goes into logs and errors. */
  readonly label: string;
}

export interface ProxySettings {
  /** The proxy of https:// targets. */
  readonly https: ProxyEndpoint;
  readonly noProxy: NoProxy;
}

/** The `proxy` block of the config (src/source/config.ts), after validation. */
export interface ProxyConfigInput {
  readonly url?: string | undefined;
  readonly no_proxy?: readonly string[] | undefined;
  /** Credentials given apart from the URL (`proxy.password` may come from `proxy.password_file`). */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/**
 * The proxy settings in force: `proxy.url`, else $https_proxy / $HTTPS_PROXY; `proxy.no_proxy`, else
 * $no_proxy / $NO_PROXY (lower case first, as curl reads them). Undefined when no proxy applies.
 * Throws E_CONFIG_INVALID for a proxy URL that cannot be used (named without its credentials).
 */
export function resolveProxy(config: ProxyConfigInput | undefined, env: Env): ProxySettings | undefined {
  const fromConfig = config?.url;
  const fromEnv = nonEmptyEnv(env, "https_proxy") ?? nonEmptyEnv(env, "HTTPS_PROXY");
  const raw = fromConfig ?? fromEnv;
  if (raw === undefined) return undefined;
  const source = fromConfig !== undefined ? "proxy.url" : "$HTTPS_PROXY";
  const parsed = parseProxyUrl(raw, source);
  const https =
    config?.username === undefined
      ? parsed
      : { ...parsed, authorization: basic(config.username, config.password ?? "") };
  const noProxyList = config?.no_proxy ?? nonEmptyEnv(env, "no_proxy") ?? nonEmptyEnv(env, "NO_PROXY") ?? [];
  return { https, noProxy: parseNoProxy(noProxyList) };
}

/** The proxy a request to `url` goes through, or undefined to go direct. */
export function proxyFor(settings: ProxySettings | undefined, url: URL): ProxyEndpoint | undefined {
  if (settings === undefined || url.protocol !== "https:") return undefined;
  const port = url.port === "" ? 443 : Number(url.port);
  return settings.noProxy.matches(url.hostname, port) ? undefined : settings.https;
}

/**
 * Parses `http://[user:pass@]host[:port]`. A URL without scheme is read as http:// (as curl does with
 * $HTTPS_PROXY); the port defaults to 80 as for any http:// URL. TLS to the proxy itself (https://) is
 * not supported. `where` names the setting in the error.
 */
export function parseProxyUrl(raw: string, where = "proxy.url"): ProxyEndpoint {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid(where, `"${redactUrlCredentials(text)}" is not a URL`);
  }
  if (url.protocol !== "http:") {
    throw invalid(
      where,
      `"${redactUrlCredentials(text)}": only http:// proxies are supported (HTTPS goes through a CONNECT tunnel)`,
    );
  }
  if (url.hostname === "") throw invalid(where, `"${redactUrlCredentials(text)}" has no host`);
  const host = unbracket(url.hostname);
  const port = url.port === "" ? 80 : Number(url.port);
  let authorization: string | undefined;
  if (url.username !== "" || url.password !== "") {
    const user = safeDecode(url.username);
    const pass = safeDecode(url.password);
    authorization = basic(user, pass);
  }
  return { host, port, authorization, label: `${url.hostname}:${port}` };
}

/** `http://user:pass@host` → `http://***@host`, for anything that prints a URL that may carry credentials. */
export function redactUrlCredentials(text: string): string {
  // Up to the last `@`: a password with an unencoded `@` or `/` must not leave a piece behind.
  return text.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?.*@/is,
    (_m, scheme: string | undefined) => `${scheme ?? ""}***@`,
  );
}

// --- NO_PROXY ------------------------------------------------------------------------------------------

export interface NoProxy {
  /** True when a request to host:port goes direct. `host` is a name or an IP literal (brackets allowed). */
  matches(host: string, port: number): boolean;
}

interface NameRule {
  readonly name: string;
  readonly port: number | undefined;
}

interface AddressRule {
  readonly list: BlockList;
  readonly port: number | undefined;
}

/**
 * curl's NO_PROXY rules: a comma (or space) separated list; `*` alone bypasses the proxy for every host;
 * `example.com` and `.example.com` both match example.com and every name below it; an IP literal matches
 * that address, and with `/bits` its subnet (names are never resolved to match an address rule). Beyond
 * curl, an entry may end in `:port` to match that port only (`[v6]:port` for IPv6).
 */
export function parseNoProxy(list: string | readonly string[]): NoProxy {
  const entries = (typeof list === "string" ? [list] : list)
    .flatMap((item) => item.split(/[\s,]+/))
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "");
  let all = false;
  const names: NameRule[] = [];
  const addresses: AddressRule[] = [];
  for (const entry of entries) {
    if (entry === "*") {
      all = true;
      continue;
    }
    const { body, port } = splitPort(entry);
    const cidr = /^(.*)\/(\d{1,3})$/.exec(body);
    const address = unbracket(cidr ? (cidr[1] ?? "") : body);
    const family = isIP(address);
    if (family !== 0) {
      const list = new BlockList();
      const type = family === 4 ? "ipv4" : "ipv6";
      const bits = cidr ? Number(cidr[2]) : family === 4 ? 32 : 128;
      if (bits > (family === 4 ? 32 : 128)) continue;
      list.addSubnet(address, bits, type);
      addresses.push({ list, port });
      continue;
    }
    // `*.example.com` is not curl's syntax, but common enough elsewhere to read the same way.
    const name = body.replace(/^\*?\./, "").replace(/\.$/, "");
    if (name !== "") names.push({ name, port });
  }
  return {
    matches(rawHost, port) {
      if (all) return true;
      const host = unbracket(rawHost.toLowerCase()).replace(/\.$/, "");
      const family = isIP(host);
      if (family !== 0) {
        const type = family === 4 ? "ipv4" : "ipv6";
        return addresses.some((r) => portMatches(r.port, port) && r.list.check(host, type));
      }
      return names.some((r) => portMatches(r.port, port) && (host === r.name || host.endsWith(`.${r.name}`)));
    },
  };
}

function portMatches(rule: number | undefined, port: number): boolean {
  return rule === undefined || rule === port;
}

/** `host:443` → host and 443; `[::1]:443` → `[::1]` and 443; a bare IPv6 address keeps its colons. */
function splitPort(entry: string): { body: string; port: number | undefined } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(entry);
  if (bracketed) return { body: bracketed[1] ?? entry, port: toPort(bracketed[2]) };
  if ((entry.match(/:/g) ?? []).length === 1) {
    const [body = entry, port] = entry.split(":");
    if (/^\d+$/.test(port ?? "")) return { body, port: toPort(port) };
  }
  return { body: entry, port: undefined };
}

function toPort(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

// --- the CONNECT tunnel ----------------------------------------------------------------------------------

/** A failure of the proxy itself: refused, unreachable, or no answer. `message` is safe to log. */
export class ProxyTunnelError extends Error {
  constructor(
    readonly proxy: string,
    message: string,
  ) {
    super(message);
    this.name = "ProxyTunnelError";
  }
}

export interface TunnelAgentOptions {
  /** Trusted CAs for the target's certificate; undefined: Node's defaults. */
  ca?: readonly string[] | undefined;
  /** Gives up a CONNECT the proxy has not answered in this long. */
  connectTimeoutMs: number;
}

/**
 * An https.Agent whose connections are TLS sessions with the target inside a CONNECT tunnel through
 * `proxy`. Keep-alive: a tunnel carries several requests in turn, like a direct connection would.
 */
export function createTunnelAgent(proxy: ProxyEndpoint, options: TunnelAgentOptions): https.Agent {
  return new TunnelAgent(proxy, options);
}

class TunnelAgent extends https.Agent {
  /** The tunnel (raw TCP socket to the proxy) under each TLS socket, to ref/unref it with the TLS socket. */
  private readonly raw = new WeakMap<Duplex, Duplex>();

  constructor(
    private readonly proxy: ProxyEndpoint,
    private readonly tunnel: TunnelAgentOptions,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => {});
    const host = unbracket(options.hostname ?? options.host ?? "localhost");
    const port = Number(options.port ?? 443);
    openTunnel(this.proxy, host, port, this.tunnel.connectTimeoutMs).then(
      (socket) => {
        const secure = tls.connect({
          socket,
          host,
          // SNI carries names only; for an IP literal the certificate is checked against the IP.
          servername: isIP(host) === 0 ? host : undefined,
          ca: this.tunnel.ca ? [...this.tunnel.ca] : options.ca,
          rejectUnauthorized: options.rejectUnauthorized !== false,
          ALPNProtocols: ["http/1.1"],
        });
        this.raw.set(secure, socket);
        // The TLS socket closing must take the tunnel with it, and the other way round.
        secure.once("close", () => socket.destroy());
        done(null, secure);
      },
      (err: Error) => done(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  // An idle kept-alive connection must not hold the process open; the default unref() reaches only the
  // TLS layer, not the tunnel socket under it.
  override keepSocketAlive(socket: Duplex): boolean {
    (this.raw.get(socket) as { unref?: () => void } | undefined)?.unref?.();
    (socket as { unref?: () => void }).unref?.();
    return true;
  }

  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    (this.raw.get(socket) as { ref?: () => void } | undefined)?.ref?.();
    super.reuseSocket(socket, request);
  }
}

/** Asks the proxy for a tunnel to host:port; resolves with the raw socket once it answered 200. */
function openTunnel(proxy: ProxyEndpoint, host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: authority };
    if (proxy.authorization !== undefined) headers["proxy-authorization"] = proxy.authorization;
    const req = http.request({
      host: proxy.host,
      port: proxy.port,
      method: "CONNECT",
      path: authority,
      headers,
      agent: false,
      setHost: false,
    });
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new ProxyTunnelError(proxy.label, message));
    };
    const timer = setTimeout(
      () => fail(`proxy ${proxy.label} did not answer CONNECT within ${timeoutMs} ms`),
      timeoutMs,
    );
    req.once("connect", (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(
          `proxy ${proxy.label} refused the tunnel to ${authority} with ${res.statusCode}${describeStatus(res)}`,
        );
        return;
      }
      if (settled) {
        socket.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      // Bytes after the proxy's answer belong to the target (TLS): hand them back to the stream.
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once("response", (res) => {
      // A proxy that answers CONNECT as an ordinary request (no tunnel).
      res.resume();
      fail(`proxy ${proxy.label} answered CONNECT with ${res.statusCode} and no tunnel`);
    });
    req.once("error", (err: NodeJS.ErrnoException) => {
      fail(`proxy ${proxy.label} unreachable (${err.code ?? err.name})`);
    });
    req.end();
  });
}

function describeStatus(res: http.IncomingMessage): string {
  if (res.statusCode === 407) {
    return " (proxy authentication required: check the user and password in the proxy URL)";
  }
  const reason = res.statusMessage?.replace(/[^\x20-\x7e]/g, "").slice(0, 60);
  return reason ? ` (${reason})` : "";
}

// --- helpers ---------------------------------------------------------------------------------------------

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

function nonEmptyEnv(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function invalid(where: string, message: string): ForwarderError {
  return new ForwarderError("E_CONFIG_INVALID", `${where}: ${message}`, { details: { key: where } });
}
