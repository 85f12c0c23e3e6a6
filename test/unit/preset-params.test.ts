import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { presetParams } from "../../src/consensus/preset-params.js";
import { PRESET_NAMES } from "../../src/mesh/airtime/presets.js";
import { MESHTASTIC_MTU } from "../../src/mesh/transports/meshtastic-mqtt.js";

describe("chain parameters chosen from the preset", () => {
  it("gives LongFast with 7 validators 150 s slots and blocks whose compact announcement is one frame", () => {
    const r = presetParams("LONG_FAST", 7);
    // Votes go on air as aggregates (64 bytes, not 87): the round is shorter than with lone votes (180 s slots).
    expect(r.voteFrameBytes).toBe(65);
    expect(r.params).toEqual({ slotMs: 150_000n, maxBlockTxs: 9n, fallbackRanks: 0n });
    expect(r.compactBlockFrameBytes).toBeLessThanOrEqual(MESHTASTIC_MTU);
  });

  it("fits a round in a sixth of the slot and a validator's part in half its budget, for every preset and size", () => {
    for (const name of PRESET_NAMES) {
      for (const v of [1, 4, 7, 15, 30, 64]) {
        const r = presetParams(name, v);
        const slot = Number(r.params.slotMs);
        expect(slot % 5_000).toBe(0);
        expect(r.roundAirtimeMs).toBeLessThanOrEqual(slot / 6 + 1e-6);
        expect((3_600_000 / slot) * r.validatorSlotAirtimeMs).toBeLessThanOrEqual(0.5 * 180_000 + 1e-6);
        expect(r.compactBlockFrameBytes).toBeLessThanOrEqual(MESHTASTIC_MTU);
      }
    }
  });

  it("lengthens the slot with slower presets and more validators", () => {
    const slot = (p: Parameters<typeof presetParams>[0], v: number) => Number(presetParams(p, v).params.slotMs);
    expect(slot("SHORT_FAST", 7)).toBeLessThan(slot("MEDIUM_FAST", 7));
    expect(slot("MEDIUM_FAST", 7)).toBeLessThan(slot("LONG_FAST", 7));
    expect(slot("LONG_FAST", 7)).toBeLessThan(slot("LONG_FAST", 30));
  });

  it("refuses a validator count out of range", () => {
    expect(() => presetParams("LONG_FAST", 0)).toThrow(RangeError);
    expect(() => presetParams("LONG_FAST", 1.5)).toThrow(RangeError);
  });
  it("grows blocks past one frame when one-frame blocks cannot carry the expected rate, and only then", () => {
    // 15 validators at LongFast: one-frame blocks every 290 s carry 1.9 transactions a minute.
    const plain = presetParams("LONG_FAST", 15);
    expect(plain.capacityTxPerMinute).toBeLessThan(3);
    const sized = presetParams("LONG_FAST", 15, { txPerMinute: 3 });
    expect(sized.capacityTxPerMinute).toBeGreaterThanOrEqual(3 * 1.2);
    expect(sized.compactBlockFrames).toBeGreaterThan(1);
    expect(Number(sized.params.slotMs)).toBeGreaterThan(Number(plain.params.slotMs));
    expect(Number(sized.params.maxBlockBytes)).toBeGreaterThanOrEqual(Number(sized.params.maxBlockTxs) * 100);
    // A rate one-frame blocks already carry changes nothing.
    expect(presetParams("LONG_FAST", 7, { txPerMinute: 3 }).params).toEqual(presetParams("LONG_FAST", 7).params);
  });

  it("carries any rate it can with headroom, within the budgets, for every preset and size", () => {
    fc.assert(fc.property(fc.constantFrom(...PRESET_NAMES), fc.integer({ min: 1, max: 64 }), fc.double({ min: 0, max: 30, noNaN: true }), (name, v, rate) => {
      const r = presetParams(name, v, { txPerMinute: rate });
      const slot = Number(r.params.slotMs);
      expect(r.roundAirtimeMs).toBeLessThanOrEqual(slot / 6 + 1e-6);
      expect((3_600_000 / slot) * r.validatorSlotAirtimeMs).toBeLessThanOrEqual(0.5 * 180_000 + 1e-6);
      const plain = presetParams(name, v);
      if (plain.capacityTxPerMinute >= rate * 1.2) expect(r.params).toEqual(plain.params);
      // Below the largest block the chain allows (16 KiB, 148 budgeted transactions): the rate with headroom.
      else if (r.params.maxBlockTxs < 148n) expect(r.capacityTxPerMinute).toBeGreaterThanOrEqual(rate * 1.2 - 1e-9);
    }), { numRuns: 150 });
    expect(() => presetParams("LONG_FAST", 7, { txPerMinute: -1 })).toThrow(RangeError);
    expect(() => presetParams("LONG_FAST", 7, { txPerMinute: Number.NaN })).toThrow(RangeError);
  });
});
