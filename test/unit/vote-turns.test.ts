import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { voteRank } from "../../src/consensus/engine/voting.js";
import { votePauseMs, voteStepMs, voteWindowMs } from "../../src/consensus/vote-pacing.js";
import { testIdentity } from "../fixtures/chain.js";

const addresses = Array.from({ length: 7 }, (_, i) => testIdentity(`turn-${i}`).address);
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** Voters speak in turns drawn per slot (issue 20; vote-pacing.ts, engine/voting.ts). */
describe("vote turns", () => {
  it("rank the voting set less the proposer alike at every node: a permutation, the proposer outside it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 6 }), (slot, proposerAt) => {
        const proposer = addresses[proposerAt] as Uint8Array;
        const turns = addresses.map((a) => voteRank(addresses, proposer, a, slot));
        const ranks = turns.filter((_, i) => i !== proposerAt).map((t) => t.rank);
        expect([...ranks].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(turns.every((t) => t.voters === 6)).toBe(true);
        // The order of the set as a node holds it does not matter: every node works out the same turn.
        expect(voteRank([...addresses].reverse(), proposer, addresses[3] as Uint8Array, slot)).toEqual(turns[3]);
      }),
      { numRuns: 100 },
    );
  });

  it("move the first speaker from slot to slot", () => {
    const proposer = addresses[0] as Uint8Array;
    const firsts = new Set<number>();
    for (let slot = 0; slot < 60; slot++) firsts.add(addresses.findIndex((a, i) => i > 0 && voteRank(addresses, proposer, a, slot).rank === 0));
    expect(firsts.size).toBe(6);
  });

  it("space the turns a step apart from the proposal, in rank order, and never start before the proposal spread", () => {
    fc.assert(
      fc.property(fc.integer({ min: 600, max: 600_000 }), fc.integer({ min: 1, max: 64 }), unit, unit, (slotMs, voters, x, y) => {
        const step = voteStepMs(slotMs, voters);
        for (let rank = 0; rank < voters; rank++) {
          const pause = votePauseMs(slotMs, { rank, voters, sinceProposalMs: 0 }, () => x);
          expect(pause).toBeGreaterThanOrEqual(Math.floor((rank + 1) * step));
          expect(pause).toBeLessThanOrEqual(voteWindowMs(slotMs) + step);
          // Whatever either draws, a voter starts before the next one's earliest moment (the last
          // three quarters of its step are for its frame and the relays of it).
          if (rank + 1 < voters) expect(pause).toBeLessThan(votePauseMs(slotMs, { rank: rank + 1, voters, sinceProposalMs: 0 }, () => y));
        }
      }),
    );
  });

  it("count from the proposal: a node that got the block late waits only what is left of its turn, and none once it passed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 600, max: 600_000 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 600_000 }), unit, (slotMs, rank, since, x) => {
        const turn = { rank, voters: 6 };
        const atOnce = votePauseMs(slotMs, { ...turn, sinceProposalMs: 0 }, () => x);
        expect(votePauseMs(slotMs, { ...turn, sinceProposalMs: since }, () => x)).toBe(Math.max(0, atOnce - since));
      }),
    );
  });
});
