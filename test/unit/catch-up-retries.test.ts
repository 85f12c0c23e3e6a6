import { describe, expect, it } from "vitest";
import type { Block } from "../../src/core/block/block.js";
import { ManualClock } from "../../src/core/clock.js";
import { CatchUp } from "../../src/consensus/engine/catch-up.js";
import { EngineContext, type EngineParts } from "../../src/consensus/engine/context.js";
import type { EngineDeps } from "../../src/consensus/engine/types.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { responderRank } from "../../src/consensus/engine/responder.js";
import { MAX_RANGE_BLOCKS } from "../../src/mesh/messages/relay.js";
import { genesisStore, testChain } from "../fixtures/chain.js";

/*
 * A node behind asks again for a missing parent in the middle of every slot (engine.ts onSlot),
 * at a random moment. The retry is allowed once per slot by the slot's number: with a sliding
 * window of one slot, a retry drawn earlier in its slot than the last ask was in the slot before
 * was refused, and a restarted node asked every other slot (devnet seed 3 with --kill: 15 minutes
 * behind, where one slot's retry was all it took).
 */

const chain = testChain({ validators: 2 });
const slotMs = Number(chain.genesis.params.slotMs);
const PARENT = "ab".repeat(32);

function behind(atSlot: number) {
  const { store, parent } = genesisStore(chain.genesis);
  const sent: ConsensusMessage[] = [];
  const clock = new ManualClock(chain.genesis.genesisTime * 1000 + atSlot * slotMs);
  const deps = { identity: chain.validators[0], clock, network: { broadcast: (m: ConsensusMessage) => sent.push(m) } } as unknown as EngineDeps;
  const ctx = new EngineContext(chain.genesis, deps, store, parent);
  ctx.running = true;
  const parts = { compact: { waitingParents: () => [], parentHeldCompact: () => false, pendingCount: 0 } } as unknown as EngineParts;
  const catchUp = new CatchUp(ctx, parts);
  // A block two heights above our head arrived; its parent (one above our head) we lack.
  const orphan = { header: { height: ctx.head().height + 2 } } as unknown as Block;
  const asks = () => sent.filter((m) => m.kind === "get-block").length;
  return { ctx, clock, catchUp, orphan, asks, sent };
}

describe("catch-up retries for a missing parent", () => {
  it("ask again in the next slot even when its retry comes earlier in the slot than the last ask", () => {
    const { clock, catchUp, orphan, asks } = behind(20.9);
    catchUp.orphan(PARENT, Uint8Array.from(Buffer.from(PARENT, "hex")), orphan);
    expect(asks()).toBe(1);
    // Mid-slot of the next slot: less than a slot since the ask, but a new slot with a new answerer.
    clock.advance(0.35 * slotMs);
    catchUp.retryMissingParents();
    expect(asks()).toBe(2);
    // Once in that slot, whatever else calls.
    clock.advance(0.2 * slotMs);
    catchUp.retryMissingParents();
    expect(asks()).toBe(2);
  });

  it("never ask twice within a quarter of a slot, across a slot boundary", () => {
    const { clock, catchUp, orphan, asks } = behind(20.95);
    catchUp.orphan(PARENT, Uint8Array.from(Buffer.from(PARENT, "hex")), orphan);
    catchUp.retryMissingParents();
    expect(asks()).toBe(1);
    clock.advance(0.2 * slotMs);
    catchUp.retryMissingParents();
    expect(asks()).toBe(1);
    clock.advance(0.1 * slotMs);
    catchUp.retryMissingParents();
    expect(asks()).toBe(2);
  });

  it("ask at most once per slot over many slots: the request rate stays one a slot", () => {
    const { clock, catchUp, orphan, asks } = behind(10.5);
    catchUp.orphan(PARENT, Uint8Array.from(Buffer.from(PARENT, "hex")), orphan);
    // Called ten times a slot for ten slots.
    for (let i = 0; i < 100; i++) {
      clock.advance(slotMs / 10);
      catchUp.retryMissingParents();
    }
    expect(asks()).toBeLessThanOrEqual(11);
    expect(asks()).toBeGreaterThanOrEqual(10);
  });
});

/*
 * A restarted node hears what it missed only with the others' next proposal, a slot or more later;
 * so it asks once, in its first slot, for the heights above its head.
 */
describe("an engine started above genesis", () => {
  it("asks once, within its first slot, for the heights above its head", () => {
    const { ctx, clock, catchUp, sent } = behind(30.1);
    ctx.root = { ...ctx.root, height: 12 };
    catchUp.askAfterStart();
    expect(sent).toEqual([]);
    clock.advance(slotMs);
    const ranges = sent.filter((m) => m.kind === "get-range");
    expect(ranges).toHaveLength(1);
    expect(ranges[0]).toMatchObject({ fromHeight: 13 });
    // Never a key whose first-ranked answerer is this node itself: nobody would answer it.
    const count = (ranges[0] as Extract<ConsensusMessage, { kind: "get-range" }>).count;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(count).toBeLessThanOrEqual(MAX_RANGE_BLOCKS);
    // Asked in slot 30 (started a tenth into it: asked once its first third is over, within the answer window).
    expect(responderRank(ctx.root.weights.map((w) => w.address), chain.validators[0]!.address, `range:13:${count}`, 30)).not.toBe(0);
  });

  it("started late in a slot, asks within the answer window, before the next slot's proposal", () => {
    const { ctx, clock, catchUp, sent } = behind(30.7);
    ctx.root = { ...ctx.root, height: 12 };
    catchUp.askAfterStart();
    clock.advance(ctx.answerWindowMs());
    expect(sent.filter((m) => m.kind === "get-range")).toHaveLength(1);
    expect(ctx.slotAt(clock.now())).toBe(30);
  });

  it("asks nothing at genesis: there is nothing it can have missed that a proposal will not bring", () => {
    const { clock, catchUp, sent } = behind(0.1);
    catchUp.askAfterStart();
    clock.advance(slotMs);
    expect(sent).toEqual([]);
  });
});

/*
 * A proposal's signature is the proposer's vote for its slot: one on a stale head costs the slot a
 * vote for the block the others build on. So a node just restarted leaves the slot to its fallback
 * proposers; a block waiting on a missing parent (unchecked: anyone can forge one) holds nothing.
 */
describe("holding our proposals while behind", () => {
  it("holds in the first slot after a start above genesis, not after", () => {
    const { ctx, clock, catchUp } = behind(30.1);
    ctx.root = { ...ctx.root, height: 12 };
    catchUp.askAfterStart();
    expect(catchUp.holdsProposal()).toBe(true);
    clock.advance(0.9 * slotMs);
    expect(catchUp.holdsProposal()).toBe(true);
    clock.advance(0.2 * slotMs);
    expect(catchUp.holdsProposal()).toBe(false);
  });

  it("never holds a sole validator: no one could be ahead of it, and no one would take the slot", () => {
    const { ctx, catchUp } = behind(30.1);
    ctx.root = { ...ctx.root, height: 12 };
    catchUp.askAfterStart();
    const head = ctx.head();
    ctx.head = () => ({ ...head, weights: head.weights.slice(0, 1) });
    expect(catchUp.holdsProposal()).toBe(false);
  });

  it("never holds at a start from genesis with nothing waiting", () => {
    const { catchUp } = behind(0.1);
    catchUp.askAfterStart();
    expect(catchUp.holdsProposal()).toBe(false);
  });

  it("does not hold while a block waits on a missing parent: such a block is unchecked, and anyone can forge one", () => {
    const { catchUp, orphan } = behind(20.5);
    catchUp.orphan(PARENT, Uint8Array.from(Buffer.from(PARENT, "hex")), orphan);
    expect(catchUp.holdsProposal()).toBe(false);
  });
});
