import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ASK_AFTER_FRAMES, HelloHeal } from "../../src/node/hello-heal.js";
import { helloRequestCodec, MAX_HELLO_REQUEST_NODES } from "../../src/mesh/messages/hello-request.js";
import { DecodeError, EncodeError } from "../../src/core/errors.js";

const TIMES = { settleMs: 138_000, intervalMs: 1_380_000, askGapMs: 690_000 };
const lacksAll = (): boolean => true;

/** Neighbours heard at 0 hops `frames` times from `at` on. */
function heard(h: HelloHeal, nodes: readonly number[], frames: number, at = 0): void {
  for (const n of nodes) for (let i = 0; i < frames; i++) h.note(n, 0, at + i);
}

describe("asking neighbours for the keys we lack (hello-heal.ts)", () => {
  it("asks after N frames at 0 hops and the settling wait since the first, naming every such neighbour in one request", () => {
    const h = new HelloHeal(TIMES);
    heard(h, [5, 6], ASK_AFTER_FRAMES - 1);
    expect(h.toAsk(TIMES.settleMs, lacksAll)).toEqual([]);
    heard(h, [5, 6], 1, 10);
    // Its hello at start may still be on its way (or the first slots still busy on air).
    expect(h.toAsk(TIMES.settleMs - 1, lacksAll)).toEqual([]);
    expect(h.toAsk(TIMES.settleMs, lacksAll)).toEqual([5, 6]);
  });

  it("does not ask for far nodes (heard only through relays, or without hop counts from a radio that never reported one) nor for nodes whose keys we hold", () => {
    const h = new HelloHeal(TIMES);
    for (let i = 0; i < 10; i++) h.note(8, null, i);
    for (let i = 0; i < 10; i++) h.note(7, 1, i);
    heard(h, [9], ASK_AFTER_FRAMES);
    expect(h.toAsk(TIMES.settleMs * 2, (n) => n !== 9)).toEqual([]);
    expect(h.toAsk(TIMES.settleMs * 2, lacksAll)).toEqual([]);
  });

  it("counts frames without a hop count (sent at hop limit 0) as a neighbour's once the radio reports hop counts", () => {
    const h = new HelloHeal(TIMES);
    h.note(7, 1, 0);
    for (let i = 0; i < ASK_AFTER_FRAMES; i++) h.note(8, null, i);
    expect(h.toAsk(TIMES.settleMs, lacksAll)).toEqual([8]);
  });

  it("repeats a request at most once per gap in all and once per interval for the same node", () => {
    const h = new HelloHeal(TIMES);
    heard(h, [5], ASK_AFTER_FRAMES);
    const t0 = TIMES.settleMs;
    expect(h.toAsk(t0, lacksAll)).toEqual([5]);
    heard(h, [6], ASK_AFTER_FRAMES, 1);
    // Node 6 is due too, but a request just went.
    expect(h.toAsk(t0 + TIMES.askGapMs - 1, lacksAll)).toEqual([]);
    expect(h.toAsk(t0 + TIMES.askGapMs, lacksAll)).toEqual([6]);
    expect(h.toAsk(t0 + TIMES.intervalMs - 1, lacksAll)).toEqual([]);
    expect(h.toAsk(t0 + TIMES.intervalMs, lacksAll)).toEqual([5]);
  });

  it("names at most a request's worth of nodes, the rest at the next gap", () => {
    const h = new HelloHeal(TIMES);
    const many = Array.from({ length: MAX_HELLO_REQUEST_NODES + 3 }, (_, i) => 100 + i);
    heard(h, many, ASK_AFTER_FRAMES);
    expect(h.toAsk(TIMES.settleMs, lacksAll)).toEqual(many.slice(0, MAX_HELLO_REQUEST_NODES));
    expect(h.toAsk(TIMES.settleMs + TIMES.askGapMs, lacksAll)).toEqual(many.slice(MAX_HELLO_REQUEST_NODES));
  });
});

describe("answering a request for our key", () => {
  it("answers only when named, only at 0 hops, and at most once per interval whoever asks", () => {
    const h = new HelloHeal(TIMES);
    expect(h.answer(false, 0, 0)).toBe(false);
    expect(h.answer(true, 1, 0)).toBe(false);
    expect(h.answer(true, 0, 0)).toBe(true);
    expect(h.answer(true, 0, TIMES.intervalMs - 1)).toBe(false);
    // As requests arrive: sent at hop limit 0, with no hop count.
    expect(h.answer(true, null, TIMES.intervalMs)).toBe(true);
  });

  it("a flood of forged requests naming us costs at most one answer an interval", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 * TIMES.intervalMs }), { maxLength: 500 }), (times) => {
        const h = new HelloHeal(TIMES);
        const answered = [...times].sort((a, b) => a - b).filter((t) => h.answer(true, 0, t));
        for (let i = 1; i < answered.length; i++) expect((answered[i] as number) - (answered[i - 1] as number)).toBeGreaterThanOrEqual(TIMES.intervalMs);
        expect(answered.length).toBeLessThanOrEqual(11);
      }),
    );
  });

  it("a flood of frames from made-up node numbers costs at most one request a gap", () => {
    const h = new HelloHeal(TIMES);
    let requests = 0;
    for (let t = 0; t < 10 * TIMES.askGapMs; t += 1_000) {
      heard(h, [1_000 + t], ASK_AFTER_FRAMES, t);
      if (h.toAsk(t, lacksAll).length > 0) requests++;
    }
    expect(requests).toBeLessThanOrEqual(10);
  });
});

describe("the hello request codec", () => {
  it("round-trips 1-8 distinct non-zero node numbers and refuses anything else", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: MAX_HELLO_REQUEST_NODES }), (nodes) => {
        expect(helloRequestCodec.decode(helloRequestCodec.encode({ nodes })).nodes).toEqual(nodes);
      }),
    );
    expect(() => helloRequestCodec.decode(Uint8Array.of(0))).toThrow(DecodeError);
    expect(() => helloRequestCodec.decode(Uint8Array.of(9, ...new Uint8Array(36)))).toThrow(DecodeError);
    expect(() => helloRequestCodec.decode(Uint8Array.of(2, 0, 0, 0, 5, 0, 0, 0, 5))).toThrow(DecodeError);
    expect(() => helloRequestCodec.decode(Uint8Array.of(1, 0, 0, 0, 0))).toThrow(DecodeError);
    expect(() => helloRequestCodec.decode(Uint8Array.of(1, 0, 0, 0, 5, 1))).toThrow(DecodeError);
    // What decode refuses, encode does not write.
    expect(() => helloRequestCodec.encode({ nodes: [5, 5] })).toThrow(EncodeError);
    expect(() => helloRequestCodec.encode({ nodes: [0] })).toThrow(EncodeError);
  });

  it("never throws anything but a DecodeError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          helloRequestCodec.decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
    );
  });
});
