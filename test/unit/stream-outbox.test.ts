import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Priority } from "../../src/mesh/transport.js";
import { RadioOutbox } from "../../src/mesh/transports/stream-outbox.js";

const frame = (n: number) => Uint8Array.of(n);
const drain = (o: RadioOutbox): number[] => {
  const out: number[] = [];
  for (let f = o.take(); f !== undefined; f = o.take()) out.push(f.frame[0] as number);
  return out;
};

describe("radio outbox", () => {
  it("gives the most urgent class first, in order within a class, and refuses beyond its limit", () => {
    const o = new RadioOutbox(3);
    o.add(frame(1), Priority.Sync);
    o.add(frame(2), Priority.Consensus);
    o.add(frame(3), Priority.Sync);
    expect(() => o.add(frame(4), Priority.Consensus)).toThrow(expect.objectContaining({ code: "QUEUE_FULL" }));
    expect(drain(o)).toEqual([2, 1, 3]);
  });

  it("puts a refused frame back once, whether the QueueStatus or the Routing error comes first", () => {
    for (const queueStatusFirst of [true, false]) {
      const o = new RadioOutbox(8);
      o.add(frame(7), Priority.Consensus);
      o.handed(100, o.take()!);
      expect(o.unconfirmedCount).toBe(1);
      if (queueStatusFirst) {
        expect(o.reported(100, false)).toBe(true);
        expect(o.refused(100, true)).toEqual({ wasCountedSent: false });
      } else {
        expect(o.refused(100, true)).toEqual({ wasCountedSent: true });
        expect(o.reported(100, false)).toBe(false);
      }
      expect(o.unconfirmedCount).toBe(0);
      expect(drain(o)).toEqual([7]);
    }
  });

  it("drops for good a frame refused for good, even after its QueueStatus put it back", () => {
    const o = new RadioOutbox(8);
    o.add(frame(5), Priority.Control);
    o.handed(1, o.take()!);
    expect(o.reported(1, false)).toBe(true);
    expect(o.waitingCount).toBe(1);
    expect(o.refused(1, false)).toEqual({ wasCountedSent: false });
    expect(o.waitingCount).toBe(0);
    expect(o.refused(1, false)).toBeNull();
  });

  it("sends again, ahead of the rest, what the radio never reported on when the link went down", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 10 }), (handed, waiting) => {
        const o = new RadioOutbox(64);
        for (let i = 0; i < handed + waiting; i++) o.add(frame(i), Priority.Transaction);
        for (let i = 0; i < handed; i++) o.handed(1000 + i, o.take()!);
        o.reported(1000, true);
        expect(o.requeueUnconfirmed()).toBe(handed - 1);
        expect(drain(o)).toEqual(Array.from({ length: handed + waiting - 1 }, (_, i) => i + 1));
      }),
    );
  });
});
