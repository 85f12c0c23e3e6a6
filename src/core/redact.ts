/**
 * Secrets must never reach a log line or an error message: an operator pastes those into forums and
 * bug reports. Broker and radio URLs carry passwords (`mqtt://user:password@host`), so every string
 * that may hold one passes through here on its way out.
 */

/** The password of any `scheme://user:password@` in the text, replaced; the user name stays (it tells which account failed). */
export function redactUrls(text: string): string {
  // The password runs to the last "@" of the authority: an unencoded "@" in it must not leak its tail.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]*):([^\s/?#]*)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/** Field names whose values are secrets wherever they appear in a structured log record. */
const SECRET_KEY = /(password|passwd|passphrase|secret|token)$|^(psk|authorization|seed|private_?key)$/i;

/**
 * A copy of a log record with URL passwords redacted in every string and secret-named fields
 * replaced, at any depth. Errors stay errors of their class (loggers serialize those specially).
 */
export function redactRecord(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactUrls(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => redactRecord(v, depth + 1));
  const out = (value instanceof Error ? Object.create(Object.getPrototypeOf(value) as object) : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? "***" : redactRecord(v, depth + 1);
  if (value instanceof Error) {
    // Not enumerable on an Error, so copied by hand.
    for (const k of ["message", "stack", "cause"] as const) {
      if (value[k] !== undefined) Object.defineProperty(out, k, { value: redactRecord(value[k], depth + 1), writable: true, configurable: true });
    }
  }
  return out;
}
