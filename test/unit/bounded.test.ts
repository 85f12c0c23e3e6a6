import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BoundedMap, BoundedSet, HeightWindow } from "../../src/core/bounded.js";

describe("BoundedMap", () => {
  it("forgets the least recently set entry beyond its capacity", () => {
    const m = new BoundedMap<string, number>(2);
    m.set("a", 1).set("b", 2);
    m.set("a", 3); // touched again: now the newest
    m.set("c", 4);
    expect([...m.keys()]).toEqual(["a", "c"]);
    expect(m.get("a")).toBe(3);
    expect(m.has("b")).toBe(false);
  });

  it("never holds more than its capacity, whatever the sequence of writes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (capacity, keys) => {
        const m = new BoundedMap<number, number>(capacity);
        keys.forEach((k, i) => m.set(k, i));
        expect(m.size).toBeLessThanOrEqual(capacity);
        // The newest key written is always kept, with its newest value.
        const last = keys[keys.length - 1];
        if (last !== undefined) expect(m.get(last)).toBe(keys.length - 1);
      }),
    );
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedSet(1.5)).toThrow(RangeError);
    expect(() => new HeightWindow(-1, 0)).toThrow(RangeError);
  });
});

describe("BoundedSet", () => {
  it("keeps the newest additions", () => {
    const s = new BoundedSet<number>(3);
    for (let i = 0; i < 10; i++) s.add(i);
    expect([...s]).toEqual([7, 8, 9]);
    s.add(7);
    s.add(10);
    expect([...s]).toEqual([9, 7, 10]);
  });
});

describe("HeightWindow", () => {
  it("answers for the newest heights only", () => {
    const w = new HeightWindow<string>(3, 5);
    for (let h = 5; h < 15; h++) w.push(`id${h}`);
    expect(w.end).toBe(15);
    expect(w.start).toBe(12);
    expect(w.at(11)).toBeUndefined();
    expect(w.at(12)).toBe("id12");
    expect(w.at(14)).toBe("id14");
    expect(w.at(15)).toBeUndefined();
    expect(w.heightOf("id13")).toBe(13);
    expect(w.heightOf("id6")).toBeNull();
    expect(w.recent()).toEqual({ start: 12, items: ["id12", "id13", "id14"] });
  });

  it("agrees with an unbounded list over its window, for any number of pushes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 60 }), (capacity, start, pushes) => {
        const w = new HeightWindow<number>(capacity, start);
        for (let i = 0; i < pushes; i++) w.push(start + i);
        const { items } = w.recent();
        expect(items.length).toBe(Math.min(capacity, pushes));
        for (let h = start - 1; h <= start + pushes; h++) {
          const kept = h >= start + pushes - capacity && h >= start && h < start + pushes;
          expect(w.at(h)).toBe(kept ? h : undefined);
        }
      }),
    );
  });
});
