import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { decodeTxWithBytes, encodeTx, txHash } from "../../src/core/tx/codec.js";
import { DEFAULT_MEMPOOL_OPTIONS, MempoolError, TxPool } from "../../src/node/mempool.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { CHAIN_ID, COIN, genesisStore, nextBlock, testChain, testIdentity, transfer } from "../fixtures/chain.js";

function setup(over: Partial<typeof DEFAULT_MEMPOOL_OPTIONS> = {}) {
  const c = testChain({ users: 6 });
  const chain = genesisStore(c.genesis);
  const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, ...over, chainId: CHAIN_ID }, { state: chain.store, height: 0, slot: 0 });
  return { ...c, pool };
}

/** A head above the pool's (finalized) one: `blocks` more blocks on the same genesis, each with its transactions. */
function headAbove(c: ReturnType<typeof testChain>, blocks: Parameters<typeof nextBlock>[2][]): (sender: Uint8Array) => number {
  const chain = genesisStore(c.genesis);
  for (const txs of blocks) nextBlock(chain, c.validators[0]!, txs);
  const ledger = new Ledger(chain.store);
  return (sender) => ledger.account(sender).nonce;
}

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof MempoolError) return e.code;
    throw e;
  }
  return "accepted";
};
const id = (t: { bytes: Uint8Array }) => toHex(txHash(t.bytes));

describe("the queue of transactions waiting for a nonce gap", () => {
  it("takes only transactions validly signed by an existing account", () => {
    const { pool, users } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    const unsigned = decodeTxWithBytes(encodeTx({ ...transfer(a, 3, b.address, COIN).tx, signature: new Uint8Array(64) }));
    expect(code(() => pool.add(unsigned))).toBe("INVALID");
    expect(pool.isQueued(id(unsigned))).toBe(false);
    // A stranger's key, signed correctly, but no account behind it.
    const stranger = testIdentity("stranger");
    const fresh = transfer(stranger, 3, b.address, COIN, { revealKey: true });
    expect(code(() => pool.add(fresh))).toBe("INVALID");
    expect(pool.missingNonces()).toEqual([]);
    const real = transfer(a, 3, b.address, COIN);
    expect(code(() => pool.add(real))).toBe("NONCE_GAP");
    expect(pool.isQueued(id(real))).toBe(true);
  });

  it("never lets junk push out a user's waiting transaction, and caps each sender", () => {
    const { pool, users } = setup({ maxQueued: 16, maxQueuedPerSender: 4 });
    const [user, spammer, b] = users as [typeof users[0], typeof users[0], typeof users[0]];
    const legit = transfer(user, 1, b.address, COIN);
    expect(code(() => pool.add(legit))).toBe("NONCE_GAP");
    // 300 unsigned transactions in the name of many senders: refused, nothing displaced.
    for (let i = 0; i < 300; i++) {
      const victim = users[i % users.length]!;
      const junk = decodeTxWithBytes(encodeTx({ ...transfer(victim, 2 + (i % 10), b.address, BigInt(i + 1)).tx, signature: new Uint8Array(64).fill(i & 0xff) }));
      expect(code(() => pool.add(junk))).toBe("INVALID");
    }
    // A real account flooding its own valid transactions is held to its share.
    const results = Array.from({ length: 12 }, (_, i) => code(() => pool.add(transfer(spammer, 2 + i, b.address, COIN))));
    expect(results.filter((r) => r === "NONCE_GAP")).toHaveLength(4);
    expect(results.slice(4).every((r) => r === "SENDER_QUOTA")).toBe(true);
    expect(pool.isQueued(id(legit))).toBe(true);
    // The gap fills: the user's transaction becomes a candidate.
    pool.add(transfer(user, 0, b.address, COIN));
    expect(pool.candidates().filter((t) => toHex(t.tx.sender) === toHex(user.address)).map((t) => t.tx.nonce)).toEqual([0, 1]);
  });

  it("when full, makes room only from the sender holding the most", () => {
    const { pool, users } = setup({ maxQueued: 6, maxQueuedPerSender: 4 });
    const [a, b, c, d] = users as [typeof users[0], typeof users[0], typeof users[0], typeof users[0]];
    for (let n = 2; n < 6; n++) expect(code(() => pool.add(transfer(a, n, d.address, COIN)))).toBe("NONCE_GAP");
    for (let n = 2; n < 4; n++) expect(code(() => pool.add(transfer(b, n, d.address, COIN)))).toBe("NONCE_GAP");
    // c holds none: a (4) gives up its highest nonce.
    const cTx = transfer(c, 2, d.address, COIN);
    expect(code(() => pool.add(cTx))).toBe("NONCE_GAP");
    expect(pool.isQueued(id(transfer(a, 5, d.address, COIN)))).toBe(false);
    expect(pool.isQueued(id(cTx))).toBe(true);
    // b holding as many as the largest share is not a reason to evict anyone for b.
    expect(code(() => pool.add(transfer(b, 4, d.address, COIN)))).toBe("POOL_FULL");
  });

  it("counts the nonces blocks above finality used as held: no gap for them, and a proposal on them continues past them", () => {
    const { pool, users, ...c } = setup({ perSenderPerBlock: 2 });
    const [a, b] = users as [typeof users[0], typeof users[0]];
    const sent = [0, 1, 2, 3, 4, 5].map((n) => transfer(a, n, b.address, COIN));
    // A restarted node: its pool holds nonce 0 and the window 3..5; the blocks it caught up on carry 0..2.
    pool.add(sent[0]!);
    for (const t of sent.slice(3)) expect(code(() => pool.add(t))).toBe("NONCE_GAP");
    expect(pool.missingNonces()).toEqual([{ sender: a.address, nonces: [1, 2] }]);
    const atHead = headAbove({ ...c, users }, [sent.slice(0, 2), [sent[2]!]]);
    expect(pool.missingNonces(atHead)).toEqual([]);
    // Half of it held: only the rest is a gap.
    expect(pool.missingNonces(headAbove({ ...c, users }, [sent.slice(0, 2)]))).toEqual([{ sender: a.address, nonces: [2] }]);
    // From finality the pool offers what the head already carries; from the head, the next ones (per-block cap kept).
    expect(pool.candidates().map((t) => t.tx.nonce)).toEqual([0]);
    expect(pool.candidates(atHead).map((t) => t.tx.nonce)).toEqual([3, 4]);
  });

  it("offers from the window only an unbroken run from the head's next nonce", () => {
    const { pool, users, ...c } = setup();
    const [a, b] = users as [typeof users[0], typeof users[0]];
    const sent = [0, 1, 2, 3, 4, 5].map((n) => transfer(a, n, b.address, COIN));
    for (const n of [2, 3, 5]) expect(code(() => pool.add(sent[n]!))).toBe("NONCE_GAP");
    const atHead = headAbove({ ...c, users }, [sent.slice(0, 2)]);
    // 4 is missing: 5 waits, and is the only gap left.
    expect(pool.candidates(atHead).map((t) => t.tx.nonce)).toEqual([2, 3]);
    expect(pool.missingNonces(atHead)).toEqual([{ sender: a.address, nonces: [4] }]);
    // A head behind the pool's window (a fork that used fewer nonces) offers none of it.
    expect(pool.candidates(headAbove({ ...c, users }, [[sent[0]!]]))).toEqual([]);
  });
});
