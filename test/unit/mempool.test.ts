import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { signVote } from "../../src/core/block/vote.js";
import { toHex } from "../../src/core/bytes.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { decodeTxWithBytes, encodeTx, txHash } from "../../src/core/tx/codec.js";
import { EvidenceType, MessagePriority, TxKind } from "../../src/core/tx/types.js";
import { DEFAULT_MEMPOOL_OPTIONS, MempoolError, TxPool } from "../../src/node/mempool.js";
import { SqliteMempoolStore } from "../../src/storage/mempool-store.js";
import { CHAIN_ID, COIN, genesisStore, nextBlock, testChain, testIdentity, transfer, tx } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

function setup(over: Partial<typeof DEFAULT_MEMPOOL_OPTIONS> = {}) {
  const c = testChain({ users: 6 });
  const chain = genesisStore(c.genesis);
  const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, ...over, chainId: CHAIN_ID }, { state: chain.store, height: 0, slot: 0 });
  return { ...c, chain, pool };
}

function refused(f: () => unknown): { code: string; txCode?: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof MempoolError) return { code: e.code, txCode: e.txError?.code };
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("mempool", () => {
  it("validates fully against the head state, with the sender's pending transactions applied first", () => {
    const { pool, users } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    pool.add(transfer(a, 0, b.address, 10n * COIN));
    pool.add(transfer(a, 1, b.address, 10n * COIN));
    expect(refused(() => pool.add(transfer(a, 40, b.address, COIN)))).toEqual({ code: "INVALID", txCode: "NONCE_TOO_HIGH" });
    expect(refused(() => pool.add(transfer(a, 0, b.address, COIN, { fee: 2_000n })))).toEqual({ code: "REPLACEMENT_UNDERPRICED", txCode: undefined });
    expect(refused(() => pool.add(transfer(a, 2, b.address, 999_990n * COIN)))).toEqual({ code: "INVALID", txCode: "INSUFFICIENT_BALANCE" });
    expect(refused(() => pool.add(tx(testIdentity("nobody"), 0, { kind: TxKind.Transfer, to: b.address, amount: 1n })))).toEqual({ code: "INVALID", txCode: "PUBLIC_KEY_UNKNOWN" });
    const forged = decodeTxWithBytes(encodeTx({ ...transfer(a, 2, b.address, 1n).tx, signature: new Uint8Array(64) }));
    expect(refused(() => pool.add(forged))).toEqual({ code: "INVALID", txCode: "BAD_SIGNATURE" });
    const t = transfer(a, 2, b.address, 1n);
    pool.add(t);
    expect(refused(() => pool.add(t)).code).toBe("ALREADY_KNOWN");
    expect(pool.size).toBe(3);
  });

  it("offers the older of two equally ranked transactions first", () => {
    const { pool, users } = setup();
    const [a, b, c] = users as [typeof users[0], typeof users[0], typeof users[0]];
    // c's sender joined the pool first, but a's transaction arrived before c's second one.
    pool.add(transfer(c, 0, b.address, COIN));
    pool.add(transfer(a, 0, b.address, COIN));
    pool.add(transfer(c, 1, b.address, COIN));
    const order = pool.candidates().map((t) => [toHex(t.tx.sender) === toHex(a.address) ? "a" : "c", t.tx.nonce]);
    expect(order).toEqual([["c", 0], ["a", 0], ["c", 1]]);
  });

  it("holds a transaction that runs ahead of its sender's next nonce until the gap fills", () => {
    const { pool, users } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    const third = transfer(a, 2, b.address, COIN);
    expect(refused(() => pool.add(third))).toEqual({ code: "NONCE_GAP", txCode: undefined });
    // The gap it waits on is what the node asks the mesh for.
    expect(pool.missingNonces()).toEqual([{ sender: a.address, nonces: [0, 1] }]);
    expect(refused(() => pool.add(transfer(a, 1, b.address, COIN))).code).toBe("NONCE_GAP");
    expect(pool.missingNonces()).toEqual([{ sender: a.address, nonces: [0] }]);
    expect(refused(() => pool.add(third)).code).toBe("ALREADY_KNOWN");
    expect(pool.size).toBe(0);
    expect(pool.pendingTx(a.address, 2)).toBeUndefined();
    // The missing first one arrives: all three move in, in nonce order, each checked in full.
    const first = transfer(a, 0, b.address, COIN);
    pool.add(first);
    expect(pool.size).toBe(3);
    expect(pool.candidates().map((t) => t.tx.nonce)).toEqual([0, 1, 2]);
    expect(pool.missingNonces()).toEqual([]);
    expect(pool.pendingTx(a.address, 0)).toEqual(first);
  });

  it("lists everything it holds, past the per-block quota and in the nonce window (compact blocks are rebuilt from it)", () => {
    const { pool, users } = setup({ perSenderPerBlock: 2 });
    const [a, b] = users as [typeof users[0], typeof users[0]];
    for (let n = 0; n < 4; n++) pool.add(transfer(a, n, b.address, COIN));
    const ahead = transfer(a, 6, b.address, COIN);
    expect(refused(() => pool.add(ahead)).code).toBe("NONCE_GAP");
    expect(pool.candidates().map((t) => t.tx.nonce)).toEqual([0, 1]);
    expect(pool.held().map((t) => t.tx.nonce).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 6]);
  });

  it("replaces a pending transaction that pays 10% more, dropping its successors", () => {
    const { pool, users } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    pool.add(transfer(a, 0, b.address, 1n, { fee: 2_000n }));
    pool.add(transfer(a, 1, b.address, 1n, { fee: 2_000n }));
    const evicted = pool.add(transfer(a, 0, b.address, 2n, { fee: 2_200n }));
    expect(evicted).toHaveLength(2);
    expect(pool.size).toBe(1);
  });

  it("orders by fee rate and message priority, keeps nonce order, and caps one sender per block", () => {
    const { pool, users } = setup({ perSenderPerBlock: 2 });
    const [a, b, c] = users as [typeof users[0], typeof users[0], typeof users[0]];
    for (let n = 0; n < 4; n++) pool.add(transfer(a, n, b.address, 1n, { fee: 50_000n }));
    pool.add(transfer(b, 0, a.address, 1n, { fee: 5_000n }));
    pool.add(tx(c, 0, { kind: TxKind.Message, to: a.address, priority: MessagePriority.Urgent, payload: new Uint8Array(20).fill(1) }, { fee: 4_000n }));
    // Rates: a 50,000/88 ≈ 568; c 4,000/106 ≈ 38, doubled for urgency ≈ 75; b 5,000/88 ≈ 57.
    const order = pool.candidates().map((t) => [toHex(t.tx.sender).slice(0, 4), t.tx.nonce]);
    expect(order).toEqual([[toHex(a.address).slice(0, 4), 0], [toHex(a.address).slice(0, 4), 1], [toHex(c.address).slice(0, 4), 0], [toHex(b.address).slice(0, 4), 0]]);
  });

  it("enforces the per-sender quota and caps, evicting only worse entries", () => {
    const { pool, users } = setup({ perSenderMax: 2, maxCount: 3 });
    const [a, b, c, d] = users as [typeof users[0], typeof users[0], typeof users[0], typeof users[0]];
    pool.add(transfer(a, 0, b.address, 1n, { fee: 2_000n }));
    pool.add(transfer(a, 1, b.address, 1n, { fee: 2_000n }));
    expect(refused(() => pool.add(transfer(a, 2, b.address, 1n))).code).toBe("SENDER_QUOTA");
    pool.add(transfer(b, 0, a.address, 1n, { fee: 3_000n }));
    expect(refused(() => pool.add(transfer(c, 0, a.address, 1n, { fee: 1_000n }))).code).toBe("POOL_FULL");
    const evicted = pool.add(transfer(d, 0, a.address, 1n, { fee: 9_000n }));
    expect(evicted).toHaveLength(1);
    expect(pool.size).toBe(3);
  });

  it("re-checks after every block and forgets what became final", () => {
    const { pool, users, chain, validators } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    const t0 = transfer(a, 0, b.address, 1n);
    const t1 = transfer(a, 1, b.address, 1n);
    pool.add(t0);
    pool.add(t1);
    nextBlock(chain, validators[0]!, [t0]);
    pool.onNewHead({ state: chain.store, height: chain.parent.height, slot: chain.parent.slot });
    expect(pool.size).toBe(1);
    expect(pool.candidates()[0]!.tx.nonce).toBe(1);
    pool.removeFinal([toHex(txHash(t1.bytes))]);
    expect(pool.size).toBe(0);
  });

  it("judges evidence for the slot after the clock's, not after its head's: an offence since the last final block gets in", () => {
    const c = testChain({ validators: 2 });
    const chain = genesisStore(c.genesis);
    const [v0, v1] = c.validators as [typeof c.validators[0], typeof c.validators[0]];
    const head = { state: chain.store, height: 0, slot: 0 };
    const doubleVote = (nonce: number, slot: number) => {
      const [a, b] = [sha256(Uint8Array.of(1)), sha256(Uint8Array.of(2))];
      const evidence = { type: EvidenceType.DoubleVote as const, validator: v1.address, slot, first: { blockHash: a, signature: signVote(CHAIN_ID, slot, a, v1.bls) }, second: { blockHash: b, signature: signVote(CHAIN_ID, slot, b, v1.bls) } };
      return tx(v0, nonce, { kind: TxKind.Evidence, evidence }, { fee: 20_000n });
    };
    // Judged for the head's successor (slot 1), an offence in slot 5 looks like one from the future:
    // the engine's own evidence was refused this way, and remembered as invalid.
    const blind = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, head);
    expect(refused(() => blind.add(doubleVote(0, 5)))).toEqual({ code: "INVALID", txCode: "EVIDENCE_INVALID" });
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, head, undefined, () => 5);
    pool.add(doubleVote(0, 5));
    pool.onNewHead(head);
    expect(pool.candidates()).toHaveLength(1);
    // An offence in a slot the clock has not reached is still refused.
    expect(refused(() => pool.add(doubleVote(1, 9)))).toEqual({ code: "INVALID", txCode: "EVIDENCE_INVALID" });
  });

  it("survives a restart through its SQLite store", () => {
    const { chain, users } = setup();
    const path = join(dir(), "mempool.db");
    const store = new SqliteMempoolStore(path);
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, { state: chain.store, height: 0, slot: 0 }, store);
    pool.add(transfer(users[0]!, 0, users[1]!.address, 5n));
    pool.add(transfer(users[0]!, 1, users[1]!.address, 5n));
    store.close();
    const again = new SqliteMempoolStore(path);
    const revived = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, { state: chain.store, height: 0, slot: 0 }, again);
    expect(revived.size).toBe(2);
    expect(revived.candidates().map((t) => t.tx.nonce)).toEqual([0, 1]);
    again.close();
  });
});
