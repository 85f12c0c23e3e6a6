import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import {
  arduinoMap, CW_MAX, ChannelUtilisation, ownFrameDelayMs, relayDelayMs, slotTimeMs, snrWindow, utilisationWindow,
} from "../../src/mesh/airtime/channel-access.js";

describe("firmware channel access rules (RadioInterface)", () => {
  it("computes the contention slot as 2.5 symbols plus 7.6 ms, truncated to whole milliseconds", () => {
    expect(slotTimeMs(PRESETS.LONG_FAST)).toBe(28); // 2.5 × 8.192 + 7.6 = 28.08
    expect(slotTimeMs(PRESETS.MEDIUM_FAST)).toBe(12); // 2.5 × 2.048 + 7.6 = 12.72
    expect(slotTimeMs(PRESETS.SHORT_FAST)).toBe(8); // 2.5 × 0.512 + 7.6 = 8.88
    expect(slotTimeMs(PRESETS.LONG_SLOW)).toBe(89); // 2.5 × 32.768 + 7.6 = 89.52
  });

  it("maps like Arduino's map(): integer arithmetic, the input truncated toward zero", () => {
    expect(arduinoMap(19.9, 0, 100, 3, 8)).toBe(3);
    expect(arduinoMap(20, 0, 100, 3, 8)).toBe(4);
    expect(arduinoMap(-5.5, -20, 10, 3, 8)).toBe(5); // trunc(−5.5) = −5 → 15·5/30 = 2 (integer) → 5
  });

  it("sizes an own frame's window from channel utilisation: 2^3 slots when idle, 2^8 when saturated", () => {
    expect(utilisationWindow(0)).toBe(3);
    expect(utilisationWindow(19)).toBe(3);
    expect(utilisationWindow(20)).toBe(4);
    expect(utilisationWindow(100)).toBe(8);
    expect(utilisationWindow(140)).toBe(8);
  });

  it("sizes a relay's window from the SNR it was heard at: the weakest 2^3, the strongest 2^8", () => {
    expect(snrWindow(-20)).toBe(3);
    expect(snrWindow(-30)).toBe(3);
    expect(snrWindow(4)).toBe(7);
    expect(snrWindow(10)).toBe(8);
  });

  it("draws an own frame's delay as a whole number of slots below 2^CW", () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (util, r) => {
      const d = ownFrameDelayMs(util, 28, () => r);
      expect(d % 28).toBe(0);
      expect(d).toBeLessThan(2 ** utilisationWindow(util) * 28);
    }));
    expect(ownFrameDelayMs(0, 28, () => 0.999)).toBe(7 * 28);
  });

  it("makes a CLIENT relay wait out the routers' whole window first, and a ROUTER draw from 2·CW slots", () => {
    fc.assert(fc.property(fc.double({ min: -25, max: 15, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (snr, r) => {
      const client = relayDelayMs("CLIENT", snr, 28, () => r);
      const router = relayDelayMs("ROUTER", snr, 28, () => r);
      expect(client).toBeGreaterThanOrEqual(2 * CW_MAX * 28);
      expect(client).toBeLessThan(2 * CW_MAX * 28 + 2 ** snrWindow(snr) * 28);
      expect(router).toBeLessThan(2 * snrWindow(snr) * 28);
      expect(router).toBeLessThan(client + 1);
    }));
  });

  it("keeps channel utilisation over six 10-second periods, clearing the oldest as a new one starts", () => {
    const u = new ChannelUtilisation();
    u.log(0, 6_000);
    expect(u.percent(0)).toBeCloseTo(10, 9);
    u.log(15_000, 3_000);
    expect(u.percent(15_000)).toBeCloseTo(15, 9);
    expect(u.percent(59_999)).toBeCloseTo(15, 9);
    expect(u.percent(60_000)).toBeCloseTo(5, 9); // period 0 was reused for period 6
    expect(u.percent(200_000)).toBe(0);
  });
});
