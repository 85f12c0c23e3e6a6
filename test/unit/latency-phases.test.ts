import { describe, expect, it } from "vitest";
import { LatencyPhases, percentiles } from "../../src/devnet/latency-phases.js";

const T0 = 1_767_225_600_000;
/** 150 s slots from T0. */
const slotAt = (ms: number) => Math.floor((ms - T0) / 150_000);

describe("finality latency by phase", () => {
  it("splits each transfer's latency at its final block's proposal and notarization", () => {
    const p = new LatencyPhases(9, slotAt);
    p.noteFinalBlock(1, 1, (T0 + 150_000) / 1000, 3);
    // Validators' heads: one reaches height 1 at +190 s, another later (the first counts).
    p.noteNotarizedHead(0, T0);
    p.noteNotarizedHead(1, T0 + 190_000);
    p.noteNotarizedHead(1, T0 + 200_000);
    p.noteFinal(T0 + 100_000, 1, T0 + 330_000);
    const s = p.summary();
    expect(s.transfers).toBe(1);
    expect(s.toProposal).toEqual({ p50: 50, p95: 50 });
    expect(s.proposalToNotarized).toEqual({ p50: 40, p95: 40 });
    expect(s.notarizedToFinal).toEqual({ p50: 140, p95: 140 });
    expect(s.missedBlocks).toEqual({ transfers: 0, blocks: 0, full: 0, roomLeft: 0, slotsWithoutFinalBlock: 0 });
  });

  it("counts the final blocks proposed after submission that did not take the transfer, full or with room", () => {
    const p = new LatencyPhases(9, slotAt);
    p.noteFinalBlock(1, 0, (T0 + 10_000) / 1000, 9);
    p.noteFinalBlock(2, 1, (T0 + 150_000) / 1000, 9);
    p.noteFinalBlock(3, 2, (T0 + 300_000) / 1000, 4);
    // Slot 3 left no final block: block 4 is slot 4's.
    p.noteFinalBlock(4, 4, (T0 + 600_000) / 1000, 2);
    // A head that jumps two heights notarizes both at once.
    p.noteNotarizedHead(2, T0 + 200_000);
    p.noteNotarizedHead(4, T0 + 650_000);
    p.noteFinal(T0 + 20_000, 4, T0 + 700_000);
    p.noteFinal(T0 + 400_000, 4, T0 + 700_000);
    const s = p.summary();
    // The first missed blocks 2 (full) and 3 (room), block 1 came before it was submitted, and both
    // waited through slot 3.
    expect(s.missedBlocks).toEqual({ transfers: 1, blocks: 2, full: 1, roomLeft: 1, slotsWithoutFinalBlock: 2 });
    expect(s.proposalToNotarized.p50).toBe(50);
  });

  it("leaves out a transfer whose block's notarization was never seen", () => {
    const p = new LatencyPhases(9, slotAt);
    p.noteFinalBlock(1, 0, T0 / 1000, 1);
    p.noteFinal(T0, 1, T0 + 1);
    expect(p.summary().transfers).toBe(0);
    expect(percentiles([])).toEqual({ p50: null, p95: null });
    expect(percentiles([3, 1, 2])).toEqual({ p50: 2, p95: 3 });
  });
});
