import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { hostname, networkInterfaces } from "node:os";
import { fromHex } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { redactUrls } from "../core/redact.js";
import type { Logger } from "../node/logger.js";
import type { NodeStatus, PeerSummary, SubmitOutcome } from "../node/node.js";
import { ApiError } from "./errors.js";
import { allowedHostNames, bearerToken, type HostIdentity, hostAllowed, isJsonContentType, isLoopbackHost, originAllowed } from "./gate.js";
import { tokenMatches } from "./token.js";
import type { BlockSummary, ValidatorSummary } from "../node/node-report.js";
import type { HistorySample } from "../node/status-history.js";
import { STATUS_PAGE_HTML } from "./status-page.js";
import { ParamsError, readMethod, type ReadSource } from "./rpc-reads.js";
import { EventHub } from "./subscriptions.js";

/** What the local API needs from the node. */
export interface NodeApi {
  status(): NodeStatus;
  weightGini(): number;
  /** Admit a signed transaction: accepted, queued or already included; throws a typed MeshChainError saying why not. */
  submitTransaction(bytes: Uint8Array): SubmitOutcome;
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
  /** Chain reads (accounts, blocks, transactions, proposals, messages, proofs): see rpc-reads.ts. */
  readonly reads: ReadSource["reads"];
  chainInfo(): ReturnType<ReadSource["chainInfo"]>;
}

export interface ApiOptions {
  /** 127.0.0.1 by default: the API is for the operator on this machine. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * The token (api.token in the data directory) that every method changing anything needs, and
   * every request when the API listens beyond loopback. Without one, those are refused.
   */
  readonly token?: string;
  /** Internal errors are logged here (their answer says only that one happened). */
  readonly logger?: Logger;
  /** The machine's name and addresses (a wildcard or LAN bind answers to them); read from the OS unless given. */
  readonly machine?: HostIdentity;
  /** How often live-event subscribers' chain is looked at, ms (250 unless given). */
  readonly eventPollMs?: number;
}

export const MAX_BODY_BYTES = 64 * 1024;

/** JSON-RPC 2.0's own codes, and ours in its server range; `data.code` names the reason. */
export const RPC_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  REJECTED: -32000,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32002,
  UNSUPPORTED_MEDIA_TYPE: -32003,
  BODY_TOO_LARGE: -32004,
  NOT_FOUND: -32005,
  NOT_RUNNING: -32006,
} as const;

/** RPC methods that change something: they need the token even on loopback. */
const WRITE_METHODS = new Set(["submitTransaction"]);
const GET_PATHS = new Set(["/health", "/ready", "/status", "/metrics"]);

type RpcId = string | number | null;

interface RpcRequest {
  readonly id: RpcId;
  readonly method: string;
  readonly params?: unknown;
}

/** A refusal on its way to the client: the HTTP status and the JSON-RPC error object. */
class Refusal extends Error {
  constructor(
    readonly httpStatus: number,
    readonly rpcCode: number,
    readonly reason: string,
    message: string,
    readonly id: RpcId = null,
  ) {
    super(message);
  }
}

/**
 * The node's local HTTP API: GET /status, /health (the process answers), /ready (synced),
 * /metrics (Prometheus), the status page at / with its JSON (/status/history, /peers, /validators,
 * /blocks?count=n), JSON-RPC 2.0 on POST /rpc (status, submitTransaction, peers and the chain reads of
 * rpc-reads.ts), and live events over WebSocket at /ws (subscriptions.ts).
 * Every request first passes the gate (Host, Origin, token where needed; see docs/api.md), and every
 * failure is answered with a JSON-RPC error object.
 */
export class ApiServer {
  private server: Server | null = null;
  private events: EventHub | null = null;
  private allowedHosts = new Set<string>();
  private listeningPort = 0;

  constructor(
    private readonly opts: ApiOptions,
    private readonly node: NodeApi,
  ) {}

  private get loopbackOnly(): boolean {
    return isLoopbackHost(this.opts.host);
  }

  async start(): Promise<string> {
    if (!this.loopbackOnly && this.opts.token === undefined) {
      throw new ApiError("TOKEN_REQUIRED", `the API on ${this.opts.host} would be reachable from other machines: it needs a token`);
    }
    // A request without Host is refused by the gate (as JSON), not by Node's bare 400.
    const server = createServer({ requireHostHeader: false }, (req, res) => void this.handle(req, res));
    // A local API answers at once; a client that trickles its request only holds a socket open.
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    // Requests Node itself rejects (malformed HTTP, too slow) get a JSON-RPC error too, not a bare 400.
    server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const timeout = e.code === "ERR_HTTP_REQUEST_TIMEOUT";
      const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: RPC_CODES.INVALID_REQUEST, message: timeout ? "the request took too long" : "malformed HTTP request", data: { code: timeout ? "REQUEST_TIMEOUT" : "BAD_HTTP" } } });
      socket.end(`HTTP/1.1 ${timeout ? "408 Request Timeout" : "400 Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    // Live events: a WebSocket upgrade at /ws passes the same gate, and always needs the token.
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new ApiError("CANNOT_LISTEN", `the API cannot listen on ${this.opts.host}:${this.opts.port}: ${e.message}`)));
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    this.listeningPort = (server.address() as AddressInfo).port;
    this.allowedHosts = allowedHostNames(this.opts.host, this.opts.machine ?? machineIdentity());
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (address == null) throw new RangeError("the API is not listening");
    return `http://${this.opts.host.includes(":") ? `[${this.opts.host}]` : this.opts.host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await this.events?.close();
    this.events = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.gate(req);
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method === "GET" && path === "/health") return json(res, 200, { ok: true });
      if (req.method === "GET" && path === "/ready") {
        const { sync, ready } = this.node.status();
        return json(res, ready.ok ? 200 : 503, { ready: ready.ok, reason: ready.reason, sync });
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
      if (GET_PATHS.has(path) || path === "/rpc") {
        res.setHeader("allow", path === "/rpc" ? "POST" : "GET");
        throw new Refusal(405, RPC_CODES.NOT_FOUND, "METHOD_NOT_ALLOWED", `${path} does not take ${req.method ?? "this method"}`);
      }
      throw new Refusal(404, RPC_CODES.NOT_FOUND, "NOT_FOUND", `no ${req.method ?? ""} ${path}`);
    } catch (e) {
      this.refuse(res, e);
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      if ((req.url ?? "").split("?")[0] !== "/ws") throw new Refusal(404, RPC_CODES.NOT_FOUND, "NOT_FOUND", "WebSocket upgrades are taken at /ws only");
      this.gate(req);
      this.requireToken(req, null);
    } catch (e) {
      const refusal = e instanceof Refusal ? e : new Refusal(500, RPC_CODES.INTERNAL, "INTERNAL", "internal error");
      const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: refusal.rpcCode, message: refusal.message, data: { code: refusal.reason } } });
      socket.end(`HTTP/1.1 ${refusal.httpStatus} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    this.events ??= new EventHub(this.node, this.opts.eventPollMs, (e) => this.opts.logger?.error({ err: e }, "live events: a look at the chain failed"));
    this.events.accept(req, socket, head);
  }

  /** Host, Origin and (beyond loopback) the token: refused here, a request reaches no route. */
  private gate(req: IncomingMessage): void {
    const port = this.listeningPort;
    if (!hostAllowed(req.headers.host, this.allowedHosts, port)) {
      throw new Refusal(403, RPC_CODES.FORBIDDEN, "FORBIDDEN_HOST", `Host "${req.headers.host ?? ""}" is not this API's address (a DNS-rebinding page would send its own name)`);
    }
    if (!originAllowed(req.headers.origin, this.allowedHosts, port)) {
      throw new Refusal(403, RPC_CODES.FORBIDDEN, "FORBIDDEN_ORIGIN", `requests from the web page at ${req.headers.origin ?? ""} are not allowed`);
    }
    if (!this.loopbackOnly) this.requireToken(req, null);
  }

  private requireToken(req: IncomingMessage, id: RpcId): void {
    const expected = this.opts.token;
    const presented = bearerToken(req.headers.authorization);
    if (expected === undefined) throw new Refusal(401, RPC_CODES.UNAUTHORIZED, "TOKEN_NOT_CONFIGURED", "this API was started without a token: it changes nothing", id);
    if (presented === null) throw new Refusal(401, RPC_CODES.UNAUTHORIZED, "TOKEN_MISSING", "this request needs the API token: Authorization: Bearer <contents of api.token in the data directory>", id);
    if (!tokenMatches(presented, expected)) throw new Refusal(401, RPC_CODES.UNAUTHORIZED, "TOKEN_WRONG", "the API token does not match this node's api.token", id);
  }

  private async rpc(req: IncomingMessage): Promise<unknown> {
    if (!isJsonContentType(req.headers["content-type"])) {
      throw new Refusal(415, RPC_CODES.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", `POST /rpc takes Content-Type: application/json, not ${req.headers["content-type"] ?? "none"}`);
    }
    const call = parseRpc(await readBody(req));
    if (WRITE_METHODS.has(call.method)) this.requireToken(req, call.id);
    const reply = (result: unknown) => ({ jsonrpc: "2.0", id: call.id, result });
    const invalid = (message: string) => new Refusal(200, RPC_CODES.INVALID_PARAMS, "INVALID_PARAMS", message, call.id);
    switch (call.method) {
      case "status":
        return reply(this.node.status());
      case "submitTransaction": {
        const hex = (call.params as { tx?: unknown } | undefined)?.tx;
        if (typeof hex !== "string" || !/^([0-9a-f]{2})+$/i.test(hex)) throw invalid("params.tx must be the transaction's bytes in hex");
        try {
          return reply(this.node.submitTransaction(fromHex(hex.toLowerCase())));
        } catch (e) {
          if (e instanceof MeshChainError && e.code !== "NOT_RUNNING") throw new Refusal(200, RPC_CODES.REJECTED, e.code, e.message, call.id);
          throw e;
        }
      }
      case "peers":
        return reply(this.node.peerList());
      default: {
        const read = readMethod(this.node, call.method, call.params);
        if (read === undefined) throw new Refusal(200, RPC_CODES.METHOD_NOT_FOUND, "METHOD_NOT_FOUND", `unknown method ${call.method}`, call.id);
        try {
          return reply(read());
        } catch (e) {
          if (e instanceof ParamsError) throw new Refusal(200, RPC_CODES.INVALID_PARAMS, e.reason, e.message, call.id);
          // Asked for something this node does not hold (ReadError), or a typed failure of the read.
          if (e instanceof MeshChainError && e.code !== "NOT_RUNNING") throw new Refusal(200, RPC_CODES.NOT_FOUND, e.code, e.message, call.id);
          throw e;
        }
      }
    }
  }

  /** Every failure as a JSON-RPC error object; an unexpected one is logged and answered without its details. */
  private refuse(res: ServerResponse, e: unknown): void {
    let refusal: Refusal;
    if (e instanceof Refusal) refusal = e;
    else if (e instanceof MeshChainError && e.code === "NOT_RUNNING") refusal = new Refusal(503, RPC_CODES.NOT_RUNNING, "NOT_RUNNING", "the node is not running (starting or stopping)");
    else {
      this.opts.logger?.error({ err: e }, "local API request failed");
      refusal = new Refusal(500, RPC_CODES.INTERNAL, e instanceof MeshChainError ? e.code : "INTERNAL", `internal error: ${redactUrls(e instanceof Error ? e.message : String(e))}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (refusal.httpStatus === 401) res.setHeader("www-authenticate", "Bearer");
    // Past the size limit the rest of the body is not read: the connection cannot be reused.
    if (refusal.httpStatus === 413) res.setHeader("connection", "close");
    json(res, refusal.httpStatus, { jsonrpc: "2.0", id: refusal.id, error: { code: refusal.rpcCode, message: refusal.message, data: { code: refusal.reason } } });
  }
}

function machineIdentity(): HostIdentity {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return { hostname: hostname(), addresses };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}

function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = () => new Refusal(413, RPC_CODES.BODY_TOO_LARGE, "BODY_TOO_LARGE", `request body over ${MAX_BODY_BYTES} bytes`);
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      // Stop reading, but leave the socket to carry the 413 (sent with connection: close).
      req.off("data", onData);
      req.pause();
      reject(tooLarge());
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

function parseRpc(text: string): RpcRequest {
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (e) {
    throw new Refusal(200, RPC_CODES.PARSE_ERROR, "PARSE_ERROR", `not JSON: ${(e as Error).message}`);
  }
  const invalid = (message: string) => new Refusal(200, RPC_CODES.INVALID_REQUEST, "INVALID_REQUEST", message);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid("a JSON-RPC request must be an object (batches are not taken)");
  const o = v as Record<string, unknown>;
  if (o.jsonrpc !== "2.0" || typeof o.method !== "string") throw invalid('need jsonrpc "2.0" and a method');
  const id = o.id;
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") throw invalid("id must be a string, a number or null");
  return { id: id ?? null, method: o.method, params: o.params };
}
