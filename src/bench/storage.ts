import { statSync } from "node:fs";
import { join } from "node:path";
import { decodeBlock } from "../core/block/block.js";
import type { Genesis } from "../core/genesis.js";
import { applyBlock } from "../core/state/block-transition.js";
import { ChainStore, type CommitEntry } from "../storage/chain-store.js";
import type { Measurement } from "./harness.js";

const PRUNE_KEEP_BLOCKS = 1_000;

/** Size of a closed SQLite file (its WAL is checkpointed into it on close), in bytes. */
const fileBytes = (path: string): number => statSync(path).size;

/**
 * Database size per 10,000 blocks, for the stores the sync benchmark left: the validator's (blocks
 * committed final: no undo records), the follower's (range sync: undo records only above finality),
 * and the same chain replayed into a follower store with `--prune` keeping 1,000 bodies.
 */
export function storageMeasurements(genesis: Genesis, chainId: string, validatorDb: string, followerDb: string, workDir: string): Measurement[] {
  const source = ChainStore.open(validatorDb, genesis);
  const blocks = source.tip.height;
  const undoKept = source.undoRecordCount;
  const prunedPath = join(workDir, "pruned.db");
  const pruned = ChainStore.open(prunedPath, genesis, { keepBodies: PRUNE_KEEP_BLOCKS });
  try {
    let batch: CommitEntry[] = [];
    const state = pruned.state.clone();
    let parent = pruned.tip;
    for (let h = 1; h <= blocks; h++) {
      const block = decodeBlock(source.blockBytesAt(h) as Uint8Array);
      const applied = applyBlock(state, block, parent, { chainId });
      state.commit(applied.changes, applied.tree);
      parent = { height: h, hash: applied.hash, slot: block.header.slot, timestamp: block.header.timestamp, stateRoot: applied.stateRoot };
      batch.push({ block, applied, notarization: null });
      if (batch.length === 256 || h === blocks) {
        // Finality two blocks behind the tip, as a follower of a multi-validator chain sees it.
        pruned.commitBatch(batch, Math.max(pruned.finalizedHeight, h - 2));
        batch = [];
      }
    }
  } finally {
    source.close();
    pruned.close();
  }
  // The follower stops where the benchmark asked, which may be below the cached chain's tip.
  const followerStore = ChainStore.open(followerDb, genesis);
  const followerBlocks = followerStore.tip.height;
  followerStore.close();
  const per10k = (bytes: number, of = blocks) => (bytes / of) * 10_000 / 1e6;
  const note = (what: string) => `${what}; ${blocks.toLocaleString("en-US")} blocks, every twentieth with five transfers`;
  return [
    { name: "database: validator (blocks final at commit)", value: per10k(fileBytes(validatorDb)), unit: "MB per 10,000 blocks", note: note(`${undoKept} undo records kept`) },
    { name: "database: follower after range sync", value: per10k(fileBytes(followerDb), followerBlocks), unit: "MB per 10,000 blocks", note: `undo records only above finality; ${followerBlocks.toLocaleString("en-US")} blocks` },
    { name: `database: follower with --prune (${PRUNE_KEEP_BLOCKS.toLocaleString("en-US")} bodies kept)`, value: per10k(fileBytes(prunedPath)), unit: "MB per 10,000 blocks", note: note("headers and certificates kept below; freed pages are reused, the file does not shrink") },
  ];
}
