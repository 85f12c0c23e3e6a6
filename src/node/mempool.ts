// About 400 lines: the pool's admission, ordering, eviction and persistence share its per-sender
// queues; every rule that reads them is here so that the bounds are enforced in one place.
import { BoundedSet } from "../core/bounded.js";
import { bytesEqual, toHex } from "../core/bytes.js";
import { addressFromPublicKey } from "../core/crypto/address.js";
import { MeshChainError } from "../core/errors.js";
import { Ledger } from "../core/state/ledger.js";
import { TxError } from "../core/state/errors.js";
import type { StateStore } from "../core/state/store.js";
import { applyTx } from "../core/state/transaction.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import { txRank } from "../core/tx/rank.js";
import { verifyTxSignature } from "../core/tx/sign.js";

export type MempoolErrorCode = "ALREADY_KNOWN" | "POOL_FULL" | "SENDER_QUOTA" | "REPLACEMENT_UNDERPRICED" | "INVALID" | "NONCE_GAP";
/** Why the pool refused a transaction; INVALID carries the state transition's reason. */
export class MempoolError extends MeshChainError<MempoolErrorCode> {
  constructor(code: MempoolErrorCode, message: string, readonly txError?: TxError) {
    super(code, message);
  }
}

export interface MempoolOptions {
  readonly chainId: string;
  readonly maxCount: number;
  readonly maxBytes: number;
  /** Pending transactions one sender may hold (consecutive nonces from its account's next). */
  readonly perSenderMax: number;
  /** Transactions one sender may place in one block. */
  readonly perSenderPerBlock: number;
  readonly recentCacheSize: number;
  /** Transactions whose nonce runs ahead of the sender's next (an earlier one not heard yet), held aside. */
  readonly maxQueued: number;
  /** Of which one sender may hold. */
  readonly maxQueuedPerSender: number;
}

export const DEFAULT_MEMPOOL_OPTIONS: Omit<MempoolOptions, "chainId"> = {
  maxCount: 2_000, maxBytes: 512 * 1024, perSenderMax: 16, perSenderPerBlock: 8, recentCacheSize: 8_192, maxQueued: 256, maxQueuedPerSender: 8,
};

/** Where the pool keeps its transactions across restarts. */
export interface MempoolPersistence {
  /** With `acceptedAtMs`, the transaction is also kept as one this node acknowledged, in the same write. */
  save(hash: Uint8Array, bytes: Uint8Array, acceptedAtMs?: number): void;
  remove(hash: Uint8Array): void;
  loadAll(): Uint8Array[];
}

/** A sender's next nonce at some state (a proposer's parent, a node's head above finality). */
export type NonceAt = (sender: Uint8Array) => number;

interface Entry {
  readonly tx: DecodedTx;
  readonly id: string;
  readonly sender: string;
  /** txRank: fee per byte, scaled by message priority. */
  readonly rank: number;
  /** Arrival order: among equal ranks the older goes first. */
  readonly seq: number;
}

/**
 * Valid transactions waiting for a block. Each is checked in full against the head state with the
 * sender's earlier pending transactions applied first; nonces are consecutive per sender.
 */
export class TxPool {
  private readonly bySender = new Map<string, Entry[]>();
  private readonly byId = new Map<string, Entry>();
  private readonly recent: BoundedSet<string>;
  /**
   * The nonce window: transactions up to `perSenderMax` nonces ahead of the sender's next, waiting
   * for the gap to fill (on a lossy channel the earlier one often arrives later, or not at all until
   * repeated). Not candidates, and checked in full only when they move into the pool.
   */
  private readonly queued = new Map<string, DecodedTx>();
  private bytes = 0;
  private arrivals = 0;
  private readonly refusals = new Map<MempoolErrorCode, number>();
  private head: { state: StateStore; height: number; slot: number };

  constructor(
    private readonly opts: MempoolOptions,
    head: { state: StateStore; height: number; slot: number },
    private readonly persistence?: MempoolPersistence,
    /**
     * The chain's slot at the wall clock now. The head is the last committed (finalized) block, often
     * several slots behind: judged for the slot after it, evidence of an offence in a slot since then
     * looks like evidence from the future, is refused and remembered, and no equivocator is slashed.
     */
    private readonly slotNow?: () => number,
  ) {
    this.head = head;
    this.recent = new BoundedSet(opts.recentCacheSize);
    for (const bytes of persistence?.loadAll() ?? []) {
      try {
        this.add(decodeTxWithBytes(bytes));
      } catch {
        // Stale after restart (included meanwhile, or no longer valid): forget it.
      }
    }
    this.pruneStore();
  }

  get size(): number {
    return this.byId.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  get perSenderPerBlock(): number {
    return this.opts.perSenderPerBlock;
  }

  /**
   * Per sender with transactions waiting in the nonce window: the nonces below the highest waiting
   * one that are neither pending nor waiting here, lowest first. Another node may hold them. With
   * `atHead`, the nonces below the sender's next at the node's head (above finality) count as held.
   */
  missingNonces(atHead?: NonceAt): { sender: Uint8Array; nonces: number[] }[] {
    const waiting = new Map<string, { sender: Uint8Array; nonces: Set<number> }>();
    for (const q of this.queued.values()) {
      const key = toHex(q.tx.sender);
      const entry = waiting.get(key) ?? { sender: q.tx.sender, nonces: new Set<number>() };
      entry.nonces.add(q.tx.nonce);
      waiting.set(key, entry);
    }
    return [...waiting.values()].flatMap(({ sender, nonces }) => {
      const missing: number[] = [];
      // Nonces the blocks above finality used are no gap (a restarted node's pool never sees them).
      const from = Math.max(this.nextNonce(sender), atHead?.(sender) ?? 0);
      for (let n = from; n < Math.max(...nonces); n++) if (!nonces.has(n)) missing.push(n);
      return missing.length === 0 ? [] : [{ sender, nonces: missing }];
    });
  }

  /** Every transaction held, pending or waiting in the nonce window (what compact blocks are rebuilt from). */
  held(): DecodedTx[] {
    return [...[...this.byId.values()].map((e) => e.tx), ...this.queued.values()];
  }

  /** Whether the transaction with this hash (hex) waits in the nonce window. */
  isQueued(id: string): boolean {
    return this.queued.has(id);
  }

  /** Whether the pool holds the transaction now, pending or waiting for its nonce. */
  holds(id: string): boolean {
    return this.byId.has(id) || this.queued.has(id);
  }

  /** Let a transaction this pool saw (and perhaps dropped) be judged again on its merits. */
  forgetSeen(id: string): void {
    this.recent.delete(id);
  }

  pendingTx(sender: Uint8Array, nonce: number): DecodedTx | undefined {
    return this.bySender.get(toHex(sender))?.find((e) => e.tx.tx.nonce === nonce)?.tx;
  }

  /** The nonce a sender's next transaction needs: its account's, after the ones pending here. */
  nextNonce(sender: Uint8Array): number {
    return new Ledger(this.head.state).account(sender).nonce + (this.bySender.get(toHex(sender))?.length ?? 0);
  }

  private remember(id: string): void {
    this.recent.add(id);
  }

  /**
   * Check the transaction on top of the sender's earlier pending ones; throws the reason it cannot apply.
   * It is judged for a block in the slot after the clock's (and never before the head's successor):
   * evidence of an offence in this slot becomes valid there, and must not be remembered as invalid
   * now; a block still built in this slot leaves it out (produceBlock skips what does not apply).
   */
  private check(pending: readonly Entry[], t: DecodedTx): void {
    const ledger = new Ledger(this.head.state);
    const params = ledger.params();
    const slot = Math.max(this.head.slot, this.slotNow?.() ?? this.head.slot) + 1;
    const ctx = { chainId: this.opts.chainId, height: this.head.height + 1, slot, params };
    for (const p of pending) applyTx(ledger, p.tx, ctx);
    applyTx(ledger, t, ctx);
  }

  /**
   * Admit a transaction, or throw MempoolError saying why not. Returns the ids it evicted. With
   * `acceptedAtMs` (a user's submission), the pool's row and the acknowledged copy are one write.
   */
  add(t: DecodedTx, acceptedAtMs?: number): string[] {
    try {
      return this.admit(t, acceptedAtMs);
    } catch (e) {
      if (e instanceof MempoolError) this.refusals.set(e.code, (this.refusals.get(e.code) ?? 0) + 1);
      throw e;
    }
  }

  /** Transactions refused (or held aside, NONCE_GAP) since start, by reason: what the pool turns away and why. */
  get refusalsByReason(): ReadonlyMap<MempoolErrorCode, number> {
    return this.refusals;
  }

  private admit(t: DecodedTx, acceptedAtMs?: number): string[] {
    const id = toHex(txHash(t.bytes));
    if (this.byId.has(id) || this.recent.has(id)) throw new MempoolError("ALREADY_KNOWN", "transaction already seen");
    const sender = toHex(t.tx.sender);
    const pending = this.bySender.get(sender) ?? [];
    const next = new Ledger(this.head.state).account(t.tx.sender).nonce + pending.length;
    const entry: Entry = { tx: t, id, sender, rank: txRank(t), seq: this.arrivals++ };
    // Same nonce as a pending one: a replacement, which must pay at least 10% more.
    const replaced = pending.findIndex((p) => p.tx.tx.nonce === t.tx.nonce);
    if (replaced >= 0) {
      const old = pending[replaced] as Entry;
      if (t.tx.fee * 10n < old.tx.tx.fee * 11n) throw new MempoolError("REPLACEMENT_UNDERPRICED", "a replacement must raise the fee by at least 10%");
      try {
        this.check(pending.slice(0, replaced), t);
      } catch (e) {
        throw this.invalid(id, e);
      }
      // Written first: a replacement the disk refuses leaves the pool as it was.
      const successors = pending.slice(replaced + 1);
      this.insert(entry, acceptedAtMs);
      this.drop(old);
      for (const later of successors) this.drop(later);
      return [old.id, ...successors.map((p) => p.id)];
    }
    if (pending.length >= this.opts.perSenderMax && t.tx.nonce >= next) throw new MempoolError("SENDER_QUOTA", `sender already has ${pending.length} pending transactions`);
    if (t.tx.nonce > next && t.tx.nonce < next + this.opts.perSenderMax) return this.queue(id, t, next);
    try {
      this.check(pending, t);
    } catch (e) {
      throw this.invalid(id, e);
    }
    const evicted = this.makeRoom(entry);
    this.insert(entry, acceptedAtMs);
    this.promote(t.tx.sender);
    return evicted;
  }

  /**
   * Hold a transaction whose nonce runs ahead. Only what can be checked now gets in: a signature by
   * the key of an account that exists (so junk costs its sender nothing and us one verify, and never a
   * place); at most `maxQueuedPerSender` per sender, one per nonce (a higher fee replaces). A full
   * queue makes room only from the sender holding the most, never from a sender within its share.
   */
  private queue(id: string, t: DecodedTx, next: number): never {
    if (this.queued.has(id)) throw new MempoolError("ALREADY_KNOWN", "transaction already queued");
    const account = new Ledger(this.head.state).account(t.tx.sender);
    const key = t.tx.publicKey ?? account.publicKey;
    const exists = account.publicKey !== null || account.balance > 0n || account.nonce > 0;
    if (!exists || key === null || !bytesEqual(addressFromPublicKey(key), t.tx.sender) || !verifyTxSignature(t, this.opts.chainId, key)) {
      this.remember(id);
      throw new MempoolError("INVALID", "a transaction held for a nonce gap needs a valid signature from an existing account");
    }
    const sender = toHex(t.tx.sender);
    const mine = [...this.queued].filter(([, q]) => toHex(q.tx.sender) === sender);
    const sameNonce = mine.find(([, q]) => q.tx.nonce === t.tx.nonce);
    if (sameNonce !== undefined) {
      if (t.tx.fee * 10n < sameNonce[1].tx.fee * 11n) throw new MempoolError("REPLACEMENT_UNDERPRICED", "a replacement must raise the fee by at least 10%");
      this.queued.delete(sameNonce[0]);
    } else if (mine.length >= this.opts.maxQueuedPerSender) {
      throw new MempoolError("SENDER_QUOTA", `sender already has ${mine.length} transactions waiting for a nonce gap`);
    } else if (this.queued.size >= this.opts.maxQueued) {
      this.evictQueuedFromLargest(sender, mine.length);
    }
    this.queued.set(id, t);
    throw new MempoolError("NONCE_GAP", `nonce ${t.tx.nonce} waits for nonce ${next}; held until the gap fills`);
  }

  /** Drop the highest nonce of the sender holding the most, if it holds more than the newcomer's sender would. */
  private evictQueuedFromLargest(newcomer: string, newcomerHolds: number): void {
    const counts = new Map<string, number>();
    for (const q of this.queued.values()) counts.set(toHex(q.tx.sender), (counts.get(toHex(q.tx.sender)) ?? 0) + 1);
    const [largest, held] = [...counts].sort((a, b) => b[1] - a[1])[0] as [string, number];
    if (largest === newcomer || held <= newcomerHolds + 1) throw new MempoolError("POOL_FULL", "the queue of transactions waiting for a nonce gap is full");
    const victim = [...this.queued].filter(([, q]) => toHex(q.tx.sender) === largest).sort((a, b) => b[1].tx.nonce - a[1].tx.nonce)[0] as [string, DecodedTx];
    this.queued.delete(victim[0]);
  }

  /** Move queued transactions of `sender` whose turn has come into the pool (each checked in full). */
  private promote(sender: Uint8Array): void {
    const key = toHex(sender);
    for (;;) {
      const next = this.nextNonce(sender);
      const found = [...this.queued].find(([, q]) => q.tx.nonce === next && toHex(q.tx.sender) === key);
      if (found === undefined) return;
      this.queued.delete(found[0]);
      try {
        this.add(found[1]);
      } catch (e) {
        if (!(e instanceof MempoolError)) throw e;
        return;
      }
    }
  }

  private invalid(id: string, e: unknown): MempoolError {
    if (!(e instanceof TxError)) throw e;
    this.remember(id);
    return new MempoolError("INVALID", `${e.code}: ${e.message}`, e);
  }

  private insert(e: Entry, acceptedAtMs?: number): void {
    // On disk first: a transaction the pool holds is one it can hold across a restart (a full disk refuses it whole).
    this.persistence?.save(txHash(e.tx.bytes), e.tx.bytes, acceptedAtMs);
    const list = this.bySender.get(e.sender) ?? [];
    list.push(e);
    list.sort((a, b) => a.tx.tx.nonce - b.tx.tx.nonce);
    this.bySender.set(e.sender, list);
    this.byId.set(e.id, e);
    this.bytes += e.tx.bytes.length;
    this.remember(e.id);
  }

  private drop(e: Entry): void {
    const list = (this.bySender.get(e.sender) ?? []).filter((x) => x.id !== e.id);
    if (list.length === 0) this.bySender.delete(e.sender);
    else this.bySender.set(e.sender, list);
    if (this.byId.delete(e.id)) this.bytes -= e.tx.bytes.length;
    this.persistence?.remove(txHash(e.tx.bytes));
  }

  /**
   * Over a cap, the worst evictable entries (each the last nonce of its sender, so no gap opens) make
   * way, but only while they rank below the newcomer; otherwise the newcomer is refused.
   */
  private makeRoom(newcomer: Entry): string[] {
    const evicted: string[] = [];
    const over = () => this.byId.size + 1 > this.opts.maxCount || this.bytes + newcomer.tx.bytes.length > this.opts.maxBytes;
    while (over()) {
      let worst: Entry | null = null;
      for (const list of this.bySender.values()) {
        const last = list[list.length - 1] as Entry;
        if (last.sender === newcomer.sender) continue;
        if (worst === null || last.rank < worst.rank) worst = last;
      }
      if (worst === null || worst.rank >= newcomer.rank) throw new MempoolError("POOL_FULL", "the pool is full of better-paying transactions");
      this.drop(worst);
      evicted.push(worst.id);
    }
    return evicted;
  }

  /**
   * Transactions for a block, best first: repeatedly the best-ranked next transaction of any sender
   * (the older on a tie, so that a transaction left out of a block with a newer one of its rank was
   * missing at the proposer, see OverlookedTxs), keeping each sender's nonce order and at most
   * `perSenderPerBlock` per sender. With `atHead` (the proposer's parent above finality), each
   * sender's sequence starts at its next nonce there, continuing into the nonce window: the parent's
   * blocks may carry the nonces the window waits on, and a sequence counted from finality would
   * offer only what the parent already holds (produceBlock checks each in full).
   */
  candidates(atHead?: NonceAt): DecodedTx[] {
    const cursors = (atHead === undefined ? [...this.bySender.values()] : this.sequencesFrom(atHead)).map((list) => ({ list, i: 0 }));
    const out: DecodedTx[] = [];
    for (;;) {
      let best: { list: Entry[]; i: number } | null = null;
      for (const c of cursors) {
        if (c.i >= c.list.length || c.i >= this.opts.perSenderPerBlock) continue;
        const e = c.list[c.i] as Entry;
        const b = best === null ? null : (best.list[best.i] as Entry);
        if (b === null || e.rank > b.rank || (e.rank === b.rank && e.seq < b.seq)) best = c;
      }
      if (best === null) return out;
      out.push((best.list[best.i] as Entry).tx);
      best.i++;
    }
  }

  /** Each sender's transactions from its next nonce at `atHead`: pending ones, then consecutive ones from the window. */
  private sequencesFrom(atHead: NonceAt): Entry[][] {
    const window = new Map<string, Map<number, DecodedTx>>();
    for (const q of this.queued.values()) {
      const key = toHex(q.tx.sender);
      window.set(key, (window.get(key) ?? new Map<number, DecodedTx>()).set(q.tx.nonce, q));
    }
    const senders = new Map([...this.bySender.values()].map((l) => [(l[0] as Entry).sender, (l[0] as Entry).tx.tx.sender]));
    for (const q of this.queued.values()) senders.set(toHex(q.tx.sender), q.tx.sender);
    const out: Entry[][] = [];
    for (const [key, address] of senders) {
      const from = atHead(address);
      const list = (this.bySender.get(key) ?? []).filter((e) => e.tx.tx.nonce >= from);
      const held = window.get(key);
      // Arrival order is unknown for the window's: they rank after every pending one of their rank.
      for (let n = Math.max(from, this.nextNonce(address)); held?.has(n) === true; n++) {
        const t = held.get(n) as DecodedTx;
        list.push({ tx: t, id: toHex(txHash(t.bytes)), sender: key, rank: txRank(t), seq: this.arrivals + n });
      }
      if (list.length > 0) out.push(list);
    }
    return out;
  }

  /** A new head: drop what it included or made invalid, re-checking every sender's sequence. */
  onNewHead(head: { state: StateStore; height: number; slot: number }): void {
    this.head = head;
    const ledger = new Ledger(head.state);
    for (const [id, q] of [...this.queued]) if (q.tx.nonce < ledger.account(q.tx.sender).nonce) this.queued.delete(id);
    for (const list of [...this.bySender.values()]) {
      const kept: Entry[] = [];
      for (const e of list) {
        try {
          this.check(kept, e.tx);
          kept.push(e);
        } catch (err) {
          if (!(err instanceof TxError)) throw err;
          this.drop(e);
        }
      }
    }
    for (const sender of new Map([...this.queued.values()].map((q) => [toHex(q.tx.sender), q.tx.sender])).values()) this.promote(sender);
  }

  /** Take a transaction back out, whether pending or held for its nonce (its acceptance could not be kept). */
  discard(id: string): void {
    this.queued.delete(id);
    this.recent.delete(id);
    const e = this.byId.get(id);
    if (e !== undefined) this.drop(e);
  }

  removeFinal(ids: readonly string[]): void {
    for (const id of ids) {
      const e = this.byId.get(id);
      if (e !== undefined) this.drop(e);
    }
  }

  private pruneStore(): void {
    if (this.persistence === undefined) return;
    const live = new Set(this.byId.keys());
    for (const bytes of this.persistence.loadAll()) {
      const hash = txHash(bytes);
      if (!live.has(toHex(hash))) this.persistence.remove(hash);
    }
  }
}
