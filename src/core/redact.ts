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
 * replaced, at any depth. Errors become plain objects carrying their type, code, message and stack.
 */
export function redactRecord(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactUrls(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => redactRecord(v, depth + 1));
  const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source)) out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? "***" : redactRecord(v, depth + 1);
  return out;
}

function errorFields(e: Error): Record<string, unknown> {
  const code = (e as { code?: unknown }).code;
  return { type: e.name, message: e.message, ...(code === undefined ? {} : { code }), ...(e.stack === undefined ? {} : { stack: e.stack }) };
}
