import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toHex } from "../../src/core/bytes.js";
import { type DecodedTx, txHash } from "../../src/core/tx/codec.js";
import { type ChainView, OverlookedTxs, type ProposedBlock } from "../../src/consensus/overlooked-txs.js";
import { COIN, testChain, transfer } from "../fixtures/chain.js";

const SLOT = 30_000;
const { users } = testChain({ users: 4 });
const [a, b, c, d] = users as [typeof users[0], typeof users[0], typeof users[0], typeof users[0]];
const id = (t: DecodedTx) => toHex(txHash(t.bytes));

function view(now: number, blocks: ProposedBlock[]): ChainView {
  return { now, blocks, marginMs: 5_000, silenceMs: 2 * SLOT, resendEveryMs: 3 * SLOT, perSenderPerBlock: 2 };
}
const block = (slotStartMs: number, txs: DecodedTx[], full = false): ProposedBlock => ({ slotStartMs, full, txs });

describe("overlooked transactions", () => {
  const lost = transfer(a, 0, b.address, COIN);
  const later = transfer(a, 1, b.address, COIN);
  const other = transfer(c, 0, b.address, COIN);
  const otherLater = transfer(d, 0, b.address, COIN);

  it("names a sender's next transaction that a later block with room left out, and only that one", () => {
    const o = new OverlookedTxs(100);
    o.held(id(lost), 0);
    o.held(id(later), 0);
    // The block's slot began well after we held it; it took someone else's and had room.
    expect(o.overlooked([lost, later], view(40_000, [block(SLOT, [other])]))).toEqual([lost]);
    // Counted as sent: not again before resendEveryMs.
    expect(o.overlooked([lost, later], view(60_000, [block(SLOT, [other])]))).toEqual([]);
    expect(o.overlooked([lost, later], view(40_000 + 3 * SLOT, [block(SLOT, [other])]))).toEqual([lost]);
  });

  it("waits twice as long after each resend of the same transaction, up to eight times the interval", () => {
    const o = new OverlookedTxs(100);
    o.held(id(lost), 0);
    const chain = [block(SLOT, [other])];
    const sentAt: number[] = [];
    for (let now = 40_000; now <= 40_000 + 40 * SLOT; now += SLOT) if (o.overlooked([lost], view(now, chain)).length > 0) sentAt.push(now);
    const gaps = sentAt.slice(1).map((t, i) => (t - (sentAt[i] as number)) / SLOT);
    expect(gaps).toEqual([3, 6, 12, 24].slice(0, gaps.length));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
  });

  it("counts an answer this node sent as a send: the next resend backs off from it", () => {
    const o = new OverlookedTxs(100);
    o.held(id(lost), 0);
    o.sent(id(lost), 10_000);
    o.sent(id(lost), 20_000);
    const chain = [block(SLOT, [other])];
    expect(o.overlooked([lost], view(20_000 + 5 * SLOT, chain))).toEqual([]);
    expect(o.overlooked([lost], view(20_000 + 6 * SLOT, chain))).toEqual([lost]);
  });

  it("leaves alone what a block carries, what arrived too late for the block, and a sender a block served", () => {
    const o = new OverlookedTxs(100);
    o.held(id(lost), 0);
    expect(o.overlooked([lost], view(40_000, [block(SLOT, [lost])]))).toEqual([]);
    // Heard 28 s into the run: the block of slot 1 (30 s) began inside the margin.
    const late = new OverlookedTxs(100);
    late.held(id(lost), 28_000);
    expect(late.overlooked([lost], view(40_000, [block(SLOT, [other])]))).toEqual([]);
  });

  it("names the transaction after the ones a block took when the block stopped short of the sender's quota", () => {
    const third = transfer(a, 2, b.address, COIN);
    // The quota is two: a block with nonces 0 and 1 could not take nonce 2.
    const quota = new OverlookedTxs(100);
    quota.held(id(third), 0);
    expect(quota.overlooked([lost, later, third], view(40_000, [block(SLOT, [lost, later])]))).toEqual([]);
    // A block that took nonce 0 alone had room for nonce 1: its proposer lacked it.
    const short = new OverlookedTxs(100);
    short.held(id(later), 0);
    expect(short.overlooked([lost, later], view(40_000, [block(SLOT, [lost])]))).toEqual([later]);
    // A block of the slot before the one carrying nonce 0 could not take nonce 1 yet.
    const early = new OverlookedTxs(100);
    early.held(id(later), 0);
    expect(early.overlooked([lost, later], view(70_000, [block(SLOT, [other]), block(2 * SLOT, [lost], true)]))).toEqual([]);
  });

  it("waits behind full blocks of older transactions, but not behind a full block that took a newer one", () => {
    const o = new OverlookedTxs(100);
    o.held(id(other), 0);
    o.held(id(lost), 1_000);
    expect(o.overlooked([lost], view(40_000, [block(SLOT, [other], true)]))).toEqual([]);
    o.held(id(otherLater), 20_000);
    // otherLater reached us 19 s after lost (beyond the 5 s margin), ranks the same, and got in.
    expect(o.overlooked([lost], view(40_000, [block(SLOT, [other, otherLater], true)]))).toEqual([lost]);
  });

  it("names a transaction when no block comes at all for two slots", () => {
    const o = new OverlookedTxs(100);
    expect(o.overlooked([lost], view(0, []))).toEqual([]);
    expect(o.overlooked([lost], view(2 * SLOT - 1, []))).toEqual([]);
    expect(o.overlooked([lost], view(2 * SLOT, []))).toEqual([lost]);
  });

  it("never names more than one transaction per sender, one a block carries, or one behind an uncarried one (property)", () => {
    const pool = [lost, later, other, otherLater];
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 200_000 }), txs: fc.subarray(pool), full: fc.boolean() }), { maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 400_000 }),
      (blocks, heldAt, now) => {
        const o = new OverlookedTxs(100);
        pool.forEach((t, i) => o.held(id(t), heldAt[i] as number));
        const proposed = blocks.map((x) => block(x.at, x.txs, x.full));
        const named = o.overlooked(pool, view(now, proposed));
        const senders = named.map((t) => toHex(t.tx.sender));
        expect(new Set(senders).size).toBe(senders.length);
        const carried = new Set(proposed.flatMap((x) => x.txs.map(id)));
        for (const t of named) expect(carried.has(id(t))).toBe(false);
        // Nonce 1 only once a block carries nonce 0.
        if (!carried.has(id(lost))) expect(named).not.toContain(later);
      },
    ));
  });

  it("leaves a transaction it may not resend (another holder's turn) unsent and its backoff unstarted", () => {
    const o = new OverlookedTxs(100);
    o.held(id(lost), 0);
    const chain = [block(SLOT, [other])];
    expect(o.overlooked([lost], { ...view(40_000, chain), mayResend: () => false })).toEqual([]);
    // Its turn comes a slot later: sent then, with no backoff from the slot it was not its turn.
    expect(o.overlooked([lost], { ...view(40_000 + SLOT, chain), mayResend: (t) => t === id(lost) })).toEqual([lost]);
  });
});
