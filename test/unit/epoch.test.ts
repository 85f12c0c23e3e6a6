import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochOf, isEpochStart, nextEpochStart } from "../../src/core/state/epoch.js";

describe("epochs", () => {
  it("numbers heights in blocks of epochLength", () => {
    expect(epochOf(0, 100n)).toBe(0);
    expect(epochOf(99, 100n)).toBe(0);
    expect(epochOf(100, 100n)).toBe(1);
    expect(nextEpochStart(0, 100n)).toBe(100);
    expect(nextEpochStart(100, 100n)).toBe(200);
    expect(isEpochStart(200, 100n)).toBe(true);
    expect(isEpochStart(201, 100n)).toBe(false);
  });

  it("the next epoch always starts after the height, within one epoch", () => {
    fc.assert(
      fc.property(fc.nat(1e9), fc.bigInt({ min: 1n, max: 1_000_000n }), (h, len) => {
        const next = nextEpochStart(h, len);
        expect(next).toBeGreaterThan(h);
        expect(next - h).toBeLessThanOrEqual(Number(len));
        expect(isEpochStart(next, len)).toBe(true);
        expect(epochOf(next, len)).toBe(epochOf(h, len) + 1);
      }),
    );
  });

  it("refuses heights and lengths that have no epoch", () => {
    expect(() => epochOf(-1, 10n)).toThrow(RangeError);
    expect(() => epochOf(1.5, 10n)).toThrow(RangeError);
    expect(() => nextEpochStart(5, 0n)).toThrow(RangeError);
  });
});
