import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fromHex } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import type { NodeStatus, PeerSummary } from "../node/node.js";
import type { BlockSummary, ValidatorSummary } from "../node/node-report.js";
import type { HistorySample } from "../node/status-history.js";
import { STATUS_PAGE_HTML } from "./status-page.js";

/** What the local API needs from the node. */
export interface NodeApi {
  status(): NodeStatus;
  weightGini(): number;
  /** Admit a signed transaction; throws a typed MeshChainError saying why not. Returns its hash. */
  submitTransaction(bytes: Uint8Array): string;
  /** The height at which a transaction became final here, or null. */
  finalizedTxHeight(hash: Uint8Array): number | null;
  /** What the node knows of its peers. */
  peerList(): readonly PeerSummary[];
  /** Prometheus text exposition of the node's metrics. */
  metricsText(): Promise<string>;
  /** The status page's data: samples of the last hour, validators, newest blocks. */
  statusHistory(): readonly HistorySample[];
  validatorList(): readonly ValidatorSummary[];
  recentBlocks(count: number): readonly BlockSummary[];
}

export interface ApiOptions {
  /** 127.0.0.1 by default: the API is for the operator on this machine. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

const MAX_BODY_BYTES = 64 * 1024;

interface RpcRequest {
  readonly jsonrpc: "2.0";
  readonly id: string | number | null;
  readonly method: string;
  readonly params?: unknown;
}

type RpcError = { code: number; message: string; data?: { code: string } };

/**
 * The node's local HTTP API: GET /status, /health (the process answers), /ready (synced),
 * /metrics (Prometheus), the status page at / with its JSON (/status/history, /peers, /validators,
 * /blocks?count=n), and JSON-RPC 2.0 on POST /rpc (status, submitTransaction, getTransaction, peers).
 */
export class ApiServer {
  private server: Server | null = null;

  constructor(
    private readonly opts: ApiOptions,
    private readonly node: NodeApi,
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (address == null) throw new RangeError("the API is not listening");
    return `http://${this.opts.host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "GET" && path === "/health") return json(res, 200, { ok: true });
      if (req.method === "GET" && path === "/ready") {
        const sync = this.node.status().sync;
        return json(res, sync.state === "synced" ? 200 : 503, { ready: sync.state === "synced", sync });
      }
      if (req.method === "GET" && path === "/status") return json(res, 200, this.node.status());
      if (req.method === "GET" && path === "/metrics") {
        const text = await this.node.metricsText();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(text);
        return;
      }
      if (req.method === "GET" && path === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:" });
        res.end(STATUS_PAGE_HTML);
        return;
      }
      if (req.method === "GET" && path === "/status/history") return json(res, 200, { samples: this.node.statusHistory() });
      if (req.method === "GET" && path === "/peers") return json(res, 200, { peers: this.node.peerList() });
      if (req.method === "GET" && path === "/validators") return json(res, 200, { validators: this.node.validatorList() });
      if (req.method === "GET" && path === "/blocks") {
        const count = Number(new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("count") ?? "10");
        if (!Number.isInteger(count) || count < 1 || count > 100) return json(res, 400, { error: { code: "INVALID_ARGUMENT", message: "count must be a whole number from 1 to 100" } });
        return json(res, 200, { blocks: this.node.recentBlocks(count) });
      }
      if (req.method === "POST" && path === "/rpc") return json(res, 200, await this.rpc(req));
      return json(res, 404, { error: { code: "NOT_FOUND", message: `no ${req.method ?? ""} ${path ?? ""}` } });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return json(res, 500, { error: { code: e instanceof MeshChainError ? e.code : "INTERNAL", message } });
    }
  }

  private async rpc(req: IncomingMessage): Promise<unknown> {
    let call: RpcRequest;
    try {
      call = parseRpc(await readBody(req));
    } catch (e) {
      return { jsonrpc: "2.0", id: null, error: { code: e instanceof SyntaxError ? -32700 : -32600, message: e instanceof Error ? e.message : "bad request" } };
    }
    const reply = (result: unknown) => ({ jsonrpc: "2.0", id: call.id, result });
    const fail = (error: RpcError) => ({ jsonrpc: "2.0", id: call.id, error });
    switch (call.method) {
      case "status":
        return reply(this.node.status());
      case "submitTransaction": {
        const hex = (call.params as { tx?: unknown } | undefined)?.tx;
        if (typeof hex !== "string" || !/^([0-9a-f]{2})+$/i.test(hex)) return fail({ code: -32602, message: "params.tx must be the transaction's bytes in hex" });
        try {
          return reply({ hash: this.node.submitTransaction(fromHex(hex.toLowerCase())) });
        } catch (e) {
          if (e instanceof MeshChainError) return fail({ code: -32000, message: e.message, data: { code: e.code } });
          throw e;
        }
      }
      case "getTransaction": {
        const hash = (call.params as { hash?: unknown } | undefined)?.hash;
        if (typeof hash !== "string" || !/^[0-9a-f]{64}$/i.test(hash)) return fail({ code: -32602, message: "params.hash must be a transaction hash: 64 hex digits" });
        const height = this.node.finalizedTxHeight(fromHex(hash.toLowerCase()));
        return reply({ hash: hash.toLowerCase(), final: height !== null, height });
      }
      case "peers":
        return reply(this.node.peerList());
      default:
        return fail({ code: -32601, message: `unknown method ${call.method}` });
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseRpc(text: string): RpcRequest {
  const v = JSON.parse(text) as unknown;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new TypeError("a JSON-RPC request must be an object");
  const o = v as Record<string, unknown>;
  if (o.jsonrpc !== "2.0" || typeof o.method !== "string") throw new TypeError('need jsonrpc "2.0" and a method');
  const id = o.id;
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") throw new TypeError("id must be a string, a number or null");
  return { jsonrpc: "2.0", id: id ?? null, method: o.method, params: o.params };
}
