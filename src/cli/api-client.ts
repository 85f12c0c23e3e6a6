import { apiTokenPath, readClientToken } from "../api/token.js";
import { ClientError } from "../client/errors.js";
import { MeshChainClient } from "../client/rpc-client.js";
import { CliError } from "./errors.js";

/** The local API a node started with `meshchain start` listens on by default. */
export const DEFAULT_API_URL = "http://127.0.0.1:8645";
/** The data directory `meshchain start` uses by default (where its api.token is). */
export const DEFAULT_DATA_DIR = "./data/dev";

/** The client library pointed at a node's API, with the token found in its data directory (if any). */
export function nodeClient(url: string, dataDir: string): MeshChainClient {
  const token = readClientToken(apiTokenPath(dataDir));
  try {
    return new MeshChainClient({ url, token: token.token, tokenHint: token.token === null ? `none at ${token.path}: ${token.reason}` : `from ${token.path}` });
  } catch (e) {
    if (e instanceof ClientError && e.reason === "INVALID_URL") throw new CliError("INVALID_ARGUMENT", `--api "${url}" is not an http:// URL of a node's API`);
    throw e;
  }
}

/** A node's API as commands that speak raw JSON-RPC hold it: the client library, pointed at the node. */
export type ApiTarget = MeshChainClient;

export const apiTarget = (url: string, dataDir: string): ApiTarget => nodeClient(url, dataDir);

/** One JSON-RPC call; a refusal is a ClientError (REJECTED_BY_NODE with the node's reason, …). */
export const callRpc = (target: ApiTarget, method: string, params: Record<string, unknown>): Promise<unknown> => target.call(method, params);

export const getStatus = (target: ApiTarget): Promise<Record<string, unknown>> => target.status();
