import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ReservedCounter } from "../../src/storage/reserved-counter.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

describe("packet id counter", () => {
  it("never repeats a value across restarts, even after a crash mid-block", () => {
    const path = join(dir(), "packet-ids");
    const seen = new Set<number>();
    for (let run = 0; run < 5; run++) {
      // Each "run" takes some ids and then stops without warning: nothing is flushed at exit.
      const c = ReservedCounter.open(path, 4242, 16);
      for (let i = 0; i < 7 + run * 11; i++) {
        const v = c.take();
        expect(seen.has(v)).toBe(false);
        seen.add(v);
      }
    }
    expect(Math.min(...seen)).toBe(4242);
  });

  it("wraps past 2^32−1 without producing 0", () => {
    const path = join(dir(), "ids");
    const c = ReservedCounter.open(path, 0xfffffffe, 4);
    expect([c.take(), c.take(), c.take()]).toEqual([0xfffffffe, 0xffffffff, 1]);
  });

  it("reserves ahead on disk before handing out ids", () => {
    const path = join(dir(), "ids");
    const c = ReservedCounter.open(path, 100, 50);
    c.take();
    expect(readFileSync(path, "utf8").trim()).toBe("150");
  });

  it("refuses a damaged file with a typed error", () => {
    const path = join(dir(), "ids");
    writeFileSync(path, "garbage");
    expect(() => ReservedCounter.open(path, 1)).toThrow(expect.objectContaining({ code: "INVALID" }));
  });
});
