import { statfsSync } from "node:fs";
import { toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import { Ledger } from "../core/state/ledger.js";
import { txHash } from "../core/tx/codec.js";
import type { LastVote } from "../consensus/engine.js";
import { votingWeights } from "../consensus/weights.js";
import type { ChainStore } from "../storage/chain-store.js";

/** A validator as the status page shows it. */
export interface ValidatorSummary {
  readonly address: string;
  /** Stake times proximity, as consensus counts it (decimal string: it is a bigint). */
  readonly weight: string;
  /** Share of the total weight, 0 to 1. */
  readonly weightShare: number;
  readonly stake: string;
  /** How reliably its votes reached recent certificates, basis points. */
  readonly proximityBps: number;
  readonly lastVote: { readonly slot: number; readonly height: number; readonly secondsAgo: number } | null;
  readonly self: boolean;
}

export interface BlockSummary {
  readonly height: number;
  readonly hash: string;
  readonly slot: number;
  readonly timestamp: number;
  readonly proposer: string;
  readonly txs: readonly string[];
  readonly final: boolean;
}

/** The active validators with their weights and, when this node runs consensus, their last vote. */
export function validatorSummaries(store: ChainStore, lastVotes: ReadonlyMap<string, LastVote> | null, self: Uint8Array, nowMs: number): ValidatorSummary[] {
  const ledger = new Ledger(store.state);
  const weighted = votingWeights(ledger, store.tip.height);
  const total = weighted.reduce((a, w) => a + w.weight, 0n);
  const selfHex = toHex(self);
  return weighted.map((w) => {
    const key = toHex(w.address);
    const vote = lastVotes?.get(key) ?? null;
    return {
      address: formatAddress(w.address),
      weight: w.weight.toString(),
      // Parts per million keep the bigint division exact enough for a bar on a page.
      weightShare: total === 0n ? 0 : Number((w.weight * 1_000_000n) / total) / 1_000_000,
      stake: w.stake.toString(),
      proximityBps: w.proximityBps,
      lastVote: vote === null ? null : { slot: vote.slot, height: vote.height, secondsAgo: Math.max(0, Math.round((nowMs - vote.heardAtMs) / 1000)) },
      self: key === selfHex,
    };
  });
}

/** The newest `count` blocks of the store, newest first. */
export function recentBlocks(store: ChainStore, count: number): BlockSummary[] {
  const out: BlockSummary[] = [];
  for (let h = store.tip.height; h >= Math.max(1, store.baseHeight + 1, store.tip.height - count + 1); h--) {
    const block = store.blockAt(h);
    if (block === null) break;
    out.push({
      height: h, hash: toHex(store.blockHashAt(h)), slot: block.header.slot, timestamp: block.header.timestamp, proposer: formatAddress(block.header.proposer),
      txs: block.txs.map((t) => toHex(txHash(t.bytes))), final: h <= store.finalizedHeight,
    });
  }
  return out;
}

/** Free and total bytes on the data directory's file system; null where the platform cannot say. */
export function diskSpace(dir: string): { freeBytes: number; totalBytes: number } | null {
  try {
    const s = statfsSync(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** When the block at `height` was made, seconds since the epoch (genesis time for height 0). */
export function blockTimestamp(store: ChainStore, height: number, genesisTime: number): number {
  if (height === store.tip.height) return store.tip.timestamp;
  if (height <= 0) return genesisTime;
  return store.blockAt(height)?.header.timestamp ?? genesisTime;
}
