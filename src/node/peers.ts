import { bytesEqual, fromHex, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { addressFromPublicKey } from "../core/crypto/address.js";
import type { Ledger } from "../core/state/ledger.js";
import { totalWeight, votingWeights } from "../consensus/weights.js";
import { nodeNumberFromPublicKey } from "../mesh/meshtastic/node-number.js";

/** What a peer did, as the services that dealt with it saw it. */
export type PeerEvent =
  | { readonly kind: "valid" }
  /**
   * Invalid data, with the typed reason (an error code such as BAD_SIGNATURE). It lowers the peer's
   * standing as a sync source; it bans only when `proven`: the data carried the peer's own signature,
   * so nobody else can have sent it in the peer's name (a topic or a node number proves nothing).
   */
  | { readonly kind: "invalid"; readonly reason: string; readonly proven?: boolean }
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
  /** Invalid data the peer signed itself since its last ban: only these can ban it. */
  provenStrikes: number;
  /** Timestamp (s) of the newest signed hello or status accepted: an older one is a replay. */
  lastSignedAt: number;
}

/** Why a signed hello or status changed nothing (or "joined"/"updated" when it did). */
export type HeardVerdict = "joined" | "updated" | "replayed" | "key-mismatch" | "table-full";

/** The voting weight of the current validator set by address (hex), for judging what peers claim. */
export interface StakeView {
  readonly weights: ReadonlyMap<string, bigint>;
  readonly total: bigint;
}

/** The voting weights of the set that votes at `height`, as peers' claims are judged by. */
export function stakeView(ledger: Ledger, height: number): StakeView {
  const weighted = votingWeights(ledger, height);
  return { weights: new Map(weighted.map((w) => [toHex(w.address), w.weight])), total: totalWeight(weighted) };
}

export interface PeerOptions {
  /** A peer silent this long is forgotten. */
  readonly expiryMs: number;
  /** How long a ban lasts. */
  readonly banMs: number;
  /** Invalid data signed by the peer itself, this many times, bans it. */
  readonly banStrikes: number;
  readonly maxPeers: number;
}

// Forgotten after 8 h of silence: on a radio a node speaks every status round, at most 3 h + 25%
// apart (mesh/airtime/control-rates.ts), and one round lost must not make us forget it.
export const DEFAULT_PEER_OPTIONS: PeerOptions = { expiryMs: 8 * 3_600_000, banMs: 3_600_000, banStrikes: 3, maxPeers: 256 };

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
    if (typeof r.node !== "number" || typeof r.publicKey !== "string") return null;
    // Records written before signed-statement tracking start from zero.
    return { ...r, publicKey: fromHex(r.publicKey), provenStrikes: typeof r.provenStrikes === "number" ? r.provenStrikes : 0, lastSignedAt: typeof r.lastSignedAt === "number" ? r.lastSignedAt : 0 };
  } catch {
    // A damaged record is only a forgotten peer.
    return null;
  }
}

const SCORE_MAX = 100;
/** Unproven complaints can push a peer to the back of the sync queue, never further. */
const SCORE_MIN = -100;
const PENALTY = { invalid: 40, timeout: 5 } as const;

/**
 * Peers learned from signed hello/status messages and from what the transport says about the frames
 * (hops away, SNR); scored by what they did; expired when silent; banned for a while only after
 * invalid data they signed themselves (a frame's topic or node number can be forged, a signature
 * cannot); persisted, so that a restart keeps its knowledge and its bans.
 */
export class PeerManager {
  /** Bans since start, by the reason of the peer's last invalid data (TIMEOUTS when it only timed out). */
  readonly bansByReason = new Map<string, number>();
  private readonly peers = new Map<number, PeerInfo>();

  constructor(
    private readonly opts: PeerOptions,
    private readonly deps: { clock: Clock; persistence?: PeerPersistence; stake?: () => StakeView },
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

  /**
   * A peer proved who it is (a verified hello or status signed at `signedAt`, seconds). Identity is
   * the key: a node number held by one key is not taken over by another, unless the newcomer has the
   * better claim to it: the number is derived from its key, or else its key is staked and the holder's
   * is not (a squatter gives way to the number's owner).
   * A statement older than the newest one accepted from that key is a replay and changes nothing.
   */
  heard(node: number, publicKey: Uint8Array, seen: { tipHeight: number; finalizedHeight?: number; hopsAway?: number | null; snr?: number | null; signedAt?: number }): HeardVerdict {
    const now = this.deps.clock.now();
    let known = this.peers.get(node);
    if (known !== undefined && !bytesEqual(known.publicKey, publicKey)) {
      // A better claim to the number: derived from the key, else staked (a radio's own number is
      // neither, and a fresh key squatting a validator's radio number must give way to the validator).
      const stake = this.deps.stake?.();
      const claim = (key: Uint8Array) => (nodeNumberFromPublicKey(key) === node ? 2 : (stake?.weights.get(toHex(addressFromPublicKey(key))) ?? 0n) > 0n ? 1 : 0);
      if (claim(publicKey) <= claim(known.publicKey)) return "key-mismatch";
      this.peers.delete(node);
      known = undefined;
    }
    const signedAt = seen.signedAt ?? 0;
    if (known !== undefined && signedAt < known.lastSignedAt) return "replayed";
    if (known === undefined && this.peers.size >= this.opts.maxPeers && !this.evictOne(publicKey)) return "table-full";
    const p: PeerInfo = known ?? {
      node, publicKey, tipHeight: 0, finalizedHeight: 0, hopsAway: null, snr: null, firstSeen: now, lastSeen: now, score: 0, latencyMs: null, bannedUntil: null, lastInvalidReason: null, provenStrikes: 0, lastSignedAt: 0,
    };
    p.tipHeight = seen.tipHeight;
    if (seen.finalizedHeight !== undefined) p.finalizedHeight = seen.finalizedHeight;
    if (seen.hopsAway !== undefined && seen.hopsAway !== null) p.hopsAway = seen.hopsAway;
    if (seen.snr !== undefined && seen.snr !== null) p.snr = seen.snr;
    p.lastSignedAt = signedAt;
    p.lastSeen = now;
    this.peers.set(node, p);
    this.deps.persistence?.save(p.node, serialize(p));
    return known === undefined ? "joined" : "updated";
  }

  /** The voting weight of a peer's key in the current validator set (0 for an unstaked peer). */
  weightOf(p: PeerInfo, stake: StakeView | undefined = this.deps.stake?.()): bigint {
    return stake?.weights.get(toHex(addressFromPublicKey(p.publicKey))) ?? 0n;
  }

  /**
   * The highest finalized height that peers holding more than a third of the voting weight all claim:
   * at least one honest validator vouches for it, so it may move the node (into sync, out of consensus,
   * to not ready). Unstaked peers' claims count for nothing here. Without a stake view (tools, tests),
   * the highest claim.
   */
  provenFinalizedHeight(): number {
    const stake = this.deps.stake?.();
    const live = [...this.peers.values()].filter((p) => !this.isBanned(p.node));
    if (stake === undefined) return live.reduce((m, p) => Math.max(m, p.finalizedHeight), 0);
    let weight = 0n;
    for (const p of live.sort((a, b) => b.finalizedHeight - a.finalizedHeight)) {
      weight += this.weightOf(p, stake);
      if (weight * 3n > stake.total) return p.finalizedHeight;
    }
    return 0;
  }

  record(node: number, event: PeerEvent): void {
    const p = this.peers.get(node);
    if (p === undefined) return;
    switch (event.kind) {
      case "valid":
        p.score = Math.min(SCORE_MAX, p.score + 1);
        break;
      case "invalid":
        p.score = Math.max(SCORE_MIN, p.score - PENALTY.invalid);
        p.lastInvalidReason = event.reason;
        if (event.proven === true) p.provenStrikes++;
        break;
      case "timeout":
        p.score = Math.max(SCORE_MIN, p.score - PENALTY.timeout);
        break;
      case "latency":
        p.latencyMs = p.latencyMs === null ? event.ms : Math.round(0.8 * p.latencyMs + 0.2 * event.ms);
        break;
    }
    if (p.provenStrikes >= this.opts.banStrikes && !this.isBanned(node)) {
      p.bannedUntil = this.deps.clock.now() + this.opts.banMs;
      const reason = p.lastInvalidReason ?? "INVALID";
      this.bansByReason.set(reason, (this.bansByReason.get(reason) ?? 0) + 1);
      // A ban is served in full; the peer comes back with a clean slate.
      p.score = 0;
      p.provenStrikes = 0;
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

  /**
   * The best peers to sync from: not banned; staked peers first (their claims carry weight), then
   * furthest finalized, best scored, fastest. Fresh unstaked keys cannot push a validator down the list.
   */
  syncPeers(count: number): PeerInfo[] {
    const stake = this.deps.stake?.();
    const staked = (p: PeerInfo) => (this.weightOf(p, stake) > 0n ? 1 : 0);
    return [...this.peers.values()]
      .filter((p) => !this.isBanned(p.node))
      .sort((a, b) => staked(b) - staked(a) || b.finalizedHeight - a.finalizedHeight || b.score - a.score || (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity))
      .slice(0, count);
  }

  /**
   * Make room for a newcomer: the worst unbanned peer goes, unstaked before staked, worst scored,
   * then longest silent. An unstaked newcomer never evicts a staked peer.
   */
  private evictOne(newcomer: Uint8Array): boolean {
    const stake = this.deps.stake?.();
    const weight = (p: PeerInfo) => this.weightOf(p, stake);
    const newcomerStaked = (stake?.weights.get(toHex(addressFromPublicKey(newcomer))) ?? 0n) > 0n;
    const victim = [...this.peers.values()]
      .filter((p) => !this.isBanned(p.node) && (newcomerStaked || weight(p) === 0n))
      .sort((a, b) => Number(weight(a) > 0n) - Number(weight(b) > 0n) || a.score - b.score || a.lastSeen - b.lastSeen)[0];
    if (victim === undefined) return false;
    this.peers.delete(victim.node);
    this.deps.persistence?.remove(victim.node);
    return true;
  }
}
