import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NonceGaps } from "../../src/consensus/nonce-gaps.js";

const alice = new Uint8Array(8).fill(1);
const timing = (now: number) => ({ now, minAgeMs: 5_000, askEveryMs: 30_000 });

describe("how far a gap request goes", () => {
  it("a gap's first request is its first (neighbours), every later one a repeat (mesh-wide)", () => {
    const g = new NonceGaps(100);
    const gaps = [{ sender: alice, nonces: [3] }];
    g.update(gaps, 0);
    const [first] = g.due(gaps, timing(5_000));
    expect(first).toBeDefined();
    expect(g.askedBefore(alice, [3])).toBe(false);
    const [again] = g.due(gaps, timing(35_000));
    expect(again).toBeDefined();
    expect(g.askedBefore(alice, [3])).toBe(true);
  });

  it("a request heard from another node counts: ours after it is a repeat", () => {
    const g = new NonceGaps(100);
    const gaps = [{ sender: alice, nonces: [3] }];
    g.update(gaps, 0);
    g.heard(alice, [3], 1_000);
    expect(g.due(gaps, timing(31_000))).toEqual(gaps);
    expect(g.askedBefore(alice, [3])).toBe(true);
  });

  it("one nonce asked before makes the whole request a repeat; a filled gap starts over", () => {
    const g = new NonceGaps(100);
    g.update([{ sender: alice, nonces: [3] }], 0);
    g.due([{ sender: alice, nonces: [3] }], timing(5_000));
    g.update([{ sender: alice, nonces: [3, 4] }], 6_000);
    expect(g.due([{ sender: alice, nonces: [3, 4] }], timing(35_000))).toEqual([{ sender: alice, nonces: [3, 4] }]);
    expect(g.askedBefore(alice, [3, 4])).toBe(true);
    // Both filled, then 3 missing again: a new gap, asked of the neighbours first (once the base
    // interval since the last request has passed).
    g.update([], 40_000);
    g.update([{ sender: alice, nonces: [3] }], 40_000);
    expect(g.due([{ sender: alice, nonces: [3] }], timing(65_000))).toEqual([{ sender: alice, nonces: [3] }]);
    expect(g.askedBefore(alice, [3])).toBe(false);
  });

  it("only the first request of a gap stays with the neighbours, however requests and heard ones interleave (property)", () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), (heardFirst) => {
      const g = new NonceGaps(100);
      const gaps = [{ sender: alice, nonces: [7] }];
      g.update(gaps, 0);
      let asked = 0;
      let firsts = 0;
      for (let i = 0; i < heardFirst.length; i++) {
        const now = 5_000 + i * 300_000;
        if (heardFirst[i] === true) { g.heard(alice, [7], now - 1); asked++; continue; }
        if (g.due(gaps, timing(now)).length === 0) continue;
        if (!g.askedBefore(alice, [7])) firsts++;
        asked++;
      }
      // Only a request with nothing asked before it goes to the neighbours alone.
      expect(firsts).toBeLessThanOrEqual(1);
      if (heardFirst[0] === true) expect(firsts).toBe(0);
      expect(asked).toBeGreaterThan(0);
    }));
  });
});
