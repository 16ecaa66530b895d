// A small, strict CEF parser for the tests, written the way receivers do it: split the header on
// unescaped `|`, then find each unescaped `=` in the extension and take the key before it.
// Anything our encoder must never produce (unknown escapes, a key not preceded by one space,
// duplicate keys, raw CR/LF/NUL) throws.

export interface ParsedCef {
  readonly version: string;
  readonly vendor: string;
  readonly product: string;
  readonly deviceVersion: string;
  readonly classId: string;
  readonly name: string;
  readonly severity: string;
  /** Extension pairs in message order, values unescaped. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  readonly extension: ReadonlyMap<string, string>;
}

const KEY_CHAR = /[A-Za-z0-9]/;

export function parseCef(message: string): ParsedCef {
  if (/[\r\n\0]/.test(message)) throw new Error("raw CR, LF or NUL in the message");
  const start = message.indexOf("CEF:");
  if (start === -1) throw new Error("no CEF: marker");
  let i = start + 4;
  const header: string[] = [];
  let current = "";
  while (header.length < 7) {
    if (i >= message.length) throw new Error(`header ends after ${header.length} fields`);
    const ch = message[i] ?? "";
    if (ch === "\\") {
      const next = message[i + 1];
      if (next !== "\\" && next !== "|") throw new Error(`bad header escape \\${next} at ${i}`);
      current += next;
      i += 2;
    } else if (ch === "|") {
      header.push(current);
      current = "";
      i += 1;
    } else {
      current += ch;
      i += 1;
    }
  }
  const ext = message.slice(i);
  const pairs = parseExtension(ext);
  const extension = new Map<string, string>();
  for (const [k, v] of pairs) {
    if (extension.has(k)) throw new Error(`duplicate key ${k}`);
    extension.set(k, v);
  }
  const [
    version = "",
    vendor = "",
    product = "",
    deviceVersion = "",
    classId = "",
    name = "",
    severity = "",
  ] = header;
  return { version, vendor, product, deviceVersion, classId, name, severity, pairs, extension };
}

function parseExtension(ext: string): Array<[string, string]> {
  if (ext === "") return [];
  if (ext.endsWith(" ")) throw new Error("trailing space at the end of the message");
  const equals: number[] = [];
  for (let i = 0; i < ext.length; i++) {
    const ch = ext[i];
    if (ch === "\\") {
      const next = ext[i + 1];
      if (next !== "\\" && next !== "=" && next !== "n" && next !== "r") {
        throw new Error(`bad extension escape \\${next} at ${i}`);
      }
      i += 1;
    } else if (ch === "=") {
      equals.push(i);
    }
  }
  if (equals.length === 0) throw new Error("extension without a key");
  const keyStarts = equals.map((eq) => {
    let s = eq;
    while (s > 0 && KEY_CHAR.test(ext[s - 1] ?? "")) s--;
    if (s === eq) throw new Error(`empty key before = at ${eq}`);
    if (s > 0 && ext[s - 1] !== " ") throw new Error(`key at ${s} not preceded by a space`);
    return s;
  });
  if (keyStarts[0] !== 0) throw new Error("extension does not start with a key");
  return equals.map((eq, n) => {
    const key = ext.slice(keyStarts[n], eq);
    const nextKey = keyStarts[n + 1];
    const raw = nextKey === undefined ? ext.slice(eq + 1) : ext.slice(eq + 1, nextKey - 1);
    return [key, unescapeValue(raw)];
  });
}

function unescapeValue(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = raw[i + 1];
    i += 1;
    if (next === "n") out += "\n";
    else if (next === "r") out += "\r";
    else if (next === "\\" || next === "=") out += next;
    else throw new Error(`dangling backslash in value ${JSON.stringify(raw)}`);
  }
  return out;
}
