import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { voteRank } from "../../src/consensus/engine/voting.js";
import { radioLink } from "../../src/consensus/engine/link-profile.js";
import { turnsSpanMs, turnStepAirtimeMs, votePauseMs, voteStepMs, voteWindowMs } from "../../src/consensus/vote-pacing.js";
import { meshtasticFrameAirtimeMs } from "../../src/mesh/airtime/airtime.js";
import { type PresetName, PRESETS } from "../../src/mesh/airtime/presets.js";
import { slotTimeMs } from "../../src/mesh/airtime/channel-access.js";
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

  it("size a step by the preset's frame airtime, the slot only bounding it (issue 20)", () => {
    const names = Object.keys(PRESETS) as PresetName[];
    for (const name of names) {
      const m = PRESETS[name];
      const step = turnStepAirtimeMs(m);
      // Room, after a start in the step's first quarter, for a 2^5-slot contention draw and three frames
      // of at least a vote aggregate's size (the turn frame and two found on air): never less.
      expect(step * 0.75).toBeGreaterThanOrEqual(32 * slotTimeMs(m) + 3 * meshtasticFrameAirtimeMs(m, 64));
    }
    // Slower presets, longer steps.
    expect(turnStepAirtimeMs(PRESETS.LONG_SLOW)).toBeGreaterThan(turnStepAirtimeMs(PRESETS.LONG_FAST));
    expect(turnStepAirtimeMs(PRESETS.LONG_FAST)).toBeGreaterThan(turnStepAirtimeMs(PRESETS.SHORT_FAST));
    // LongFast at 150 s with six voters: 5.24 s a step, where the slot's share was 6.25 s.
    const longFast = turnStepAirtimeMs(PRESETS.LONG_FAST);
    expect(longFast).toBeGreaterThan(5_000);
    expect(longFast).toBeLessThan(5_500);
    expect(voteStepMs(150_000, 6, longFast)).toBe(longFast);
    expect(voteStepMs(150_000, 6)).toBe(6_250);
    fc.assert(
      fc.property(fc.integer({ min: 600, max: 600_000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 60_000 }), (slotMs, voters, airtime) => {
        const step = voteStepMs(slotMs, voters, airtime);
        // The slot bounds it: the turns still end within the slot's window and one step.
        expect(step).toBeLessThanOrEqual(voteWindowMs(slotMs) / voters);
        expect(step).toBeLessThanOrEqual(airtime);
        expect(step === airtime || step === voteWindowMs(slotMs) / voters).toBe(true);
        // A longer slot never makes a step longer than the frame needs.
        expect(voteStepMs(slotMs * 2, voters, airtime)).toBeLessThanOrEqual(airtime);
        expect(turnsSpanMs(slotMs, voters, airtime)).toBe(voters * step);
      }),
    );
  });

  it("keep turns in rank order, a step apart, with any airtime step", () => {
    fc.assert(
      fc.property(fc.integer({ min: 600, max: 600_000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 60_000 }), unit, unit, (slotMs, voters, airtime, x, y) => {
        const step = voteStepMs(slotMs, voters, airtime);
        for (let rank = 0; rank < voters; rank++) {
          const pause = votePauseMs(slotMs, { rank, voters, sinceProposalMs: 0 }, () => x, airtime);
          expect(pause).toBeGreaterThanOrEqual(Math.floor((rank + 1) * step));
          expect(pause).toBeLessThanOrEqual(turnsSpanMs(slotMs, voters, airtime) + step);
          if (rank + 1 < voters) expect(pause).toBeLessThan(votePauseMs(slotMs, { rank: rank + 1, voters, sinceProposalMs: 0 }, () => y, airtime));
        }
      }),
    );
  });

  it("the radio profile paces votes and precommits by the step it was made with", () => {
    const link = radioLink(4_000);
    expect(link.turnStepMs(150_000, 6)).toBe(4_000);
    expect(link.turnStepMs(150_000, 7)).toBe(4_000);
    // A slot too short for it: its share of the window wins.
    expect(link.turnStepMs(60_000, 6)).toBe(2_500);
    expect(link.ownVotePauseMs(() => 0, 150_000, { rank: 5, voters: 6, sinceProposalMs: 0 })).toBe(24_000);
  });
});
