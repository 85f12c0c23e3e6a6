import { CliError } from "./errors.js";

/** The local API a node started with `meshchain start` listens on by default. */
export const DEFAULT_API_URL = "http://127.0.0.1:8645";

function apiBase(url: string): string {
  if (!/^https?:\/\/[^\s/]+\/?$/.test(url)) throw new CliError("INVALID_ARGUMENT", `--api "${url}" is not an http:// URL of a node's API`);
  return url.replace(/\/$/, "");
}

async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  } catch (e) {
    throw new CliError("NODE_API_UNAVAILABLE", `no node answers at ${url} (${(e as Error).message}); is \`meshchain start\` running, and is --api right?`);
  }
}

export async function getStatus(api: string): Promise<Record<string, unknown>> {
  const res = await request(`${apiBase(api)}/status`);
  if (!res.ok) throw new CliError("NODE_API_UNAVAILABLE", `the node answered ${res.status} for /status`);
  return (await res.json()) as Record<string, unknown>;
}

/** A JSON-RPC call; a node's refusal becomes REJECTED_BY_NODE with the node's reason code. */
export async function callRpc(api: string, method: string, params: unknown): Promise<unknown> {
  const res = await request(`${apiBase(api)}/rpc`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string; data?: { code?: string } } };
  if (body.error !== undefined) throw new CliError("REJECTED_BY_NODE", `${body.error.data?.code ?? "ERROR"}: ${body.error.message}`);
  return body.result;
}
