import { apiTokenPath, type ClientToken, readClientToken } from "../api/token.js";
import { CliError } from "./errors.js";

/** The local API a node started with `meshchain start` listens on by default. */
export const DEFAULT_API_URL = "http://127.0.0.1:8645";
/** The data directory `meshchain start` uses by default (where its api.token is). */
export const DEFAULT_DATA_DIR = "./data/dev";

/** A node's API and the token found in its data directory (if any). */
export interface ApiTarget {
  readonly url: string;
  readonly token: ClientToken;
}

export function apiTarget(url: string, dataDir: string): ApiTarget {
  if (!/^https?:\/\/[^\s/]+\/?$/.test(url)) throw new CliError("INVALID_ARGUMENT", `--api "${url}" is not an http:// URL of a node's API`);
  return { url: url.replace(/\/$/, ""), token: readClientToken(apiTokenPath(dataDir)) };
}

interface RpcErrorBody {
  readonly error?: { readonly code?: number; readonly message?: string; readonly data?: { readonly code?: string } };
}

async function request(target: ApiTarget, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const headers = new Headers(init.headers);
  if (target.token.token !== null) headers.set("authorization", `Bearer ${target.token.token}`);
  const url = `${target.url}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(5_000) });
  } catch (e) {
    throw new CliError("NODE_API_UNAVAILABLE", `no node answers at ${url} (${(e as Error).message}); is \`meshchain start\` running, and is --api right?`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new CliError("NODE_API_UNAVAILABLE", `${url} answered ${res.status} with something other than JSON: is that a MeshChain node?`);
  }
  const error = (body as RpcErrorBody).error;
  if (res.status === 401) {
    const why = target.token.token === null ? `none found at ${target.token.path}: ${target.token.reason}` : `the one in ${target.token.path} is not this node's`;
    throw new CliError("NODE_API_REFUSED", `the node wants its API token, and ${why}; give --data-dir of the node you are talking to`);
  }
  if (res.status === 403) throw new CliError("NODE_API_REFUSED", `the node refused the request: ${error?.message ?? res.status}`);
  return { status: res.status, body };
}

export async function getStatus(target: ApiTarget): Promise<Record<string, unknown>> {
  const { status, body } = await request(target, "/status");
  if (status !== 200) throw new CliError("NODE_API_UNAVAILABLE", `the node answered ${status} for /status: ${(body as RpcErrorBody).error?.message ?? ""}`);
  return body as Record<string, unknown>;
}

/** A JSON-RPC call; a node's refusal becomes REJECTED_BY_NODE with the node's reason code. */
export async function callRpc(target: ApiTarget, method: string, params: unknown): Promise<unknown> {
  const { body } = await request(target, "/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const reply = body as RpcErrorBody & { result?: unknown };
  if (reply.error !== undefined) throw new CliError("REJECTED_BY_NODE", `${reply.error.data?.code ?? "ERROR"}: ${reply.error.message ?? "no reason given"}`);
  return reply.result;
}
