// A small, strict LEEF parser for the tests: pipe-delimited header, attributes split on the
// delimiter, each on its first `=`. Throws on what the encoder must never produce.

export interface ParsedLeef {
  readonly version: string;
  readonly vendor: string;
  readonly product: string;
  readonly productVersion: string;
  readonly eventId: string;
  /** The 2.0 delimiter header field as written (`x09`); undefined for 1.0. */
  readonly delimiterField: string | undefined;
  readonly attributes: ReadonlyMap<string, string>;
  readonly keys: readonly string[];
}

function delimiterOf(field: string): string {
  const hex = /^(?:0x|x)([0-9a-fA-F]{1,4})$/.exec(field);
  if (hex?.[1] !== undefined) return String.fromCharCode(Number.parseInt(hex[1], 16));
  if (field.length === 1) return field;
  throw new Error(`bad delimiter field ${JSON.stringify(field)}`);
}

export function parseLeef(message: string): ParsedLeef {
  if (/[\r\n\0]/.test(message)) throw new Error("raw CR, LF or NUL in the message");
  const start = message.indexOf("LEEF:");
  if (start === -1) throw new Error("no LEEF: marker");
  const body = message.slice(start + 5);
  const version = body.slice(0, 3);
  const headerCount = version === "2.0" ? 6 : version === "1.0" ? 5 : 0;
  if (headerCount === 0) throw new Error(`unknown LEEF version ${version}`);
  const parts = body.split("|");
  if (parts.length < headerCount + 1) throw new Error("header too short");
  const header = parts.slice(0, headerCount);
  // Values may contain `|`: everything after the header's last pipe is the payload.
  const payload = parts.slice(headerCount).join("|");
  const delimiterField = version === "2.0" ? header[5] : undefined;
  const delimiter = delimiterField === undefined ? "\t" : delimiterOf(delimiterField);
  const attributes = new Map<string, string>();
  const keys: string[] = [];
  if (payload !== "") {
    for (const attribute of payload.split(delimiter)) {
      const eq = attribute.indexOf("=");
      if (eq <= 0) throw new Error(`attribute without key: ${JSON.stringify(attribute)}`);
      const key = attribute.slice(0, eq);
      if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
      if (attributes.has(key)) throw new Error(`duplicate key ${key}`);
      attributes.set(key, attribute.slice(eq + 1));
      keys.push(key);
    }
  }
  const [, vendor = "", product = "", productVersion = "", eventId = ""] = header;
  return { version, vendor, product, productVersion, eventId, delimiterField, attributes, keys };
}
