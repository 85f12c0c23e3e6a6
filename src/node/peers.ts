import { fromHex, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";

/** What a peer did, as the services that dealt with it saw it. */
export type PeerEvent =
  | { readonly kind: "valid" }
  /** Invalid data, with the typed reason (an error code such as BAD_SIGNATURE). */
  | { readonly kind: "invalid"; readonly reason: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "latency"; readonly ms: number };

export interface PeerInfo {
  /** The node number on the mesh (also the key the transport names senders by). */
  readonly node: number;
  readonly publicKey: Uint8Array;
  tipHeight: number;
  finalizedHeight: number;
  hopsAway: number | null;
  snr: number | null;
  firstSeen: number;
  lastSeen: number;
  score: number;
  /** Smoothed round trip of answered requests, ms. */
  latencyMs: number | null;
  bannedUntil: number | null;
  lastInvalidReason: string | null;
}

export interface PeerOptions {
  /** A peer silent this long is forgotten. */
  readonly expiryMs: number;
  /** How long a ban lasts. */
  readonly banMs: number;
  /** A score at or below this bans the peer. */
  readonly banScore: number;
  readonly maxPeers: number;
}

export const DEFAULT_PEER_OPTIONS: PeerOptions = { expiryMs: 6 * 3_600_000, banMs: 3_600_000, banScore: -100, maxPeers: 256 };

/** Where the peer table lives across restarts: one opaque record per node number. */
export interface PeerPersistence {
  save(node: number, record: string): void;
  remove(node: number): void;
  loadAll(): string[];
}

const serialize = (p: PeerInfo): string => JSON.stringify({ ...p, publicKey: toHex(p.publicKey) });

function deserialize(record: string): PeerInfo | null {
  try {
    const r = JSON.parse(record) as Omit<PeerInfo, "publicKey"> & { publicKey: string };
    return typeof r.node === "number" && typeof r.publicKey === "string" ? { ...r, publicKey: fromHex(r.publicKey) } : null;
  } catch {
    // A damaged record is only a forgotten peer.
    return null;
  }
}

const SCORE_MAX = 100;
const PENALTY = { invalid: 40, timeout: 5 } as const;

/**
 * Peers learned from signed hello/status messages and from what the transport says about the frames
 * (hops away, SNR); scored by what they did; expired when silent; banned for a while after invalid
 * data; persisted, so that a restart keeps its knowledge and its bans.
 */
export class PeerManager {
  /** Bans since start, by the reason of the peer's last invalid data (TIMEOUTS when it only timed out). */
  readonly bansByReason = new Map<string, number>();
  private readonly peers = new Map<number, PeerInfo>();

  constructor(
    private readonly opts: PeerOptions,
    private readonly deps: { clock: Clock; persistence?: PeerPersistence },
  ) {
    for (const record of deps.persistence?.loadAll() ?? []) {
      const p = deserialize(record);
      if (p !== null) this.peers.set(p.node, p);
    }
    this.expire();
  }

  get size(): number {
    return [...this.peers.values()].filter((p) => !this.isBanned(p.node)).length;
  }

  get(node: number): PeerInfo | undefined {
    return this.peers.get(node);
  }

  list(): readonly PeerInfo[] {
    return [...this.peers.values()];
  }

  /** A peer proved who it is (a verified hello or status). Returns true for a newcomer. */
  heard(node: number, publicKey: Uint8Array, seen: { tipHeight: number; finalizedHeight?: number; hopsAway?: number | null; snr?: number | null }): boolean {
    const now = this.deps.clock.now();
    const known = this.peers.get(node);
    if (known === undefined && this.peers.size >= this.opts.maxPeers && !this.evictOne()) return false;
    const p: PeerInfo = known ?? {
      node, publicKey, tipHeight: 0, finalizedHeight: 0, hopsAway: null, snr: null, firstSeen: now, lastSeen: now, score: 0, latencyMs: null, bannedUntil: null, lastInvalidReason: null,
    };
    p.tipHeight = seen.tipHeight;
    if (seen.finalizedHeight !== undefined) p.finalizedHeight = seen.finalizedHeight;
    if (seen.hopsAway !== undefined && seen.hopsAway !== null) p.hopsAway = seen.hopsAway;
    if (seen.snr !== undefined && seen.snr !== null) p.snr = seen.snr;
    p.lastSeen = now;
    this.peers.set(node, p);
    this.deps.persistence?.save(p.node, serialize(p));
    return known === undefined;
  }

  record(node: number, event: PeerEvent): void {
    const p = this.peers.get(node);
    if (p === undefined) return;
    switch (event.kind) {
      case "valid":
        p.score = Math.min(SCORE_MAX, p.score + 1);
        break;
      case "invalid":
        p.score -= PENALTY.invalid;
        p.lastInvalidReason = event.reason;
        break;
      case "timeout":
        p.score -= PENALTY.timeout;
        break;
      case "latency":
        p.latencyMs = p.latencyMs === null ? event.ms : Math.round(0.8 * p.latencyMs + 0.2 * event.ms);
        break;
    }
    if (p.score <= this.opts.banScore && !this.isBanned(node)) {
      p.bannedUntil = this.deps.clock.now() + this.opts.banMs;
      const reason = p.lastInvalidReason ?? "TIMEOUTS";
      this.bansByReason.set(reason, (this.bansByReason.get(reason) ?? 0) + 1);
      // A ban is served in full; the peer comes back with a clean slate.
      p.score = 0;
    }
    this.deps.persistence?.save(p.node, serialize(p));
  }

  isBanned(node: number): boolean {
    const until = this.peers.get(node)?.bannedUntil ?? null;
    return until !== null && this.deps.clock.now() < until;
  }

  /** Forget peers silent for longer than the expiry (bans outlive silence until they end). */
  expire(): number {
    const now = this.deps.clock.now();
    let dropped = 0;
    for (const p of [...this.peers.values()]) {
      if (now - p.lastSeen > this.opts.expiryMs && !this.isBanned(p.node)) {
        this.peers.delete(p.node);
        this.deps.persistence?.remove(p.node);
        dropped++;
      }
    }
    return dropped;
  }

  /** The best peers to sync from: not banned, furthest finalized, then best scored, then fastest. */
  syncPeers(count: number): PeerInfo[] {
    return [...this.peers.values()]
      .filter((p) => !this.isBanned(p.node))
      .sort((a, b) => b.finalizedHeight - a.finalizedHeight || b.score - a.score || (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity))
      .slice(0, count);
  }

  /** Make room for a newcomer: the worst-scored peer that is not banned goes. */
  private evictOne(): boolean {
    const victim = [...this.peers.values()].filter((p) => !this.isBanned(p.node)).sort((a, b) => a.score - b.score || a.lastSeen - b.lastSeen)[0];
    if (victim === undefined) return false;
    this.peers.delete(victim.node);
    this.deps.persistence?.remove(victim.node);
    return true;
  }
}
