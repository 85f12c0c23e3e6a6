import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { blockHash } from "../../src/core/block/header.js";
import { ChainStore, type CommitEntry } from "../../src/storage/chain-store.js";
import { CHAIN_ID, COIN, testChain, transfer } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const { genesis, validators, users } = testChain();
const v = validators[0]!;

/** `count` blocks built on the store's tip without committing them, each with a transfer. */
function buildRun(store: ChainStore, count: number, firstNonce = 0): CommitEntry[] {
  const state = store.state.clone();
  let parent = store.tip;
  const out: CommitEntry[] = [];
  for (let i = 0; i < count; i++) {
    const produced = produceBlock(state, {
      chainId: CHAIN_ID, parent, slot: parent.slot + 1, timestamp: parent.timestamp + 10, certificate: null,
      candidates: [transfer(users[0]!, firstNonce + i, users[1 + (i % 3)]!.address, COIN)],
      proposer: { address: v.address, bls: v.bls },
    });
    state.commit(produced.applied.changes, produced.applied.tree);
    out.push({ block: produced.block, applied: produced.applied, notarization: null });
    parent = { height: produced.block.header.height, hash: produced.applied.hash, slot: produced.block.header.slot, timestamp: produced.block.header.timestamp, stateRoot: produced.applied.stateRoot };
  }
  return out;
}

describe("chain store bounds", () => {
  it("a validator's store keeps no undo records: its blocks are final as they are committed", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    const counts: number[] = [];
    for (let round = 0; round < 3; round++) {
      growChain(store, validators, 10);
      counts.push(store.undoRecordCount);
    }
    expect(store.tip.height).toBe(30);
    expect(counts).toEqual([0, 0, 0]);
    store.close();
  });

  it("a follower keeps undo records only above finality, and they go when finality passes", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    store.commitBatch(buildRun(store, 10), null);
    expect(store.undoRecordCount).toBe(10);
    store.commitBatch(buildRun(store, 10, 10), 17);
    expect(store.finalizedHeight).toBe(17);
    expect(store.undoRecordCount).toBe(3);
    // What a reorganisation above finality needs is still there.
    store.revertTip();
    store.revertTip();
    store.revertTip();
    expect(store.tip.height).toBe(17);
    expect(() => store.revertTip()).toThrow(expect.objectContaining({ code: "NOTHING_TO_REVERT" }));
    store.close();
  });

  it("a batch commits like the same blocks one by one, and its undo records restore each parent", () => {
    const one = ChainStore.open(join(dir(), "one.db"), genesis);
    const batch = ChainStore.open(join(dir(), "batch.db"), genesis);
    const run = buildRun(one, 12);
    for (const e of run) one.commitBlock(e.block, e.applied, null, false);
    batch.commitBatch(run, null);
    expect(toHex(batch.state.root)).toBe(toHex(one.state.root));
    expect(batch.tip).toEqual(one.tip);
    for (let h = 12; h > 0; h--) {
      batch.revertTip();
      expect(toHex(batch.state.root)).toBe(toHex(run[h - 2]?.applied.stateRoot ?? ChainStore.genesisTip(genesis).stateRoot));
    }
    one.close();
    batch.close();
  });

  it("a batch that does not chain, or would move finality backwards or past its end, changes nothing", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    const run = buildRun(store, 4);
    const tip = store.tip;
    expect(() => store.commitBatch([run[0]!, run[2]!], null)).toThrow(expect.objectContaining({ code: "NOT_TIP" }));
    expect(() => store.commitBatch(run, 5)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    store.commitBatch(run.slice(0, 2), 2);
    expect(() => store.commitBatch(run.slice(2), 1)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    expect(store.tip.height).toBe(2);
    expect(tip.height).toBe(0);
    const reopened = join(dir(), "again.db");
    const again = ChainStore.open(reopened, genesis);
    expect(again.tip.height).toBe(0);
    again.close();
    store.close();
  });

  it("pruning keeps headers, hashes and the transaction index of old blocks and serves no body below the horizon", () => {
    const path = join(dir(), "chain.db");
    const full = ChainStore.open(join(dir(), "full.db"), genesis);
    const store = ChainStore.open(path, genesis, { keepBodies: 5 });
    const run = buildRun(full, 30);
    store.commitBatch(run.slice(0, 20), 20);
    store.commitBatch(run.slice(20), 30);
    expect(store.oldestBody).toBe(26);
    expect(store.isPruned(25)).toBe(true);
    expect(store.isPruned(26)).toBe(false);
    expect(store.blockBytesAt(25)).toBeNull();
    expect(store.blockAt(1)).toBeNull();
    expect(store.blockAt(26)?.header.height).toBe(26);
    // The sync server's range read: nothing from below the horizon, and it stops at the tip.
    expect(store.blockBytesRange(20, 30)).toEqual([]);
    expect(store.blockBytesRange(26, 40).map(toHex)).toEqual([26, 27, 28, 29, 30].map((h) => toHex(store.blockBytesAt(h)!)));
    for (const h of [1, 13, 25, 26, 30]) {
      const header = store.headerAt(h);
      expect(header).toEqual(run[h - 1]!.block.header);
      expect(toHex(blockHash(header!))).toBe(toHex(store.blockHashAt(h)));
    }
    // The transaction index still names the block a pruned transaction is in.
    expect(store.txLocation(run[0]!.applied.txHashes[0]!)).toEqual({ height: 1, position: 0 });
    store.close();
    const again = ChainStore.open(path, genesis, { keepBodies: 5 });
    expect(again.oldestBody).toBe(26);
    expect(again.headerAt(10)).toEqual(run[9]!.block.header);
    again.close();
    // Opened without pruning, the store still knows which bodies are gone.
    const plain = ChainStore.open(path, genesis);
    expect(plain.blockBytesAt(3)).toBeNull();
    plain.close();
    full.close();
  });

  it("refuses a body window that is not a positive whole number", () => {
    for (const keepBodies of [0, -3, 2.5]) {
      expect(() => ChainStore.open(join(dir(), "chain.db"), genesis, { keepBodies })).toThrow(expect.objectContaining({ code: "BAD_OPTION" }));
    }
  });

  it("keeps the state independent of pruning: a pruned and a whole store agree", () => {
    const whole = ChainStore.open(join(dir(), "whole.db"), genesis);
    const pruned = ChainStore.open(join(dir(), "pruned.db"), genesis, { keepBodies: 1 });
    const run = buildRun(whole, 8);
    whole.commitBatch(run, 8);
    for (const e of run) pruned.commitBlock(e.block, e.applied);
    expect(toHex(pruned.state.root)).toBe(toHex(whole.state.root));
    expect(pruned.oldestBody).toBe(8);
    whole.close();
    pruned.close();
  });
});
