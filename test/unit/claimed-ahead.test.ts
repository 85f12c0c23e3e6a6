import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { ClaimedAhead } from "../../src/consensus/engine/claimed-ahead.js";
import { EngineContext, type EngineParts } from "../../src/consensus/engine/context.js";
import { highestClaimableHeight } from "../../src/consensus/engine/status.js";
import type { EngineDeps } from "../../src/consensus/engine/types.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { genesisStore, testChain } from "../fixtures/chain.js";

/*
 * A vote aggregate's claimed height is believed only up to what a chain can have grown to since the
 * finalized root: one height a slot, to the next slot (consensus/engine/status.ts, the rule a chain
 * status's head is judged by).
 */

const chain = testChain({ validators: 2 });

function claimedAt(slot: number) {
  const { store, parent } = genesisStore(chain.genesis);
  const sent: ConsensusMessage[] = [];
  const slotMs = Number(chain.genesis.params.slotMs);
  const clock = new ManualClock(chain.genesis.genesisTime * 1000 + slot * slotMs);
  const deps = { identity: chain.validators[0], clock, network: { broadcast: (m: ConsensusMessage) => sent.push(m) } } as unknown as EngineDeps;
  const ctx = new EngineContext(chain.genesis, deps, store, parent);
  ctx.running = true;
  const parts = { compact: { waitingParents: () => [] } } as unknown as EngineParts;
  return { ctx, claimed: new ClaimedAhead(ctx, parts), sent };
}

describe("a claimed height above our head", () => {
  it("is at most one a slot above the finalized root, to the next slot", () => {
    const { ctx } = claimedAt(20);
    expect(highestClaimableHeight(ctx)).toBe(ctx.root.height + 21 - ctx.root.slot);
  });

  it("is ignored beyond that, and asked for up to it", () => {
    const far = claimedAt(20);
    far.claimed.note(highestClaimableHeight(far.ctx) + 1, "00112233");
    expect(far.claimed.lacksBlock()).toBe(false);
    far.claimed.ask();
    expect(far.sent).toEqual([]);
    const near = claimedAt(20);
    const height = highestClaimableHeight(near.ctx);
    near.claimed.note(height, "00112233");
    expect(near.claimed.lacksBlock()).toBe(true);
    near.claimed.ask();
    expect(near.sent.filter((m) => m.kind === "get-range")).toHaveLength(1);
  });

  it("holds an empty heartbeat CLAIM_HOLD_SLOTS past due at most, however often it is heard", () => {
    const { ctx, claimed } = claimedAt(5);
    claimed.note(1, "00112233");
    expect(claimed.holdsHeartbeat(0)).toBe(true);
    expect(claimed.holdsHeartbeat(2)).toBe(true);
    expect(claimed.holdsHeartbeat(3)).toBe(false);
    // Heard again and again: the claim keeps its first time, and goes stale three slots on.
    const clock = ctx.deps.clock as ManualClock;
    for (let i = 0; i < 5; i++) {
      clock.advance(ctx.slotMs / 2);
      claimed.note(1, "00112233");
    }
    clock.advance(ctx.slotMs / 2);
    expect(claimed.lacksBlock()).toBe(false);
  });

  it("leaves its ask to an overheard identical request at most one slot in a row: a forged one every slot cannot silence it", () => {
    const { ctx, claimed, sent } = claimedAt(20);
    const clock = ctx.deps.clock as ManualClock;
    const height = ctx.head().height + 2;
    claimed.note(height, "00112233");
    const asks = () => sent.filter((m) => m.kind === "get-range").length;
    // Another count draws another answerer (responder.ts): not ours, so we still ask.
    claimed.overheard(ctx.head().height + 1, 8);
    claimed.ask();
    expect(asks()).toBe(1);
    const perSlot: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(ctx.slotMs);
      claimed.note(height, "00112233");
      const before = asks();
      claimed.overheard(ctx.head().height + 1, 2);
      claimed.ask();
      perSlot.push(asks() - before);
    }
    expect(perSlot).toEqual([0, 1, 0, 1]);
  });
});
