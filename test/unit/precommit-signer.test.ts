import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { checkApproval, checkPrecommit, type SignedRecord } from "../../src/core/chain/signer-safety.js";
import { signPrecommit, signVote, verifyAggregatePrecommit, verifyPrecommit, verifyVote } from "../../src/core/block/vote.js";
import { blsAggregateSignatures } from "../../src/core/crypto/bls.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { decodeParams, defaultParams, encodeParams, laterParamDefaults, paramSpecByName } from "../../src/core/state/params.js";
import { MemorySignerSafety } from "../../src/consensus/signer-safety.js";
import { SqliteSignerSafety } from "../../src/storage/signer-store.js";
import { CHAIN_ID, testIdentity } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

/*
 * The precommit's signing rule (docs/consensus.md, "Precommits"): a precommit of B (slot s) is the
 * vote rule applied to a virtual child of B at slot s + ½, so it needs nothing signed after s and
 * s at least the lock, and it raises the lock to s and closes slot s, in one durable write.
 */
const dir = tempDirsPerTest();
const hash = (n: number) => sha256(Uint8Array.of(n));
const record = (slot: number, n: number, lock: number, precommitted = false): SignedRecord => ({ slot, blockHash: hash(n), lock, ...(precommitted ? { precommitted } : {}) });

describe("the precommit rule of the signing record", () => {
  it("allows a precommit of the slot last voted in, or a later one, at or above the lock", () => {
    expect(checkPrecommit(null, 5, hash(1))).toBe("new");
    // Voted for B (slot 10) on a parent at 8: precommitting B, or another notarized block of slot 10, is allowed.
    expect(checkPrecommit(record(10, 1, 8), 10, hash(1))).toBe("new");
    expect(checkPrecommit(record(10, 1, 8), 10, hash(2))).toBe("new");
    expect(checkPrecommit(record(10, 1, 8), 12, hash(3))).toBe("new");
  });

  it("refuses a precommit once something after its slot was signed, or below the lock", () => {
    // A vote in s + 1 has moved the record past s: the two-slot rule takes over for s.
    expect(() => checkPrecommit(record(11, 1, 9), 10, hash(2))).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    expect(() => checkPrecommit(record(11, 1, 9), 8, hash(2))).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    // The lock can stand above the last signed slot's own block only through a precommit, but the check holds anyway.
    expect(() => checkPrecommit({ slot: 7, blockHash: hash(1), lock: 9 }, 8, hash(2))).toThrow(expect.objectContaining({ code: "LOCKED" }));
  });

  it("precommits one block a slot: the same again is a repeat, another is a conflict", () => {
    const last = record(10, 1, 10, true);
    expect(checkPrecommit(last, 10, hash(1))).toBe("repeat");
    expect(() => checkPrecommit(last, 10, hash(2))).toThrow(expect.objectContaining({ code: "CONFLICT" }));
  });

  it("closes the precommitted slot to votes, even for the same block, and locks on it", () => {
    const s = new MemorySignerSafety();
    s.approve(10, hash(1), 8);
    s.approvePrecommit(10, hash(1));
    expect(s.last()).toMatchObject({ slot: 10, lock: 10, precommitted: true });
    expect(() => s.approve(10, hash(1), 8)).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    expect(() => s.approve(10, hash(2), 9)).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    // The next slot's block must stand on a parent at slot 10 or later: B itself, or above.
    expect(() => s.approve(11, hash(3), 9)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    s.approve(11, hash(3), 10);
    expect(s.last()).toMatchObject({ slot: 11, lock: 10 });
    expect(s.last()?.precommitted).toBeUndefined();
    // And a vote in 11 ends precommits of 10.
    expect(() => s.approvePrecommit(10, hash(1))).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    expect(checkApproval(s.last(), 11, hash(3), 10)).toBe("repeat");
  });

  it("never lowers the lock: a precommit of a slot at the lock leaves it there", () => {
    const s = new MemorySignerSafety(record(12, 1, 12));
    s.approvePrecommit(12, hash(4));
    expect(s.last()).toMatchObject({ slot: 12, lock: 12, precommitted: true });
  });

  it("keeps the precommit and its lock in the durable record across a crash before the frame leaves", () => {
    const path = join(dir(), "signer.db");
    const a = new SqliteSignerSafety(path);
    a.approve(20, hash(1), 18);
    a.approvePrecommit(20, hash(1));
    // No close: the process dies with the record written and the signature not yet sent.
    const b = new SqliteSignerSafety(path);
    expect(b.last()).toMatchObject({ slot: 20, lock: 20, precommitted: true });
    expect(() => b.approve(20, hash(1), 18)).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    expect(() => b.approvePrecommit(20, hash(2))).toThrow(expect.objectContaining({ code: "CONFLICT" }));
    b.approvePrecommit(20, hash(1));
    expect(() => b.approve(21, hash(3), 19)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    b.approve(21, hash(3), 20);
    b.close();
    a.close();
    expect(new SqliteSignerSafety(path).last()).toEqual({ slot: 21, blockHash: hash(3), lock: 20 });
  });

  it("reads a record from before precommits (schema 2) as one that never precommitted", () => {
    const path = join(dir(), "signer.db");
    const old = new Database(path);
    old.exec("CREATE TABLE signed (id INTEGER PRIMARY KEY CHECK (id = 1), slot INTEGER NOT NULL, block_hash BLOB NOT NULL, lock_slot INTEGER);");
    old.prepare("INSERT INTO signed (id, slot, block_hash, lock_slot) VALUES (1, ?, ?, ?)").run(30, hash(1), 28);
    old.pragma("user_version = 2");
    old.close();
    const s = new SqliteSignerSafety(path);
    expect(s.last()).toEqual({ slot: 30, blockHash: hash(1), lock: 28 });
    s.approvePrecommit(30, hash(1));
    s.close();
    expect(new SqliteSignerSafety(path).last()).toMatchObject({ slot: 30, lock: 30, precommitted: true });
  });
});

describe("the precommit signature", () => {
  const keys = [0, 1, 2].map((i) => testIdentity(`validator-${i}`).bls);
  it("is of its own kind: a vote is not a precommit, nor the reverse", () => {
    const key = keys[0]!;
    const p = signPrecommit(CHAIN_ID, 7, hash(1), key);
    const v = signVote(CHAIN_ID, 7, hash(1), key);
    expect(verifyPrecommit(CHAIN_ID, 7, hash(1), p, key.publicKey)).toBe(true);
    expect(verifyPrecommit(CHAIN_ID, 7, hash(1), v, key.publicKey)).toBe(false);
    expect(verifyVote(CHAIN_ID, 7, hash(1), p, key.publicKey)).toBe(false);
    expect(verifyPrecommit(CHAIN_ID, 8, hash(1), p, key.publicKey)).toBe(false);
  });

  it("aggregates like votes", () => {
    const sigs = keys.map((k) => signPrecommit(CHAIN_ID, 7, hash(1), k));
    const agg = blsAggregateSignatures(sigs);
    expect(verifyAggregatePrecommit(CHAIN_ID, 7, hash(1), agg, keys.map((k) => k.publicKey))).toBe(true);
    expect(verifyAggregatePrecommit(CHAIN_ID, 7, hash(2), agg, keys.map((k) => k.publicKey))).toBe(false);
  });
});

describe("the finalityRule parameter", () => {
  it("is genesis-only, 0 by default and for every chain from before it, and leaves their encoding as it was", () => {
    const spec = paramSpecByName("finalityRule")!;
    expect(spec.genesisOnly).toBe(true);
    expect(defaultParams().finalityRule).toBe(0n);
    expect(laterParamDefaults()).not.toHaveProperty("finalityRule");
    const before = encodeParams(defaultParams());
    const on = encodeParams({ ...defaultParams(), finalityRule: 1n });
    expect(on.length).toBeGreaterThan(before.length);
    expect(decodeParams(on).finalityRule).toBe(1n);
    expect(decodeParams(before).finalityRule).toBe(0n);
  });
});
