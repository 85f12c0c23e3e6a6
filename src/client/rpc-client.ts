import WebSocket from "ws";
import { ClientError } from "./errors.js";

/** A node's local API and the token to present (needed for writes and subscriptions). */
export interface ClientOptions {
  /** http://host:port of the node's API (`meshchain start` listens on http://127.0.0.1:8645). */
  readonly url: string;
  readonly token?: string | null;
  /** Where the token was looked for, to say so when the node wants one (the CLI's --data-dir). */
  readonly tokenHint?: string;
  readonly timeoutMs?: number;
}

export type SubmitStatus = "accepted" | "queued" | "included";
export interface SubmitResult {
  readonly hash: string;
  readonly status: SubmitStatus;
  readonly reason?: string;
  readonly height?: number;
  readonly final?: boolean;
}

export type TxStatus = "unknown" | "pending" | "queued" | "included" | "final";
export interface TxView extends Record<string, unknown> {
  readonly hash: string;
  readonly status: TxStatus;
  readonly height: number | null;
  readonly final: boolean;
}

export interface ChainInfo {
  readonly chainId: string;
  readonly height: number;
  readonly minFeePerByte: string;
  readonly genesisHash: string;
}

export type Topic = "newHeads" | "finalized" | "tx" | "messages" | "governance";

export interface Subscription {
  readonly id: string;
  close(): Promise<void>;
}

interface RpcBody {
  readonly result?: unknown;
  readonly error?: { readonly code?: number; readonly message?: string; readonly data?: { readonly code?: string } };
}

/**
 * A typed client of a MeshChain node's local API: JSON-RPC 2.0 over HTTP for reads and writes, and
 * a WebSocket for live events. Every failure is a ClientError with a code (docs/api.md §Client).
 */
export class MeshChainClient {
  readonly url: string;
  private readonly token: string | null;

  constructor(private readonly opts: ClientOptions) {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(opts.url)) throw new ClientError("INVALID_PARAMS", `"${opts.url}" is not an http:// URL of a node's API`, "INVALID_URL");
    this.url = opts.url.replace(/\/$/, "");
    this.token = opts.token ?? null;
  }

  private headers(extra: Record<string, string> = {}): Headers {
    const headers = new Headers(extra);
    if (this.token !== null) headers.set("authorization", `Bearer ${this.token}`);
    return headers;
  }

  private refusedForToken(): ClientError {
    const where = this.opts.tokenHint === undefined ? "" : ` (${this.opts.tokenHint})`;
    return new ClientError("NODE_API_REFUSED", `the node wants its API token, and ${this.token === null ? "none was found" : "the one given is not this node's"}${where}; give --data-dir of the node you are talking to`, "TOKEN");
  }

  private async request(path: string, init: RequestInit = {}): Promise<{ status: number; body: RpcBody }> {
    const url = `${this.url}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers: this.headers(init.headers as Record<string, string> | undefined), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
    } catch (e) {
      throw new ClientError("NODE_API_UNAVAILABLE", `no node answers at ${url} (${(e as Error).message}); is \`meshchain start\` running, and is --api right?`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ClientError("NODE_API_UNAVAILABLE", `${url} answered ${res.status} with something other than JSON: is that a MeshChain node?`);
    }
    const b = (typeof body === "object" && body !== null ? body : {}) as RpcBody;
    if (res.status === 401) throw this.refusedForToken();
    if (res.status === 403) throw new ClientError("NODE_API_REFUSED", `the node refused the request: ${b.error?.message ?? res.status}`, b.error?.data?.code ?? null);
    return { status: res.status, body: b };
  }

  /** GET /status: the node's status object. */
  async status(): Promise<Record<string, unknown>> {
    const { status, body } = await this.request("/status");
    if (status !== 200) throw new ClientError("NODE_API_UNAVAILABLE", `the node answered ${status} for /status: ${body.error?.message ?? ""}`, body.error?.data?.code ?? null);
    return body as Record<string, unknown>;
  }

  /** One JSON-RPC call; the node's refusal becomes a ClientError carrying its reason code. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const { body } = await this.request("/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const error = body.error;
    if (error !== undefined) {
      const reason = error.data?.code ?? "ERROR";
      const text = `${reason}: ${error.message ?? "no reason given"}`;
      if (error.code === -32000) throw new ClientError("REJECTED_BY_NODE", text, reason);
      if (error.code === -32005) throw new ClientError("NOT_FOUND", text, reason);
      if (error.code === -32602) throw new ClientError("INVALID_PARAMS", text, reason);
      throw new ClientError("NODE_API_UNAVAILABLE", text, reason);
    }
    if (!("result" in body)) throw new ClientError("NODE_API_UNAVAILABLE", `the node's answer to ${method} has no result`);
    return body.result as T;
  }

  chainInfo = (): Promise<ChainInfo> => this.call<ChainInfo>("getChainInfo");
  account = (address: string): Promise<Record<string, unknown>> => this.call("getAccount", { address });
  validators = (): Promise<Record<string, unknown>> => this.call("getValidators");
  block = (ref: number | string): Promise<Record<string, unknown>> => this.call("getBlock", typeof ref === "number" ? { height: ref } : { hash: ref });
  transaction = (hash: string): Promise<TxView> => this.call<TxView>("getTransaction", { hash });
  params = (): Promise<Record<string, unknown>> => this.call("getParams");
  proposals = (): Promise<Record<string, unknown>> => this.call("getProposals");
  proposal = (id: number): Promise<Record<string, unknown>> => this.call("getProposal", { id });
  messages = (filter: { to?: string; from?: string; limit?: number }): Promise<{ messages: Record<string, unknown>[] }> => this.call("getMessages", filter);
  messageStatus = (hash: string): Promise<Record<string, unknown>> => this.call("getMessageStatus", { hash });
  deliveryProof = (hash: string): Promise<Record<string, unknown>> => this.call("getDeliveryProof", { hash });
  peers = (): Promise<unknown[]> => this.call("peers");

  /** Submit signed bytes (hex); needs the token. The answer is checked: an unknown shape is not believed. */
  async submit(txHex: string): Promise<SubmitResult> {
    const r = await this.call<Record<string, unknown> | null>("submitTransaction", { tx: txHex });
    const status = r?.status;
    if (r === null || typeof r.hash !== "string" || (status !== "accepted" && status !== "queued" && status !== "included")) {
      throw new ClientError("NODE_API_UNAVAILABLE", `the node's answer to submitTransaction is not one this client knows: ${JSON.stringify(r)}`);
    }
    return r as unknown as SubmitResult;
  }

  /**
   * Wait until a transaction is included (or final): polled every `pollMs` over HTTP, so it needs no
   * token. WAIT_TIMEOUT after `timeoutMs` says where it last stood.
   */
  async waitFor(hash: string, until: "included" | "final", opts: { timeoutMs: number; pollMs?: number; now?: () => number }): Promise<TxView> {
    const now = opts.now ?? Date.now;
    const deadline = now() + opts.timeoutMs;
    for (;;) {
      const view = await this.transaction(hash);
      if (view.status === "final" || (until === "included" && view.status === "included")) return view;
      if (now() >= deadline) throw new ClientError("WAIT_TIMEOUT", `transaction ${hash} is still ${view.status} after ${Math.round(opts.timeoutMs / 1000)} s`, view.status);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }

  /**
   * Subscribe to live events (needs the token). `onEvent` gets each event; the promise resolves once
   * the node confirmed the subscription. Closing the subscription closes its socket.
   */
  subscribe(topic: Topic, params: Record<string, unknown>, onEvent: (event: Record<string, unknown>) => void, onClose?: (reason: string) => void): Promise<Subscription> {
    const socket = new WebSocket(`${this.url.replace(/^http/, "ws")}/ws`, { headers: this.token === null ? {} : { authorization: `Bearer ${this.token}` }, handshakeTimeout: this.opts.timeoutMs ?? 10_000 });
    return new Promise<Subscription>((resolve, reject) => {
      let confirmed: string | null = null;
      socket.on("unexpected-response", (_req, res) => {
        reject(res.statusCode === 401 ? this.refusedForToken() : new ClientError("NODE_API_REFUSED", `the node refused the subscription (HTTP ${res.statusCode})`));
        socket.terminate();
      });
      socket.on("error", (e) => {
        if (confirmed === null) reject(new ClientError("NODE_API_UNAVAILABLE", `no node answers at ${this.url} for live events (${e.message})`));
      });
      socket.on("open", () => socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { ...params, topic } })));
      socket.on("close", () => {
        if (confirmed !== null) onClose?.("the node closed the connection");
      });
      socket.on("message", (data) => {
        let m: { id?: unknown; result?: { subscription?: string }; error?: RpcBody["error"]; params?: { subscription?: string; event?: Record<string, unknown> } };
        try {
          m = JSON.parse(data.toString()) as typeof m;
        } catch {
          return;
        }
        if (m.id === 1 && m.error !== undefined) {
          socket.close();
          reject(new ClientError("INVALID_PARAMS", `${m.error.data?.code ?? "ERROR"}: ${m.error.message ?? ""}`, m.error.data?.code ?? null));
          return;
        }
        if (m.id === 1 && typeof m.result?.subscription === "string") {
          confirmed = m.result.subscription;
          resolve({ id: confirmed, close: () => new Promise<void>((r) => (socket.readyState === WebSocket.CLOSED ? r() : (socket.once("close", () => r()), socket.close()))) });
          return;
        }
        if (m.params?.subscription === confirmed && m.params.event !== undefined) onEvent(m.params.event);
      });
    });
  }
}
