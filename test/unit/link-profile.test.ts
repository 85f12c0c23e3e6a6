import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IP_LINK, RADIO_LINK, radioAnswerProbability } from "../../src/consensus/engine/link-profile.js";
import { voteWindowMs } from "../../src/consensus/vote-pacing.js";

/** A random source that counts its draws and returns a fixed value. */
function counting(value: number): { random: () => number; draws: () => number } {
  let n = 0;
  return { random: () => (n++, value), draws: () => n };
}

describe("link profiles", () => {
  it("IP answers every request at once and sends votes at once, drawing no randomness", () => {
    // Simulations repeat draw for draw only if the IP profile leaves the engine's random source alone.
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 600, max: 600_000 }), fc.boolean(), (validators, slotMs, proposer) => {
      const r = counting(0.99);
      expect(IP_LINK.answers(r.random, validators)).toBe(true);
      expect(IP_LINK.blockAnswerPauseMs(r.random, slotMs)).toBeNull();
      expect(IP_LINK.rangeAnswerPauseMs(r.random, slotMs / 6)).toBe(0);
      expect(IP_LINK.txsAnswerPauseMs(r.random, slotMs / 6, proposer)).toBe(0);
      expect(IP_LINK.ownVotePauseMs(r.random, slotMs, { rank: validators - 1, voters: validators, sinceProposalMs: 0 })).toBeNull();
      expect(r.draws()).toBe(0);
    }));
    expect(IP_LINK.compactRelay || IP_LINK.answersOverheard || IP_LINK.aggregatesOwnVotes).toBe(false);
  });

  it("radio: about two holders answer whatever the network's size", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000 }), (validators) => {
      const p = radioAnswerProbability(validators);
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p * Math.max(validators, 2)).toBeCloseTo(2, 9);
    }));
    expect(RADIO_LINK.answers(() => 0.49, 4)).toBe(true);
    expect(RADIO_LINK.answers(() => 0.5, 4)).toBe(false);
  });

  it("radio pauses stay within their windows, and the proposer answers a transaction request at once", () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 600, max: 600_000 }), (x, slotMs) => {
      const window = Math.min(15_000, slotMs / 6);
      // Upper bounds are inclusive: x·w rounds to w for the largest double below 1.
      const block = RADIO_LINK.blockAnswerPauseMs(() => x, slotMs);
      expect(block).not.toBeNull();
      expect(block as number).toBeLessThanOrEqual(slotMs / 3);
      expect(RADIO_LINK.rangeAnswerPauseMs(() => x, window)).toBeLessThanOrEqual(window);
      const backup = RADIO_LINK.txsAnswerPauseMs(() => x, window, false);
      // A backup answers late: after the proposer's answer had three windows to get through its queue, within five.
      expect(backup).toBeGreaterThanOrEqual(Math.floor(3 * window));
      expect(backup).toBeLessThanOrEqual(5 * window);
      expect(RADIO_LINK.txsAnswerPauseMs(() => x, window, true)).toBe(0);
      // The last voter's turn still ends within the window and one step for the proposal to spread.
      expect(RADIO_LINK.ownVotePauseMs(() => x, slotMs, { rank: 5, voters: 6, sinceProposalMs: 0 }) as number).toBeLessThanOrEqual((voteWindowMs(slotMs) * 7) / 6);
    }));
    expect(RADIO_LINK.compactRelay && RADIO_LINK.answersOverheard && RADIO_LINK.aggregatesOwnVotes).toBe(true);
  });
});
