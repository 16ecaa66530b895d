// The demo's local syslog receiver: TCP on 127.0.0.1, LF or octet-counted frames, each event printed as one
// readable line. Small on purpose; the tests use their own receiver.
import { createServer, type Server, type Socket } from "node:net";

export interface ReceivedEvent {
  raw: string;
  /** CEF header and extension fields, when the message is CEF. */
  cef?: {
    product: string;
    name: string;
    severity: string;
    classId: string;
    extension: Record<string, string>;
  };
}

export interface DemoReceiver {
  readonly port: number;
  readonly count: number;
  close(): Promise<void>;
}

export async function startDemoReceiver(onEvent: (event: ReceivedEvent) => void): Promise<DemoReceiver> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const frame = nextFrame(buffer);
        if (!frame) break;
        buffer = buffer.subarray(frame.consumed);
        count++;
        onEvent(parseEvent(frame.message.toString("utf8")));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    get count() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An octet-counted frame (`123 <...`) or an LF-terminated one. */
function nextFrame(buffer: Buffer): { message: Buffer; consumed: number } | undefined {
  const space = buffer.indexOf(0x20);
  const lengthText = space > 0 && space < 10 ? buffer.subarray(0, space).toString("latin1") : "";
  if (/^[1-9]\d*$/.test(lengthText)) {
    const length = Number(lengthText);
    if (buffer.length < space + 1 + length) return undefined;
    return { message: buffer.subarray(space + 1, space + 1 + length), consumed: space + 1 + length };
  }
  const lf = buffer.indexOf(0x0a);
  if (lf === -1) return undefined;
  return { message: buffer.subarray(0, lf), consumed: lf + 1 };
}

export function parseEvent(raw: string): ReceivedEvent {
  const start = raw.indexOf("CEF:");
  if (start === -1) return { raw };
  const cef = raw.slice(start);
  const fields: string[] = [];
  let current = "";
  let i = 0;
  for (; i < cef.length && fields.length < 7; i++) {
    const ch = cef[i];
    if (ch === "\\" && i + 1 < cef.length) {
      current += cef[i + 1];
      i++;
    } else if (ch === "|") {
      fields.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  // No prototype: a key named "__proto__" in a message is just a key.
  const extension: Record<string, string> = Object.create(null);
  const ext = cef.slice(i);
  const keyAt = /(?:^| )([A-Za-z0-9_]+)=/g;
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  for (let m = keyAt.exec(ext); m; m = keyAt.exec(ext)) {
    // A key's `=` is never escaped; an escaped one (`\=`) belongs to a value.
    const eq = m.index + m[0].length - 1;
    if (ext[eq - 1] === "\\") continue;
    keys.push({ key: m[1] ?? "", start: m.index, valueStart: m.index + m[0].length });
  }
  keys.forEach((k, n) => {
    const end = keys[n + 1]?.start ?? ext.length;
    extension[k.key] = ext
      .slice(k.valueStart, end)
      .replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
  });
  return {
    raw,
    cef: {
      product: fields[2] ?? "",
      classId: fields[4] ?? "",
      name: fields[5] ?? "",
      severity: fields[6] ?? "",
      extension,
    },
  };
}
