// Users' transactions, from the API to the pool and the peers: the truthful answer about each, and
// the announcer that keeps a copy on disk and announces it again until the chain includes it.
import { bytesEqual, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { MeshChainError } from "../core/errors.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import { MessageType } from "../mesh/frame.js";
import type { ChainStore } from "../storage/chain-store.js";
import { StorageError } from "../storage/errors.js";
import { FinalityStall, STALL_SLOTS } from "./finality-stall.js";
import type { Logger } from "./logger.js";
import { MempoolError, type TxPool } from "./mempool.js";
import type { NodeNetwork } from "./network.js";
import type { StorageHealth } from "./storage-health.js";
import { type AcceptedTxStore, TxAnnouncer } from "./tx-announcer.js";

/** What became of a submitted transaction (see MeshChainNode.submitTransaction). */
export type SubmitOutcome =
  | { readonly hash: string; readonly status: "accepted" }
  | { readonly hash: string; readonly status: "queued"; readonly reason: string }
  | { readonly hash: string; readonly status: "included"; readonly height: number; readonly final: boolean };

export interface SubmissionDeps {
  readonly pool: TxPool;
  readonly store: ChainStore;
  readonly announcer: TxAnnouncer;
  /** Null for a node that runs alone: nobody to pass it to. */
  readonly network: NodeNetwork | null;
  readonly health: StorageHealth;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Admit a signed transaction and pass it to peers. The answer is the truth about it: `accepted` (in
 * our pool), `queued` (its nonce runs ahead; held until the gap fills) or `included` (a resubmission of
 * one already in our chain); anything else throws the typed reason it was refused, and then nothing was
 * kept. What is accepted or queued is on disk before this returns, and is announced again until the
 * chain includes it.
 */
export function submitTransaction(deps: SubmissionDeps, bytes: Uint8Array): SubmitOutcome {
  const tx = decodeTxWithBytes(bytes);
  const hash = toHex(txHash(tx.bytes));
  let outcome: SubmitOutcome;
  try {
    outcome = admit(deps, tx, hash);
  } catch (e) {
    if (e instanceof StorageError) deps.health.report("mempool", e, "keeping a submitted transaction");
    throw e;
  }
  deps.health.healthy("mempool");
  if (outcome.status === "included") return outcome;
  // Acknowledged: nothing after this point may turn the answer into a failure.
  deps.network?.send(MessageType.Transaction, tx.bytes).catch((e: unknown) => deps.logger.warn({ hash, reason: e instanceof Error ? e.message : String(e) }, "transaction not announced"));
  deps.logger.debug({ hash, status: outcome.status }, "transaction accepted");
  return outcome;
}

/** The pool's verdict on a submission, with what it acknowledges on disk (pool row and kept copy in one write). */
function admit(deps: SubmissionDeps, tx: DecodedTx, hash: string): SubmitOutcome {
  const { pool, store, announcer } = deps;
  try {
    pool.add(tx, deps.clock.now());
    announcer.adopt(tx);
    return { hash, status: "accepted" };
  } catch (e) {
    if (!(e instanceof MempoolError)) throw e;
    if (e.code === "NONCE_GAP") {
      keep(pool, announcer, tx, hash);
      return { hash, status: "queued", reason: e.message };
    }
    // Sent again (a client retrying after a lost answer, or after our restart; or it reached us by gossip first).
    if (pool.isQueued(hash)) {
      keep(pool, announcer, tx, hash);
      return { hash, status: "queued", reason: "already held: an earlier nonce is missing" };
    }
    const pending = pool.pendingTx(tx.tx.sender, tx.tx.nonce);
    if (pending !== undefined && bytesEqual(pending.bytes, tx.bytes)) {
      // Already in the pool (and its file), by gossip or an earlier submission: accepted whatever else happens.
      try {
        announcer.track(tx);
      } catch (err) {
        deps.logger.warn({ hash, reason: (err as Error).message }, "transaction accepted, but not kept for announcing again");
      }
      return { hash, status: "accepted" };
    }
    const at = store.txLocation(txHash(tx.bytes));
    if (at !== null) return { hash, status: "included", height: at.height, final: at.height <= store.finalizedHeight };
    throw e;
  }
}

/** Keep a copy of a transaction the pool holds in memory only (queued); if that cannot be written, the pool lets it go too. */
function keep(pool: TxPool, announcer: TxAnnouncer, tx: DecodedTx, hash: string): void {
  try {
    announcer.track(tx);
  } catch (e) {
    pool.discard(hash);
    throw e;
  }
}

export interface AnnouncerDeps {
  readonly store: ChainStore;
  readonly pool: TxPool;
  /** Where accepted transactions wait (mempool.db). */
  readonly accepted: AcceptedTxStore;
  /** The network now (null once stopped, or for a node that runs alone). */
  readonly network: () => NodeNetwork | null;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
  readonly slotMs: number;
  /** The node has a radio: every announcement costs a flood of airtime, so the first one again waits longer. */
  readonly onAir?: boolean;
  /** Whether a block above finality (a proposal, a notarized block) carries it; absent: only the store is asked. */
  readonly inUnfinalizedBlock?: (hash: Uint8Array) => boolean;
  /** Transactions in the blocks above finality (the engine's view); absent: none known. */
  readonly unfinalizedTxCount?: () => number;
}

/**
 * Transactions accepted from this node's users are announced again until included: on a backoff
 * from two slots to 32 (on a radio from six: LongFast's median finality is two to four slots, and a
 * transaction waiting in every pool for room in a block needs no second flood), and at once to a link
 * that comes back or, off the air, a peer that joins. On the air, not while finality stalls with
 * transactions in blocks: the backlog's copies were most of the airtime that kept the stall going.
 */
export function startAnnouncer(deps: AnnouncerDeps): TxAnnouncer {
  const { store, pool, slotMs } = deps;
  // On the air a finality stall is the channel's (finality-stall.ts): announcements again wait it out.
  const stall = deps.onAir === true ? new FinalityStall(deps.clock, STALL_SLOTS * slotMs) : null;
  const announcer = new TxAnnouncer({ baseMs: (deps.onAir === true ? 6 : 2) * slotMs, maxMs: 32 * slotMs }, {
    clock: deps.clock, logger: deps.logger, random: deps.random, store: deps.accepted,
    send: (tx) => void deps.network()?.send(MessageType.Transaction, tx.bytes),
    place: (hash) => {
      const at = store.txLocation(hash);
      // A validator commits only final blocks: what waits for finality is in its engine's tree, and a
      // validator that proposed it has it, so it need not go on air again.
      if (at === null) return deps.inUnfinalizedBlock?.(hash) === true ? "in-chain" : "absent";
      return at.height <= store.finalizedHeight ? "final" : "in-chain";
    },
    readmit: (tx) => {
      const id = toHex(txHash(tx.bytes));
      if (pool.holds(id)) return "held";
      // Evicted, or dropped at a head that was later undone: judged again on its merits, not refused as seen.
      pool.forgetSeen(id);
      try {
        pool.add(tx);
      } catch (e) {
        if (e instanceof MempoolError && e.code === "INVALID") return "cannot-apply";
        if (!(e instanceof MeshChainError)) throw e;
      }
      return "held";
    },
    holdBack: () => stall?.stalled(store.finalizedHeight, deps.unfinalizedTxCount?.() ?? 0) === true,
  });
  deps.network()?.onLinkConnected(() => announcer.announceAll());
  // Over IP a peer that joins gets what it missed at the cost of a few packets. On a radio one hello
  // is heard by every node at once, and each flooded all it had not seen final (devnet seed 3 with
  // --kill: 45 transactions at one instant, in a finality stall); relays of them filled every radio's
  // queue, which dropped a proposal. A newcomer on the air gets what it lacks by asking (missing
  // block transactions, nonce gaps) and from the backoff.
  if (deps.onAir !== true) deps.network()?.onPeerJoined(() => announcer.announceAll());
  announcer.start();
  return announcer;
}
