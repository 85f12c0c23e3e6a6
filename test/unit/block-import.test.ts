import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBlock } from "../../src/core/block/block.js";
import { toHex } from "../../src/core/bytes.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { BlockImporter, commitFinalized } from "../../src/consensus/block-import.js";
import { treeBlock } from "../../src/consensus/block-tree.js";
import type { RangeBlock, Transition } from "../../src/consensus/range-verify.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, testChain } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDir, tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 3 });
const verifier = new BlsVerifier(CHAIN_ID);
const sourceDir = tempDir();

/** A transition that counts how often each block height is executed. */
function countingTransition(): { transition: Transition; runs: Map<number, number> } {
  const runs = new Map<number, number>();
  return { runs, transition: (state, block, parent, opts) => {
    runs.set(block.header.height, (runs.get(block.header.height) ?? 0) + 1);
    return applyBlock(state, block, parent, opts);
  } };
}

/** Blocks `from`..`from + count - 1` of `source`, as a peer sends them. */
function fetch(source: ChainStore, from: number, count: number): RangeBlock[] {
  const answer = answerSyncRequest(source, { target: 1, fromHeight: from, maxBlocks: count }, 2, 1_000_000);
  return answer.blocks.map((b) => ({ block: decodeBlock(b.bytes), notarization: b.notarization }));
}

describe("block import pipeline", () => {
  let source: ChainStore;
  beforeAll(() => {
    source = ChainStore.open(join(sourceDir.path, "source.db"), chain.genesis);
    growChain(source, chain.validators, 12);
  });
  afterAll(() => {
    source.close();
    sourceDir.cleanup();
  });

  it("executes each block exactly once on its way to disk, and finalizes after the commit", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const { transition, runs } = countingTransition();
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier, transition });
    for (let from = 1; from <= 12; from += 5) {
      const outcome = importer.import(fetch(source, from, 5));
      expect(outcome.failure).toBeNull();
    }
    expect(store.tip.height).toBe(12);
    expect(toHex(store.state.root)).toBe(toHex(source.state.root));
    expect([...runs.values()]).toEqual(Array(12).fill(1));
    expect(importer.executions).toBe(12);
    // Consecutive slots: a block whose child is notarized in the next slot is final (11, under 12).
    expect(store.finalizedHeight).toBe(11);
    expect(store.undoRecordCount).toBe(1);
    expect(Object.values(importer.seconds).every((s) => s >= 0)).toBe(true);
    store.close();
  });

  it("names the step and block that refused a run, and commits the prefix before it", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier });
    const run = fetch(source, 1, 6);
    // Block 6 is above the highest block the run proves final (5), so its signature is checked here.
    const bad = Uint8Array.from(run[5]!.block.header.signature);
    bad[5] = (bad[5] as number) ^ 1;
    const tampered = run.map((b, i) => (i === 5 ? { ...b, block: { ...b.block, header: { ...b.block.header, signature: bad } } } : b));
    const outcome = importer.import(tampered);
    expect(outcome.failure).toMatchObject({ step: "signatures", index: 5, code: "BAD_SIGNATURE" });
    expect(outcome.committed.length).toBe(5);
    expect(store.tip.height).toBe(5);
    // A run that does not start at our tip is another branch, caught before anything executes.
    const other = importer.import(fetch(source, 8, 2));
    expect(other.failure).toMatchObject({ step: "sanity", index: 0, code: "NOT_LINKED" });
    expect(importer.executions).toBe(6);
    store.close();
  });

  it("imports the same way when it pauses for the event loop, and counts no paused time to a step", async () => {
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const { transition, runs } = countingTransition();
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier, transition });
    let pauses = 0;
    let paused = 0;
    // Each pause takes 5 ms of someone else's time, which no step may be charged with.
    const pause = async () => {
      pauses++;
      const from = performance.now();
      while (performance.now() < from + 5) await new Promise((r) => setImmediate(r));
      paused += performance.now() - from;
    };
    const run = fetch(source, 1, 12);
    const started = performance.now();
    const outcome = await importer.importYielding(run, 0, () => false, pause);
    const wall = performance.now() - started;
    expect(outcome?.failure).toBeNull();
    expect(outcome?.superseded).toBe(false);
    // After each of the first eleven blocks, and between the steps.
    expect(pauses).toBe(13);
    expect(store.tip.height).toBe(12);
    expect(store.finalizedHeight).toBe(11);
    expect(toHex(store.state.root)).toBe(toHex(source.state.root));
    expect([...runs.values()]).toEqual(Array(12).fill(1));
    const charged = Object.values(importer.seconds).reduce((a, b) => a + b, 0);
    // Everything but the pauses, at most (a millisecond for the clock reads around them).
    expect(charged * 1000).toBeLessThanOrEqual(wall - paused + 1);
    store.close();
  });

  it("commits nothing when abandoned at a pause, or when the tip moved during one", async () => {
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier });
    let stop = false;
    const abandoned = await importer.importYielding(fetch(source, 1, 6), 0, () => stop, async () => {
      stop = true;
    });
    expect(abandoned).toBeNull();
    expect(store.tip.height).toBe(0);
    // Another import commits blocks 1-2 while ours is paused: ours was checked on a tip that is gone.
    const other = new BlockImporter({ store, chainId: CHAIN_ID, verifier });
    let moved = false;
    const outcome = await importer.importYielding(fetch(source, 1, 6), 0, () => false, async () => {
      if (moved) return;
      moved = true;
      other.import(fetch(source, 1, 2));
    });
    expect(outcome).toMatchObject({ committed: [], failure: null, superseded: true });
    expect(store.tip.height).toBe(2);
    expect(importer.committedBlocks).toBe(0);
    store.close();
  });

  it("leaves store and finality untouched when the commit fails, and imports the same run later", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier });
    importer.import(fetch(source, 1, 2));
    const db = (store as unknown as { db: Database.Database }).db;
    // Writes now fail inside the transaction, as they would on a failing card.
    db.pragma("query_only = 1");
    const tip = store.tip;
    const finalized = store.finalizedHeight;
    expect(() => importer.import(fetch(source, 3, 10))).toThrow(expect.objectContaining({ code: "IO_ERROR" }));
    expect(store.tip).toEqual(tip);
    expect(store.finalizedHeight).toBe(finalized);
    db.pragma("query_only = 0");
    expect(importer.import(fetch(source, 3, 10)).failure).toBeNull();
    expect(store.tip.height).toBe(12);
    expect(store.finalizedHeight).toBe(11);
    store.close();
  });

  it("commits what the engine finalized with the results it computed, executing nothing again", () => {
    const lone = testChain();
    const v = lone.validators[0]!;
    const store = ChainStore.open(join(dir(), "chain.db"), lone.genesis);
    let parent = treeBlock(store.tip.hash, null, null, store.tip, store.state.clone());
    const path = [];
    for (let i = 0; i < 4; i++) {
      const produced = produceBlock(parent.state, { chainId: CHAIN_ID, parent: { ...parent }, slot: parent.slot + 1, timestamp: parent.timestamp + 10, candidates: [], certificate: null, proposer: { address: v.address, bls: v.bls } });
      const state = parent.state.clone();
      state.commit(produced.applied.changes, produced.applied.tree);
      const h = produced.block.header;
      parent = treeBlock(produced.applied.hash, produced.block, parent.id, { height: h.height, slot: h.slot, timestamp: h.timestamp }, state, produced.applied);
      path.push(parent);
    }
    const { transition, runs } = countingTransition();
    const committed = commitFinalized(store, path, CHAIN_ID, transition);
    expect(committed.length).toBe(4);
    expect(runs.size).toBe(0);
    expect(store.tip.height).toBe(4);
    expect(store.finalizedHeight).toBe(4);
    expect(toHex(store.state.root)).toBe(toHex(parent.state.root));
    expect(store.undoRecordCount).toBe(0);
    // Blocks already stored are skipped, not committed twice.
    expect(commitFinalized(store, path, CHAIN_ID, transition).length).toBe(0);
    store.close();
  });
});
