import { epochOf } from "../core/state/epoch.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { bytesEqual, fromHex, toHex } from "../core/bytes.js";
import { AddressError, formatAddress, parseAddress } from "../core/crypto/address.js";
import { MeshChainError } from "../core/errors.js";
import { TxKind } from "../core/tx/types.js";
import { describeTx } from "../core/tx/describe.js";
import type { ReadModel } from "../node/read-model.js";

/*
 * Live events over WebSocket at GET /ws (JSON-RPC 2.0 both ways): `subscribe` with a topic answers a
 * subscription id, then `event` notifications follow. The node's chain is looked at every `pollMs`
 * while anyone listens, and each change is sent once (docs/api.md §Live events).
 */
export type Topic = "newHeads" | "finalized" | "tx" | "messages" | "governance";
const TOPICS: readonly Topic[] = ["newHeads", "finalized", "tx", "messages", "governance"];
/** Subscriptions one connection may hold: each costs a little work at every poll. */
export const MAX_SUBSCRIPTIONS = 32;
const MAX_MESSAGE_BYTES = 4096;

interface Subscription {
  readonly id: string;
  readonly topic: Topic;
  readonly socket: WebSocket;
  readonly hash?: Uint8Array;
  readonly to?: Uint8Array;
  lastStatus?: string;
}


interface Seen {
  height: number;
  finalized: number;
  open: Map<number, { parameter: string; value: string }>;
  scheduled: Map<number, { parameter: string; value: string; effectiveHeight: number }>;
  params: Map<string, string>;
}

class SubscribeError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

export class EventHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly subs = new Map<string, Subscription>();
  private timer: NodeJS.Timeout | null = null;
  private seen: Seen | null = null;
  private nextId = 1;

  constructor(private readonly source: { readonly reads: ReadModel }, private readonly pollMs = 250, private readonly onFault?: (e: unknown) => void) {}

  /** Take over an upgrade request that already passed the gate (Host, Origin, token). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data, isBinary) => this.onMessage(ws, isBinary ? "" : data.toString()));
      ws.on("close", () => this.dropSocket(ws));
      ws.on("error", () => this.dropSocket(ws));
    });
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private dropSocket(ws: WebSocket): void {
    for (const [id, s] of this.subs) if (s.socket === ws) this.subs.delete(id);
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (this.subs.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.seen = null;
    }
  }

  private onMessage(ws: WebSocket, text: string): void {
    let id: string | number | null = null;
    try {
      let call: unknown;
      try {
        call = JSON.parse(text);
      } catch {
        throw new SubscribeError(-32700, "PARSE_ERROR", "not JSON");
      }
      const o = (typeof call === "object" && call !== null ? call : {}) as Record<string, unknown>;
      id = typeof o.id === "string" || typeof o.id === "number" ? o.id : null;
      const params = (typeof o.params === "object" && o.params !== null ? o.params : {}) as Record<string, unknown>;
      if (o.jsonrpc !== "2.0" || typeof o.method !== "string") throw new SubscribeError(-32600, "INVALID_REQUEST", 'need jsonrpc "2.0" and a method');
      if (o.method === "subscribe") {
        const sub = this.subscribe(ws, params);
        this.send(ws, { jsonrpc: "2.0", id, result: { subscription: sub.id } });
        // A transaction's status is sent at once, after the answer: it may already be final.
        if (sub.hash !== undefined) this.emitTxStatus(sub);
        return;
      }
      if (o.method === "unsubscribe") {
        const sub = typeof params.subscription === "string" ? this.subs.get(params.subscription) : undefined;
        if (sub === undefined || sub.socket !== ws) throw new SubscribeError(-32602, "UNKNOWN_SUBSCRIPTION", "no such subscription on this connection");
        this.subs.delete(sub.id);
        this.stopIfIdle();
        return this.send(ws, { jsonrpc: "2.0", id, result: true });
      }
      throw new SubscribeError(-32601, "METHOD_NOT_FOUND", `unknown method ${o.method}: this socket takes subscribe and unsubscribe`);
    } catch (e) {
      const err = e instanceof SubscribeError ? e : new SubscribeError(-32603, "INTERNAL", "internal error");
      this.send(ws, { jsonrpc: "2.0", id, error: { code: err.code, message: err.message, data: { code: err.reason } } });
    }
  }

  private subscribe(ws: WebSocket, params: Record<string, unknown>): Subscription {
    const topic = params.topic;
    if (typeof topic !== "string" || !TOPICS.includes(topic as Topic)) throw new SubscribeError(-32602, "INVALID_PARAMS", `params.topic must be one of ${TOPICS.join(", ")}`);
    if ([...this.subs.values()].filter((s) => s.socket === ws).length >= MAX_SUBSCRIPTIONS) throw new SubscribeError(-32602, "TOO_MANY_SUBSCRIPTIONS", `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    const id = `s${this.nextId++}`;
    let sub: Subscription = { id, topic: topic as Topic, socket: ws };
    if (topic === "tx") {
      const hash = params.hash;
      if (typeof hash !== "string" || !/^[0-9a-f]{64}$/i.test(hash)) throw new SubscribeError(-32602, "INVALID_PARAMS", "params.hash must be a transaction hash: 64 hex digits");
      sub = { ...sub, hash: fromHex(hash.toLowerCase()) };
    }
    if (topic === "messages") {
      try {
        sub = { ...sub, to: parseAddress(String(params.to ?? "")) };
      } catch (e) {
        if (e instanceof AddressError) throw new SubscribeError(-32602, e.code, `params.to: ${e.message}`);
        throw e;
      }
    }
    this.subs.set(id, sub);
    if (this.seen === null) this.seen = this.snapshot();
    if (this.timer === null) this.timer = setInterval(() => this.poll(), this.pollMs);
    return sub;
  }

  private snapshot(): Seen {
    const proposals = this.source.reads.proposals();
    const params = this.source.reads.params().params as { name: string; value: string }[];
    return {
      height: this.source.reads.chain().tip.height,
      finalized: this.source.reads.finalizedHeight(),
      params: new Map(params.map((p) => [p.name, p.value])),
      open: new Map(proposals.open.map((p) => [p.id as number, { parameter: p.parameter as string, value: p.value as string }])),
      scheduled: new Map(proposals.scheduled.map((s) => [s.proposalId as number, { parameter: s.parameter as string, value: s.value as string, effectiveHeight: s.effectiveHeight as number }])),
    };
  }

  private emit(topic: Topic, event: Record<string, unknown>, match: (s: Subscription) => boolean = () => true): void {
    for (const s of this.subs.values()) if (s.topic === topic && match(s)) this.send(s.socket, { jsonrpc: "2.0", method: "event", params: { subscription: s.id, topic, event } });
  }

  private emitTxStatus(sub: Subscription): void {
    const status = this.source.reads.txStatus(sub.hash as Uint8Array);
    const key = status === null ? "unknown" : `${status.status}@${status.height ?? ""}`;
    if (key === sub.lastStatus) return;
    sub.lastStatus = key;
    this.send(sub.socket, { jsonrpc: "2.0", method: "event", params: { subscription: sub.id, topic: "tx", event: { hash: toHex(sub.hash as Uint8Array), status: status?.status ?? "unknown", height: status?.height ?? null } } });
  }

  /** One look at the chain: new blocks (and the messages in them), finality, transactions, proposals. */
  private poll(): void {
    const before = this.seen;
    if (before === null) return;
    try {
      this.compare(before, this.snapshot());
    } catch (e) {
      // A node stopping between polls has nothing to report (the sockets close with the API); anything
      // else is logged, and the next look tries again: a feed must never take the node down.
      if (!(e instanceof MeshChainError && e.code === "NOT_RUNNING")) this.onFault?.(e);
    }
  }

  private compare(before: Seen, now: Seen): void {
    const store = this.source.reads.chain();
    // A chain that went back (another branch above finality) is reported from its new tip on.
    for (let h = Math.min(before.height, now.height) + 1; h <= now.height; h++) {
      const block = store.blockAt(h);
      if (block === null) continue;
      this.emit("newHeads", { height: h, hash: toHex(store.blockHashAt(h)), slot: block.header.slot, timestamp: block.header.timestamp, proposer: formatAddress(block.header.proposer), txs: block.txs.length });
      for (const tx of block.txs) {
        const body = tx.tx.body;
        if (body.kind === TxKind.Message) this.emit("messages", { ...describeTx(tx), height: h }, (s) => s.to !== undefined && bytesEqual(s.to, body.to));
        if (body.kind === TxKind.GovProposal || body.kind === TxKind.GovVote) this.emit("governance", { type: body.kind === TxKind.GovProposal ? "proposed" : "voted", height: h, ...describeTx(tx) });
      }
    }
    if (now.finalized > before.finalized) this.emit("finalized", { height: now.finalized, hash: toHex(store.blockHashAt(now.finalized)) });
    for (const s of this.subs.values()) if (s.topic === "tx") this.emitTxStatus(s);
    this.governanceChanges(before, now);
    this.seen = now;
  }

  /**
   * Outcomes from the state: a change scheduled (passed), a parameter that changed (enacted), and an
   * open proposal gone with neither (rejected). A proposal passed and enacted between two looks shows
   * as enacted only.
   */
  private governanceChanges(before: Seen, now: Seen): void {
    for (const [id, change] of now.scheduled) if (!before.scheduled.has(id)) this.emit("governance", { type: "passed", proposalId: id, ...change });
    for (const [name, value] of now.params) {
      if (before.params.get(name) === value) continue;
      const scheduled = [...before.scheduled.values()].find((c) => c.parameter === name && c.value === value);
      this.emit("governance", { type: "enacted", parameter: name, value, from: before.params.get(name) ?? null, inForceFrom: scheduled?.effectiveHeight ?? latestEpochStart(now) });
    }
    for (const [id, p] of before.open) {
      if (now.open.has(id) || now.scheduled.has(id) || before.scheduled.has(id) || now.params.get(p.parameter) === p.value) continue;
      this.emit("governance", { type: "rejected", proposalId: id, parameter: p.parameter, value: p.value, height: now.height });
    }
  }

  private send(ws: WebSocket, message: unknown): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(message, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
  }
}

/**
 * A change enacted without our seeing it scheduled (it passed on an epoch's last block, or between
 * two looks) took effect at the last epoch start up to the block after the tip: changes are applied
 * at the end of the block before an epoch start, and looks are far less than an epoch apart.
 */
function latestEpochStart(now: Seen): number {
  const length = BigInt(now.params.get("epochLength") ?? "1");
  const next = now.height + 1;
  return epochOf(next, length) * Number(length);
}
