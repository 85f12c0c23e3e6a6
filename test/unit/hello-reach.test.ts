import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FAR_AFTER_FRAMES, HelloReach } from "../../src/node/hello-reach.js";

describe("how far a hello goes on air", () => {
  it("the hello at start goes to neighbours once the radio reports hop counts, mesh-wide before", () => {
    const blind = new HelloReach();
    blind.note(5, null, 0);
    expect(blind.startHopLimit(1_000)).toBeUndefined();
    const r = new HelloReach();
    r.note(5, 0, 0);
    r.note(6, 1, 0);
    expect(r.startHopLimit(1_000)).toBe(0);
  });

  it("a node heard only through relays, three frames of it, asks for a mesh-wide hello; one heard directly does not", () => {
    const r = new HelloReach();
    for (let i = 0; i < FAR_AFTER_FRAMES - 1; i++) r.note(9, 1, i);
    expect(r.meshWideDue).toBe(false);
    r.note(9, 2, 10);
    expect(r.meshWideDue).toBe(true);
    // Heard once straight from its radio: a neighbour, which heard our hello at start.
    r.note(9, 0, 11);
    expect(r.meshWideDue).toBe(false);
  });

  it("a mesh-wide hello covers the far nodes heard before it, not one first heard after", () => {
    const r = new HelloReach();
    for (let i = 0; i < FAR_AFTER_FRAMES; i++) r.note(9, 1, 100);
    r.sentMeshWide(200);
    expect(r.meshWideDue).toBe(false);
    for (let i = 0; i < FAR_AFTER_FRAMES; i++) r.note(10, 2, 300);
    expect(r.meshWideDue).toBe(true);
    r.sentMeshWide(400);
    expect(r.meshWideDue).toBe(false);
  });

  it("a far node known when the hello at start goes makes it mesh-wide, and covered", () => {
    const r = new HelloReach();
    for (let i = 0; i < FAR_AFTER_FRAMES; i++) r.note(9, 1, 100);
    expect(r.startHopLimit(200)).toBeUndefined();
    expect(r.meshWideDue).toBe(false);
  });

  it("peers that hold our key from before a restart ask nothing, a new far node does", () => {
    const r = new HelloReach();
    r.holdUs([9]);
    for (let i = 0; i < FAR_AFTER_FRAMES; i++) r.note(9, 1, 100);
    expect(r.meshWideDue).toBe(false);
    for (let i = 0; i < FAR_AFTER_FRAMES; i++) r.note(10, 1, 100);
    expect(r.meshWideDue).toBe(true);
  });

  it("due exactly when some node never heard directly, heard often enough, was first heard after the last mesh-wide hello (property)", () => {
    const frame = fc.record({ from: fc.integer({ min: 1, max: 6 }), hops: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }), meshWide: fc.boolean() });
    fc.assert(fc.property(fc.array(frame, { maxLength: 60 }), (frames) => {
      const r = new HelloReach();
      const seen = new Map<number, { at: number; frames: number; direct: boolean }>();
      let lastMeshWide = Number.NEGATIVE_INFINITY;
      frames.forEach((f, t) => {
        if (f.meshWide) { r.sentMeshWide(t); lastMeshWide = t; return; }
        r.note(f.from, f.hops, t);
        if (f.hops === null) return;
        const s = seen.get(f.from) ?? { at: t, frames: 0, direct: false };
        s.frames++;
        if (f.hops === 0) s.direct = true;
        seen.set(f.from, s);
      });
      const expected = [...seen.values()].some((s) => !s.direct && s.frames >= FAR_AFTER_FRAMES && s.at > lastMeshWide);
      expect(r.meshWideDue).toBe(expected);
    }));
  });
});
