import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { ranksAbove, treeBlock } from "../../src/consensus/block-tree.js";
import { EngineContext } from "../../src/consensus/engine/context.js";
import { ChainStatus } from "../../src/consensus/engine/status.js";
import type { EngineDeps, StatusMessage } from "../../src/consensus/engine/types.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { genesisStore, testChain } from "../fixtures/chain.js";

/*
 * A peer's chain status judged by the fork choice (docs/consensus.md §7: the notarized block of the
 * highest slot), not by height: a head of a higher slot at the same or a lower height is fetched.
 */

const chain = testChain({ validators: 2 });
const hash = (n: number) => sha256(Uint8Array.of(n));

/** An engine context at slot 20 whose notarized blocks are `tree` (n, parent n or 0 for the root, height, slot). */
function engineAt(tree: readonly [n: number, parent: number, height: number, slot: number][]) {
  const { store, parent } = genesisStore(chain.genesis);
  const sent: ConsensusMessage[] = [];
  const slotMs = Number(chain.genesis.params.slotMs);
  const clock = new ManualClock(chain.genesis.genesisTime * 1000 + 20 * slotMs);
  const deps = { identity: chain.validators[0], clock, network: { broadcast: (m: ConsensusMessage) => sent.push(m) } } as unknown as EngineDeps;
  const ctx = new EngineContext(chain.genesis, deps, store, parent);
  const ids = new Map<number, string>([[0, ctx.root.id]]);
  for (const [n, p, height, slot] of tree) {
    const b = treeBlock(hash(n), null, ids.get(p)!, { height, slot, timestamp: 0 }, store);
    b.notarized = true;
    ctx.blocks.set(b.id, b);
    ids.set(n, b.id);
  }
  const status = new ChainStatus(ctx);
  const asked = () => sent.flatMap((m) => (m.kind === "get-block" ? [toHex(m.hash)] : []));
  return { ctx, clock, slotMs, status, asked };
}

const claim = (headHeight: number, headSlot: number, n: number): StatusMessage => ({ kind: "chain-status", finalizedHeight: 0, headHeight, headSlot, headHash: hash(n), witnessHash: null });

describe("a peer's chain status, by the fork choice", () => {
  it("fetches a head at the same height in a higher slot: the head validators build on", () => {
    // Ours: heights 1, 2 at slots 1, 3.
    const e = engineAt([[1, 0, 1, 1], [2, 1, 2, 3]]);
    expect(e.ctx.head().id).toBe(toHex(hash(2)));
    e.status.onStatus(claim(2, 5, 9));
    expect(e.asked()).toEqual([toHex(hash(9))]);
    expect(e.ctx.peerAheadAt).toBe(e.clock.now());
  });

  it("fetches a head at a lower height in a higher slot, and not a longer chain in lower slots", () => {
    const e = engineAt([[1, 0, 1, 1], [2, 1, 2, 2], [3, 2, 3, 3]]);
    e.status.onStatus(claim(1, 5, 9));
    expect(e.asked()).toEqual([toHex(hash(9))]);
    // A longer chain whose head's slot is below ours: our head wins, nothing to fetch.
    const f = engineAt([[1, 0, 1, 6]]);
    f.status.onStatus(claim(4, 5, 9));
    expect(f.asked()).toEqual([]);
    expect(f.ctx.peerAheadAt).toBe(Number.NEGATIVE_INFINITY);
  });

  it("breaks a tie of slots by the lower hash, as the engine's head does", () => {
    const ours = hash(2);
    const e = engineAt([[2, 0, 1, 4]]);
    const lower = [10, 11, 12, 13, 14].find((n) => toHex(hash(n)) < toHex(ours))!;
    const higher = [10, 11, 12, 13, 14].find((n) => toHex(hash(n)) > toHex(ours))!;
    e.status.onStatus(claim(1, 4, higher));
    expect(e.asked()).toEqual([]);
    e.status.onStatus(claim(1, 4, lower));
    expect(e.asked()).toEqual([toHex(hash(lower))]);
    expect(ranksAbove({ slot: 4, id: toHex(hash(lower)) }, e.ctx.head())).toBe(true);
  });

  it("asks for a head it holds only without its notarization, and not for one it holds notarized", () => {
    const e = engineAt([[1, 0, 1, 1], [2, 1, 2, 3]]);
    e.ctx.blocks.get(toHex(hash(2)))!.notarized = false;
    // Block 2 is held but not notarized: our head is block 1, and the peer's status names block 2.
    e.status.onStatus(claim(2, 3, 2));
    expect(e.asked()).toEqual([toHex(hash(2))]);
    const f = engineAt([[1, 0, 1, 1], [2, 1, 2, 3]]);
    f.status.onStatus(claim(2, 3, 2));
    expect(f.asked()).toEqual([]);
  });
});

describe("a peer lying about its head's slot", () => {
  it("costs nothing for a far-future slot: a slot that has not begun is no notarized block's", () => {
    const e = engineAt([[1, 0, 1, 1]]);
    for (let i = 0; i < 100; i++) e.status.onStatus(claim(2, 1_000_000_000_000 + i, 100 + i));
    expect(e.asked()).toEqual([]);
    // Nor does it keep us "catching up" (which holds back transaction repair).
    expect(e.ctx.peerAheadAt).toBe(Number.NEGATIVE_INFINITY);
  });

  it("costs at most one request a slot per head it names for a slot that has begun, and moves nothing until the block checks out", () => {
    const e = engineAt([[1, 0, 1, 1]]);
    const head = e.ctx.head().id;
    // The current slot (20) and one beyond, for clocks a little apart; the same fake head again and again.
    for (let i = 0; i < 50; i++) e.status.onStatus(claim(2, 20 + (i % 2), 99));
    expect(e.asked()).toEqual([toHex(hash(99))]);
    e.clock.advance(e.slotMs);
    e.status.onStatus(claim(2, 21, 99));
    expect(e.asked()).toHaveLength(2);
    // Only the block itself, through the intake, could move our head: the claim did not.
    expect(e.ctx.head().id).toBe(head);
  });
});
