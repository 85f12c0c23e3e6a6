import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { decodeBlock } from "../../src/core/block/block.js";
import { toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { checkApproval, legacyLock, nextLock, type SignedRecord } from "../../src/core/chain/signer-safety.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { BlockImporter } from "../../src/consensus/block-import.js";
import { treeBlock } from "../../src/consensus/block-tree.js";
import { EngineContext } from "../../src/consensus/engine/context.js";
import type { EngineDeps } from "../../src/consensus/engine/types.js";
import { FinalityTracker, finalizesParent } from "../../src/consensus/finality.js";
import type { RangeBlock } from "../../src/consensus/range-verify.js";
import { MemorySignerSafety } from "../../src/consensus/signer-safety.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { SqliteSignerSafety } from "../../src/storage/signer-store.js";
import { CHAIN_ID, genesisStore, testChain } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

/*
 * The two-slot finality rule (docs/consensus.md §7): the vote rule's lock, kept in the signing record
 * across restarts; the fork choice by the highest notarized slot; a block final once its child in
 * the next slot is notarized; and range sync's finality proofs under that rule.
 */
const dir = tempDirsPerTest();
const hash = (n: number) => sha256(Uint8Array.of(n));
const record = (slot: number, n: number, lock: number): SignedRecord => ({ slot, blockHash: hash(n), lock });

describe("the vote rule's lock", () => {
  it("refuses a block whose parent's slot is below the lock, and allows one at or above it", () => {
    const last = record(10, 1, 8);
    expect(() => checkApproval(last, 11, hash(2), 7)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    expect(checkApproval(last, 11, hash(2), 8)).toBe("new");
    expect(checkApproval(last, 14, hash(2), 12)).toBe("new");
    // Signing the same block again is a repeat whatever the parent: nothing new is signed.
    expect(checkApproval(last, 10, hash(1), 0)).toBe("repeat");
    // The slot rules come first: an earlier slot is a regression even on a parent above the lock.
    expect(() => checkApproval(last, 9, hash(3), 8)).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
  });

  it("moves the lock up to the parent's slot of each block signed, never down", () => {
    const s = new MemorySignerSafety();
    s.approve(3, hash(1), 2);
    expect(s.last()?.lock).toBe(2);
    s.approve(5, hash(2), 3);
    expect(s.last()?.lock).toBe(3);
    // A block on a parent at the lock leaves it where it is.
    s.approve(9, hash(3), 3);
    expect(s.last()?.lock).toBe(3);
    expect(() => s.approve(10, hash(4), 2)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    // Refused: the record is unchanged.
    expect(s.last()).toMatchObject({ slot: 9, lock: 3 });
    expect(nextLock(s.last(), 1)).toBe(3);
  });

  it("keeps the lock in the durable record across a restart", () => {
    const path = join(dir(), "signer.db");
    const a = new SqliteSignerSafety(path);
    a.approve(20, hash(1), 19);
    a.approve(25, hash(2), 21);
    a.close();
    const b = new SqliteSignerSafety(path);
    expect(b.last()).toMatchObject({ slot: 25, lock: 21 });
    expect(() => b.approve(26, hash(3), 20)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    b.approve(26, hash(3), 21);
    b.close();
  });

  it("takes the lock a record from before locks implies: the last signed slot less one", () => {
    const path = join(dir(), "signer.db");
    // The file as the previous build left it: schema version 1, slot and block only.
    const old = new Database(path);
    old.exec("CREATE TABLE signed (id INTEGER PRIMARY KEY CHECK (id = 1), slot INTEGER NOT NULL, block_hash BLOB NOT NULL);");
    old.prepare("INSERT INTO signed (id, slot, block_hash) VALUES (1, ?, ?)").run(40, hash(1));
    old.pragma("user_version = 1");
    old.close();
    const s = new SqliteSignerSafety(path);
    expect(s.last()).toMatchObject({ slot: 40, lock: legacyLock(40) });
    expect(legacyLock(40)).toBe(39);
    // The last vote may have been for a child in the next slot of a block at 39: below that is refused.
    expect(() => s.approve(41, hash(2), 38)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    s.approve(41, hash(2), 40);
    s.close();
    expect(new SqliteSignerSafety(path).last()).toMatchObject({ slot: 41, lock: 40 });
  });
});

describe("the finality rule", () => {
  it("makes a block final when its child in the next slot is notarized", () => {
    expect(finalizesParent({ height: 4, slot: 10 }, { height: 5, slot: 11 })).toBe(true);
    expect(finalizesParent({ height: 4, slot: 10 }, { height: 5, slot: 12 })).toBe(false);
    expect(finalizesParent({ height: 4, slot: 10 }, { height: 6, slot: 11 })).toBe(false);
  });

  it("walks a notarized chain reporting each height it proves final", () => {
    const t = new FinalityTracker(2);
    expect(t.next({ height: 1, slot: 1 }, false)).toBeNull();
    expect(t.next({ height: 2, slot: 3 }, false)).toBeNull();
    expect(t.next({ height: 3, slot: 4 }, false)).toBe(2);
    const fork = t.fork();
    expect(fork.next({ height: 4, slot: 5 }, false)).toBe(3);
    // The fork moved, the original did not.
    expect(t.next({ height: 4, slot: 6 }, false)).toBeNull();
    t.reset();
    expect(t.next({ height: 5, slot: 7 }, false)).toBeNull();
    // A lone validator's block is final by its own signature.
    expect(t.next({ height: 6, slot: 9 }, true)).toBe(6);
  });
});

describe("the fork choice", () => {
  it("extends the notarized block of the highest slot, not the longest notarized chain", () => {
    const chain = testChain({ validators: 2 });
    const { store, parent } = genesisStore(chain.genesis);
    const deps = { identity: chain.validators[0], clock: new ManualClock(0) } as unknown as EngineDeps;
    const ctx = new EngineContext(chain.genesis, deps, store, parent);
    const add = (n: number, parentId: string, height: number, slot: number, notarized: boolean) => {
      const b = treeBlock(hash(n), null, parentId, { height, slot, timestamp: 0 }, store);
      b.notarized = notarized;
      ctx.blocks.set(b.id, b);
      return b;
    };
    // A longer chain at slots 1, 2, 3 and a shorter one at slot 5 on the same root.
    const a1 = add(1, ctx.root.id, 1, 1, true);
    const a2 = add(2, a1.id, 2, 2, true);
    add(3, a2.id, 3, 3, true);
    const b1 = add(4, ctx.root.id, 1, 5, true);
    expect(ctx.head().id).toBe(b1.id);
    // A block not yet notarized does not count, however high its slot.
    add(5, a2.id, 3, 9, false);
    expect(ctx.head().id).toBe(b1.id);
    expect(toHex(ctx.head().hash)).toBe(toHex(hash(4)));
  });
});

describe("range sync's finality proofs under the two-slot rule", () => {
  it("proves a block final from its own and its next-slot child's notarizations", () => {
    const chain = testChain({ validators: 3 });
    const source = ChainStore.open(join(dir(), "source.db"), chain.genesis);
    // Five blocks two slots apart (no two consecutive), then one in the very next slot.
    growChain(source, chain.validators, 5, { slotStep: 2 });
    growChain(source, chain.validators, 1, { slotStep: 1 });
    expect(source.blockAt(6)?.header.slot).toBe((source.blockAt(5)?.header.slot ?? 0) + 1);
    const answer = answerSyncRequest(source, { target: 1, fromHeight: 1, maxBlocks: 6 }, 2, 1_000_000);
    const run: RangeBlock[] = answer.blocks.map((b) => ({ block: decodeBlock(b.bytes), notarization: b.notarization }));
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const verifier = new BlsVerifier(CHAIN_ID);
    const importer = new BlockImporter({ store, chainId: CHAIN_ID, verifier });
    expect(importer.import(run).failure).toBeNull();
    // Block 6 in the slot after block 5 proves 5 final (Streamlet's rule would prove nothing here):
    // blocks 1-5 are covered, and only 5's and 6's notarizations and 6's proposer signature are pairing-checked.
    expect(store.finalizedHeight).toBe(5);
    expect(importer.coveredBlocks).toBe(5);
    expect(importer.signatureChecks).toBe(3);
    store.close();
    source.close();
  });
});
