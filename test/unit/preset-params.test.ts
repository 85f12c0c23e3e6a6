import { describe, expect, it } from "vitest";
import { presetParams } from "../../src/consensus/preset-params.js";
import { PRESET_NAMES } from "../../src/mesh/airtime/presets.js";
import { MESHTASTIC_MTU } from "../../src/mesh/transports/meshtastic-mqtt.js";

describe("chain parameters chosen from the preset", () => {
  it("gives LongFast with 7 validators 155 s slots and 13-transaction blocks whose compact announcement is one frame", () => {
    const r = presetParams("LONG_FAST", 7);
    // Votes go on air as aggregates (64 bytes, not 87): the round is shorter than with lone votes (180 s slots).
    expect(r.voteFrameBytes).toBe(65);
    // 3-byte short ids: 13 transactions fill the frame (231 bytes), one LoRa symbol more than 9 did,
    // which takes the round (24.97 s) just past a sixth of 150 s.
    expect(r.params).toEqual({ slotMs: 155_000n, maxBlockTxs: 13n, fallbackRanks: 0n, shortIdBytes: 3n, finalityRule: 1n });
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

  it("says how many transfers a minute the chain carries, which falls as validators lengthen the slot", () => {
    const perMinute = (v: number) => presetParams("LONG_FAST", v).txsPerMinute;
    // Thirteen transfers every 155 s; the devnet's scenario offers three a minute.
    expect(perMinute(7)).toBeCloseTo((13 * 60) / 155, 6);
    expect(perMinute(15)).toBeLessThan(3);
    expect(perMinute(30)).toBeLessThan(perMinute(15));
    for (const name of PRESET_NAMES) {
      const r = presetParams(name, 7);
      expect(r.txsPerMinute).toBeCloseTo((Number(r.params.maxBlockTxs) * 60_000) / Number(r.params.slotMs), 9);
    }
  });

  it("refuses a validator count out of range", () => {
    expect(() => presetParams("LONG_FAST", 0)).toThrow(RangeError);
    expect(() => presetParams("LONG_FAST", 1.5)).toThrow(RangeError);
  });
});
