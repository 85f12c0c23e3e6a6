import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { decodeFrame, encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_REASSEMBLY_LIMITS, fragmentCost, fragmentMessage, MIN_FRAGMENT_BYTES, partialCost, Reassembler } from "../../src/mesh/fragmentation.js";

const limits = DEFAULT_REASSEMBLY_LIMITS;

/** Any fragment any sender could put on the wire: arbitrary sender, id, index, count and size. */
const hostileFragment = fc.record({
  sender: fc.integer({ min: 0, max: 40 }),
  verified: fc.boolean(),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  count: fc.integer({ min: 2, max: 255 }),
  indexSeed: fc.nat(),
  size: fc.integer({ min: 1, max: 226 }),
});

describe("reassembly bounds", () => {
  it("never holds more than its budgets, per sender, per pool and in all, whatever arrives", () => {
    fc.assert(fc.property(fc.array(hostileFragment, { minLength: 1, maxLength: 600 }), (frames) => {
      const r = new Reassembler(limits);
      frames.forEach((f, t) => {
        const frame = decodeFrame(encodeFrame({ type: MessageType.Block, messageId: f.messageId, fragment: { index: f.indexSeed % f.count, count: f.count }, payload: new Uint8Array(f.size) }));
        r.accept(f.sender, frame, t, f.verified);
        const s = r.stats;
        expect(s.unverifiedBytes).toBeLessThanOrEqual(limits.maxUnverifiedBytes);
        expect(s.unverifiedPartials).toBeLessThanOrEqual(limits.maxUnverifiedPartials);
        expect(s.partialBytes - s.unverifiedBytes).toBeLessThanOrEqual(limits.maxPartialBytesTotal);
        expect(s.partials - s.unverifiedPartials).toBeLessThanOrEqual(limits.maxPartials);
      });
      // Everything expires, and the accounting returns to zero exactly.
      r.tick(frames.length + limits.timeoutMs);
      expect([r.stats.partials, r.stats.partialBytes, r.stats.unverifiedPartials, r.stats.unverifiedBytes]).toEqual([0, 0, 0, 0]);
    }), { numRuns: 200 });
  });

  it("counts a partial's real cost, so 1-byte fragments of 255-part messages cannot fill the heap", () => {
    const r = new Reassembler(limits);
    for (let i = 0; i < 262_144 / 64; i++) {
      const frame = decodeFrame(encodeFrame({ type: MessageType.Block, messageId: i & 0xffff, fragment: { index: 254, count: 255 }, payload: Uint8Array.of(1) }));
      r.accept(1_000 + (i % 5_000), frame, i, false);
    }
    expect(r.stats.unverifiedBytes).toBeLessThanOrEqual(limits.maxUnverifiedBytes);
    // Each of those partials costs its slots, not one byte.
    expect(r.stats.unverifiedPartials).toBeLessThanOrEqual(Math.floor(limits.maxUnverifiedBytes / (partialCost(255) + fragmentCost(1))));
    // Tiny fragments before the last come from no honest sender: refused without holding anything.
    const before = r.stats.rejected;
    r.accept(7, decodeFrame(encodeFrame({ type: MessageType.Block, messageId: 1, fragment: { index: 0, count: 255 }, payload: new Uint8Array(MIN_FRAGMENT_BYTES - 1) })), 0, true);
    expect(r.stats.rejected).toBe(before + 1);
  });

  it("completes a verified peer's message under any flood from unverified senders", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 300, maxLength: 4000 }), fc.array(hostileFragment, { minLength: 50, maxLength: 400 }), fc.integer(), (message, flood, seed) => {
      const honest = fragmentMessage(MessageType.Block, 9, message, 231).map(decodeFrame);
      const r = new Reassembler(limits);
      const done: Uint8Array[] = [];
      let h = 0;
      flood.forEach((f, t) => {
        const frame = decodeFrame(encodeFrame({ type: MessageType.Block, messageId: f.messageId, fragment: { index: f.indexSeed % f.count, count: f.count }, payload: new Uint8Array(f.size) }));
        r.accept(100 + f.sender, frame, t, false);
        if ((t + seed) % 3 === 0 && h < honest.length) {
          const m = r.accept(1, honest[h++]!, t, true);
          if (m !== null) done.push(m.payload);
        }
      });
      while (h < honest.length) {
        const m = r.accept(1, honest[h++]!, flood.length, true);
        if (m !== null) done.push(m.payload);
      }
      expect(done.map(toHex)).toEqual([toHex(message)]);
    }), { numRuns: 100 });
  });
});
