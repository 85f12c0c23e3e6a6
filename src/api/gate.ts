import { isIP } from "node:net";

/**
 * Which requests reach the API at all. A web page the operator visits can make the browser send
 * requests to 127.0.0.1: a `text/plain` form POST (CSRF, no preflight) or, after rebinding its own
 * DNS name to 127.0.0.1, any request with its name in `Host`. So a request passes only when its
 * `Host` names the address we listen on and its `Origin`, when a browser sent one, is ours too.
 */

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];

/** Whether `host` (an address or name the API binds) is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** What the machine is called and which addresses it has: the names a wildcard or LAN bind answers to. */
export interface HostIdentity {
  readonly hostname: string;
  readonly addresses: readonly string[];
}

/** The host names (lowercase, IPv6 without brackets) a request's Host may carry for an API bound to `bind`. */
export function allowedHostNames(bind: string, machine: HostIdentity): Set<string> {
  const names = new Set<string>([bind.toLowerCase()]);
  if (isLoopbackHost(bind)) for (const n of LOOPBACK_NAMES) names.add(n);
  if (!isLoopbackHost(bind)) {
    const hostname = machine.hostname.toLowerCase();
    names.add(hostname);
    if (!hostname.includes(".")) names.add(`${hostname}.local`);
  }
  if (isWildcardHost(bind)) {
    for (const n of LOOPBACK_NAMES) names.add(n);
    for (const a of machine.addresses) names.add(a.toLowerCase().split("%")[0] as string);
  }
  return names;
}

/** `host[:port]` or `[v6][:port]` split; null when it is not of that shape. */
export function parseHostHeader(value: string): { name: string; port: number | null } | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i.exec(value.trim());
  if (m === null) return null;
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && port > 65535) return null;
  return { name: (m[1] ?? m[2] ?? "").toLowerCase(), port };
}

/** Whether a Host header names this API: one of its names and its port (or none, on port 80). */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>, port: number): boolean {
  if (header === undefined) return false;
  const parsed = parseHostHeader(header);
  if (parsed === null || !allowed.has(parsed.name)) return false;
  return parsed.port === null ? port === 80 : parsed.port === port;
}

/** Whether a browser's Origin is this API itself (absent: not a browser, or a same-origin GET). */
export function originAllowed(header: string | undefined, allowed: ReadonlySet<string>, port: number): boolean {
  if (header === undefined) return true;
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    return false; // "null" (sandboxed frames, files) and anything else that is not an origin
  }
  if (url.protocol !== "http:" || url.pathname !== "/" || url.username !== "" || url.password !== "") return false;
  return hostAllowed(url.host, allowed, port);
}

/** Whether the Content-Type is JSON (parameters such as charset allowed): a browser cannot send that cross-origin without asking first. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? null : (m[1] as string);
}
