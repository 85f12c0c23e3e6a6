import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import type { ParentInfo } from "../../src/core/state/block-transition.js";
import { ChainStore, type CommitEntry } from "../../src/storage/chain-store.js";
import { CHAIN_ID, COIN, testChain, transfer } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

/*
 * A batch commit writes each state key once, with the last block's value (the chain's meta changes in
 * every block): the stored state must still be the state after the batch, and every block's undo
 * record the state before that block, with keys several blocks of the batch wrote.
 */

const dir = tempDirsPerTest();

describe("chain store: a batch of blocks in one commit", () => {
  const { genesis, validators, users } = testChain();
  const v = validators[0]!;

  it("stores the state after the batch, and reverts block by block to each parent's exact state", () => {
    const path = join(dir(), "chain.db");
    const store = ChainStore.open(path, genesis);
    const state = store.state.clone();
    let parent: ParentInfo = store.tip;
    const entries: CommitEntry[] = [];
    const roots = [toHex(store.state.root)];
    for (let i = 0; i < 5; i++) {
      // The same sender in every block with a transaction, and a key (user 2) deleted by none but credited twice.
      const txs = i % 2 === 0 ? [transfer(users[0]!, i / 2, users[2]!.address, COIN)] : [];
      const produced = produceBlock(state, { chainId: CHAIN_ID, parent, slot: parent.slot + 1, timestamp: parent.timestamp + 10, candidates: txs, certificate: null, proposer: { address: v.address, bls: v.bls } });
      expect(produced.rejected).toEqual([]);
      state.commit(produced.applied.changes, produced.applied.tree);
      roots.push(toHex(produced.applied.stateRoot));
      entries.push({ block: produced.block, applied: produced.applied, notarization: null });
      const h = produced.block.header;
      parent = { height: h.height, hash: produced.applied.hash, slot: h.slot, timestamp: h.timestamp };
    }
    // Finality at block 2: undo records only for blocks 3 to 5.
    store.commitBatch(entries, 2);
    expect(toHex(store.state.root)).toBe(roots[5]);
    // The root comes with the tree handed in: the keys and values held in memory must match too.
    const entriesOf = (s: typeof state) => [...s.sortedEntries()].map((e) => `${toHex(e.key)}=${toHex(e.value)}`);
    expect(entriesOf(store.state)).toEqual(entriesOf(state));
    store.close();
    // Opening checks the stored state against the tip's state root.
    const reopened = ChainStore.open(path, genesis);
    expect(toHex(reopened.state.root)).toBe(roots[5]);
    expect(entriesOf(reopened.state)).toEqual(entriesOf(state));
    expect(reopened.undoRecordCount).toBe(3);
    for (const height of [4, 3, 2]) {
      reopened.revertTip();
      expect(reopened.tip.height).toBe(height);
      expect(toHex(reopened.state.root)).toBe(roots[height]);
    }
    expect(() => reopened.revertTip()).toThrow();
    reopened.close();
    // The reverted state is what is stored, too.
    const again = ChainStore.open(path, genesis);
    expect(toHex(again.state.root)).toBe(roots[2]);
    again.close();
  });
});
