import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NonceGaps } from "../../src/consensus/nonce-gaps.js";
import { MAX_REQUESTED_NONCES } from "../../src/mesh/messages/relay.js";

const alice = new Uint8Array(8).fill(1);
const bob = new Uint8Array(8).fill(2);
const timing = (now: number) => ({ now, minAgeMs: 5_000, askEveryMs: 30_000 });

describe("nonce gaps", () => {
  it("asks for a gap once it has lasted the minimum age, then not again until the interval passes", () => {
    const g = new NonceGaps(100);
    const gaps = [{ sender: alice, nonces: [3, 5] }];
    g.update(gaps, 0);
    expect(g.due(gaps, timing(4_999))).toEqual([]);
    expect(g.due(gaps, timing(5_000))).toEqual([{ sender: alice, nonces: [3, 5] }]);
    expect(g.due(gaps, timing(34_999))).toEqual([]);
    expect(g.due(gaps, timing(35_000))).toEqual([{ sender: alice, nonces: [3, 5] }]);
  });

  it("doubles a gap's interval with each request, up to eight times, and starts over once it is filled", () => {
    const g = new NonceGaps(100);
    const gaps = [{ sender: alice, nonces: [3] }];
    g.update(gaps, 0);
    const askedAt: number[] = [];
    for (let t = 0; t <= 600_000; t += 1_000) if (g.due(gaps, timing(t)).length > 0) askedAt.push(t);
    // 5 s, then 30, 60, 120, 240, 240 … s apart.
    expect(askedAt.slice(0, 6)).toEqual([5_000, 35_000, 95_000, 215_000, 455_000, 695_000].filter((t) => t <= 600_000));
    // A heard request counts as one: it too pushes the next one out.
    const h = new NonceGaps(100);
    h.update(gaps, 0);
    h.heard(alice, [3], 1_000);
    h.heard(alice, [3], 2_000);
    expect(h.due(gaps, timing(31_000))).toEqual([]);
    expect(h.due(gaps, timing(62_000))).toEqual(gaps);
    // Filled, then missing again: back to the base interval.
    h.update([], 70_000);
    h.update(gaps, 70_000);
    expect(h.due(gaps, timing(75_000))).toEqual([]);
    h.heard(alice, [3], 75_000);
    expect(h.due(gaps, timing(105_000))).toEqual(gaps);
  });

  it("stays quiet about what another node asked for, and forgets filled gaps", () => {
    const g = new NonceGaps(100);
    g.update([{ sender: alice, nonces: [3] }, { sender: bob, nonces: [0] }], 0);
    g.heard(alice, [3], 4_000);
    expect(g.due([{ sender: alice, nonces: [3] }, { sender: bob, nonces: [0] }], timing(10_000))).toEqual([{ sender: bob, nonces: [0] }]);
    // Bob's nonce 0 arrived; a new gap of Bob's starts its own clock.
    g.update([{ sender: bob, nonces: [4] }], 20_000);
    expect(g.due([{ sender: bob, nonces: [4] }], timing(24_000))).toEqual([]);
    expect(g.due([{ sender: bob, nonces: [4] }], timing(25_000))).toEqual([{ sender: bob, nonces: [4] }]);
  });

  it("asks at most once per sender, for at most the request's nonces, only for gaps it was told of (property)", () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 20 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { maxLength: 20 }),
      fc.integer({ min: 0, max: 100_000 }),
      (known, asked, now) => {
        const g = new NonceGaps(1_000);
        const nonces = [...known].sort((a, b) => a - b);
        g.update([{ sender: alice, nonces }], 0);
        const due = g.due([{ sender: alice, nonces: [...nonces, ...asked.filter((n) => !known.includes(n))] }], timing(now));
        expect(due.length).toBeLessThanOrEqual(1);
        for (const d of due) {
          expect(d.nonces.length).toBeLessThanOrEqual(MAX_REQUESTED_NONCES);
          for (const n of d.nonces) expect(known).toContain(n);
        }
        if (now < 5_000) expect(due).toEqual([]);
      },
    ));
  });
});
