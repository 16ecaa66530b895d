// The byte size of a formatted message, measured only when its length in UTF-16 units cannot tell.

/** True when `text` takes at most `maxBytes` UTF-8 bytes (at least one and at most 3 per UTF-16 unit). */
export function fitsBytes(text: string, maxBytes: number): boolean {
  const n = text.length;
  if (n > maxBytes) return false;
  return n * 3 <= maxBytes || Buffer.byteLength(text, "utf8") <= maxBytes;
}
