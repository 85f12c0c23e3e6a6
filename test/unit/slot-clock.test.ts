import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultParams } from "../../src/core/state/params.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";

const GENESIS = 1_767_225_600;

describe("the slot clock", () => {
  it("numbers slots from genesis at the chain's slotMs: each instant lies in exactly one slot", () => {
    const clock = SlotClock.of({ genesisTime: GENESIS }, defaultParams());
    expect(clock.slotMs).toBe(30_000);
    expect(clock.slotAt(GENESIS * 1000)).toBe(0);
    expect(clock.slotAt(GENESIS * 1000 + 29_999)).toBe(0);
    expect(clock.slotAt(GENESIS * 1000 + 30_000)).toBe(1);
    fc.assert(fc.property(fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: -1e9, max: 1e12 }), (slotMs, offset) => {
      const c = SlotClock.withSlotMs(GENESIS, slotMs);
      const t = GENESIS * 1000 + offset;
      const slot = c.slotAt(t);
      expect(c.startOf(slot)).toBeLessThanOrEqual(t);
      expect(c.startOf(slot + 1)).toBeGreaterThan(t);
      expect(c.slotAt(c.startOf(slot))).toBe(slot);
      const wait = c.untilNextSlot(t);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(slotMs);
      expect(c.slotAt(t + wait)).toBe(slot + 1);
      expect(c.currentSlot(t)).toBe(Math.max(0, slot));
    }));
  });

  it("counts time before genesis as slot 0 for status, and as a negative slot for proposing", () => {
    const c = SlotClock.withSlotMs(GENESIS, 2_000);
    expect(c.slotAt(GENESIS * 1000 - 1)).toBe(-1);
    expect(c.currentSlot(GENESIS * 1000 - 10_000)).toBe(0);
  });

  it("refuses a slot length or genesis time that cannot number slots", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => SlotClock.withSlotMs(GENESIS, bad)).toThrow(RangeError);
    expect(() => SlotClock.withSlotMs(-1, 1_000)).toThrow(RangeError);
    expect(() => SlotClock.of({ genesisTime: GENESIS }, { slotMs: 0n })).toThrow(RangeError);
  });
});
