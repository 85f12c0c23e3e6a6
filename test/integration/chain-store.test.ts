import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { applyBlock, type ParentInfo } from "../../src/core/state/block-transition.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { ChainStore, type CommitEntry } from "../../src/storage/chain-store.js";
import { StorageError } from "../../src/storage/errors.js";
import { generateIdentity, readKeyFile, writeKeyFile } from "../../src/storage/keystore.js";
import { CHAIN_ID, COIN, testChain, transfer } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

function extend(store: ChainStore, proposer: ReturnType<typeof testChain>["validators"][0], txs: ReturnType<typeof transfer>[], final = true) {
  const tip = store.tip;
  const produced = produceBlock(store.state, {
    chainId: CHAIN_ID, parent: tip, slot: tip.slot + 1, timestamp: tip.timestamp + 10, candidates: txs, certificate: null,
    proposer: { address: proposer.address, bls: proposer.bls },
  });
  const applied = applyBlock(store.state, produced.block, tip, { chainId: CHAIN_ID });
  store.commitBlock(produced.block, applied, null, final);
  return produced;
}

describe("chain store", () => {
  const { genesis, validators, users } = testChain();
  const v = validators[0]!;

  // A batch commit writes each state key once, with the last block's value (the chain's meta changes in
  // every block): the stored state must still be the state after the batch, and every block's undo
  // record the state before that block, with keys several blocks of the batch wrote.
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

  it("persists blocks, the transaction index and state across reopening", () => {
    const path = join(dir(), "chain.db");
    const store = ChainStore.open(path, genesis);
    const t = transfer(users[0]!, 0, users[1]!.address, 3n * COIN);
    const b1 = extend(store, v, [t]);
    extend(store, v, []);
    const root = toHex(store.state.root);
    store.close();
    const again = ChainStore.open(path, genesis);
    expect(again.tip.height).toBe(2);
    expect(toHex(again.state.root)).toBe(root);
    expect(again.txLocation(b1.applied.txHashes[0]!)).toEqual({ height: 1, position: 0 });
    expect(again.heightOf(b1.applied.hash)).toBe(1);
    expect(again.blockAt(1)?.txs[0]?.bytes).toEqual(t.bytes);
    expect(new Ledger(again.state).account(users[1]!.address).balance).toBe(1_000_003n * COIN);
    again.close();
  });

  it("refuses a database of another chain", () => {
    const path = join(dir(), "chain.db");
    ChainStore.open(path, genesis).close();
    const other = testChain({ users: 5 }).genesis;
    expect(() => ChainStore.open(path, other)).toThrow(expect.objectContaining({ code: "GENESIS_MISMATCH" }));
  });

  it("detects state that does not match the tip's state root", () => {
    const path = join(dir(), "chain.db");
    const store = ChainStore.open(path, genesis);
    extend(store, v, [transfer(users[0]!, 0, users[1]!.address, COIN)]);
    store.close();
    const db = new Database(path);
    // Rewrite one account's balance behind the store's back.
    db.prepare("UPDATE state SET value = X'0500' WHERE key = (SELECT key FROM state ORDER BY key LIMIT 1)").run();
    db.close();
    let error: unknown;
    try {
      ChainStore.open(path, genesis);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("CORRUPT");
  });

  it("reverts the tip block to its parent's exact state", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    extend(store, v, [transfer(users[0]!, 0, users[1]!.address, COIN)], false);
    const root1 = toHex(store.state.root);
    const tip1 = store.tip;
    extend(store, v, [transfer(users[0]!, 1, users[2]!.address, COIN)], false);
    store.revertTip();
    expect(toHex(store.state.root)).toBe(root1);
    expect(store.tip).toEqual(tip1);
    expect(store.blockAt(2)).toBeNull();
    store.revertTip();
    expect(store.tip.height).toBe(0);
    expect(() => store.revertTip()).toThrow(expect.objectContaining({ code: "NOTHING_TO_REVERT" }));
    store.close();
  });

  it("turns a full disk into DISK_FULL and keeps the last whole block", () => {
    const path = join(dir(), "chain.db");
    const store = ChainStore.open(path, genesis);
    extend(store, v, []);
    const tip = store.tip;
    // Cap the file at its current size: the next write cannot grow it.
    const db = (store as unknown as { db: Database.Database }).db;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const many = Array.from({ length: 60 }, (_, i) => transfer(users[i % 4]!, Math.floor(i / 4), users[(i + 1) % 4]!.address, 1n + BigInt(i)));
    expect(() => extend(store, v, many)).toThrow(expect.objectContaining({ code: "DISK_FULL" }));
    expect(store.tip).toEqual(tip);
    store.close();
    const again = ChainStore.open(path, genesis);
    expect(again.tip.height).toBe(1);
    again.close();
  });

  it("forgets undo records at finality, after which those blocks cannot be reverted", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    extend(store, v, [], false);
    extend(store, v, [], false);
    expect(store.undoRecordCount).toBe(2);
    store.markFinalized(1);
    expect(store.undoRecordCount).toBe(1);
    store.revertTip();
    expect(store.tip.height).toBe(1);
    expect(() => store.revertTip()).toThrow(expect.objectContaining({ code: "NOTHING_TO_REVERT" }));
    store.close();
  });

  it("rejects a block that does not extend the tip", () => {
    const store = ChainStore.open(join(dir(), "chain.db"), genesis);
    const produced = extend(store, v, []);
    expect(() => store.commitBlock(produced.block, produced.applied)).toThrow(expect.objectContaining({ code: "NOT_TIP" }));
    store.close();
  });
});

describe("key files", () => {
  it("are written 0600, read back, and never silently overwritten", () => {
    const path = join(dir(), "node.key");
    const id = generateIdentity();
    writeKeyFile(path, id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(toHex(readKeyFile(path).address)).toBe(toHex(id.address));
    expect(() => writeKeyFile(path, generateIdentity())).toThrow(expect.objectContaining({ code: "EXISTS" }));
  });

  it("refuse loose permissions, damaged and missing files", () => {
    const d = dir();
    const path = join(d, "node.key");
    writeKeyFile(path, generateIdentity());
    chmodSync(path, 0o644);
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ code: "INSECURE_PERMISSIONS" }));
    const bad = join(d, "bad.key");
    writeFileSync(bad, "{}", { mode: 0o600 });
    expect(() => readKeyFile(bad)).toThrow(expect.objectContaining({ code: "INVALID" }));
    expect(() => readKeyFile(join(d, "missing.key"))).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });
});
