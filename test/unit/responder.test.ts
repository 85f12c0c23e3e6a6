import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { responderRank } from "../../src/consensus/engine/responder.js";

const addresses = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(20).fill(i + 1));

describe("responder rank (one answerer per request on the radio)", () => {
  it("gives every validator a distinct rank, the same at every node, and -1 to a non-validator", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.string(), fc.nat(1_000_000), (n, key, slot) => {
        const set = addresses(n);
        const ranks = set.map((a) => responderRank(set, a, key, slot));
        expect([...ranks].sort((x, y) => x - y)).toEqual(set.map((_, i) => i));
        // Order of the set as a node holds it does not matter: every node names the same answerer.
        const reversed = [...set].reverse();
        expect(set.map((a) => responderRank(reversed, a, key, slot))).toEqual(ranks);
        expect(responderRank(set, new Uint8Array(20).fill(0xee), key, slot)).toBe(-1);
      }),
    );
  });

  it("moves the duty between validators from slot to slot and from request to request", () => {
    const set = addresses(7);
    const first = (key: string, slot: number) => set.findIndex((a) => responderRank(set, a, key, slot) === 0);
    const bySlot = new Set(Array.from({ length: 200 }, (_, slot) => first("block:ab", slot)));
    const byKey = new Set(Array.from({ length: 200 }, (_, i) => first(`block:${i}`, 5)));
    // An answerer that is down or lacks the block costs the asker one slot: someone else is first next slot.
    expect(bySlot.size).toBe(7);
    expect(byKey.size).toBe(7);
    // And no validator carries much more than its share.
    const counts = new Array<number>(7).fill(0);
    for (let slot = 0; slot < 7_000; slot++) {
      const answerer = first("range:10:8", slot);
      counts[answerer] = (counts[answerer] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
