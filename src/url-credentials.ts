// URLs may carry credentials (`https://user:password@host`): wherever a URL can be printed (check-config,
// log lines, error messages), they are masked.

// A scheme, then user info up to the last `@` before the host (a password may hold an unencoded `@`).
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>\\]*@/gi;

/** `https://user:pw@host/x` → `https://***@host/x`, anywhere in a text. */
export function maskUrlCredentials(text: string): string {
  return text.includes("@") ? text.replace(USERINFO, "$1***@") : text;
}
