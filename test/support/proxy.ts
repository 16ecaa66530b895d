// A real HTTP CONNECT proxy on 127.0.0.1 for the proxy tests: it counts tunnels, can ask for basic auth,
// can refuse. It only ever opens tunnels to loopback addresses: a CONNECT to any other host is answered
// 502 without a connection attempt, so a test can never send traffic off this machine through it.
import { once } from "node:events";
import http from "node:http";
import net from "node:net";

export interface ConnectAttempt {
  /** The CONNECT target, `host:port`. */
  readonly target: string;
  /** The Proxy-Authorization header as received. */
  readonly authorization: string | undefined;
  /** What the proxy answered. */
  readonly status: number;
}

export interface TestProxy {
  /** `http://127.0.0.1:PORT`, without credentials. */
  readonly url: string;
  readonly port: number;
  /** Tunnels opened (CONNECT answered 200). */
  readonly tunnels: number;
  readonly attempts: readonly ConnectAttempt[];
  /** Answers every following CONNECT with `status` (403, 407, 502...) instead of opening a tunnel. */
  refuse(status: number): void;
  /** Opens tunnels again. */
  accept(): void;
  /** Closes the server and every socket it holds. */
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /** Requires `Proxy-Authorization: Basic base64(user:password)`; answers 407 otherwise. */
  auth?: { user: string; password: string };
}

const LOOPBACK_TARGETS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

export async function startTestProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const attempts: ConnectAttempt[] = [];
  let tunnels = 0;
  let refuseWith: number | undefined;
  const expected =
    options.auth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`;

  const server = http.createServer((_req, res) => {
    // Only tunnels are served; an absolute-form request is not what the client under test should send.
    res.writeHead(405, { connection: "close" }).end();
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? "";
    const authorization = req.headers["proxy-authorization"];
    const answer = (status: number, reason: string, extra = "") => {
      attempts.push({ target, authorization, status });
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    client.on("error", () => {});
    if (refuseWith !== undefined) return answer(refuseWith, "Refused by test");
    if (expected !== undefined && authorization !== expected) {
      return answer(407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="test"\r\n');
    }
    const match = /^(.*):(\d+)$/.exec(target);
    const host = match?.[1] ?? "";
    if (!match || !LOOPBACK_TARGETS.test(host)) return answer(502, "Bad Gateway");
    const upstream = net.connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(match[2]) });
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    upstream.once("connect", () => {
      tunnels++;
      attempts.push({ target, authorization, status: 200 });
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get tunnels() {
      return tunnels;
    },
    attempts,
    refuse(status) {
      refuseWith = status;
    },
    accept() {
      refuseWith = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
