import { describe, expect, it } from "vitest";
import { devnetLayout } from "../../src/devnet/common.js";

describe("devnet layout", () => {
  it("stands nodes on a square grid and makes the ones nearest the middle ROUTERs", () => {
    const layout = devnetLayout(10, 1_500, 1);
    expect(layout.map((l) => l.position)).toContainEqual({ x: 4_500, y: 1_500 });
    expect(layout.filter((l) => l.router).map((l) => l.position)).toEqual([{ x: 1_500, y: 1_500 }]);
    expect(devnetLayout(10, 1_500, 2).filter((l) => l.router)).toHaveLength(2);
    expect(devnetLayout(10, 1_500, 0).some((l) => l.router)).toBe(false);
  });

  it("refuses more routers than nodes", () => {
    expect(() => devnetLayout(4, 1_500, 5)).toThrow(RangeError);
    expect(() => devnetLayout(4, 1_500, -1)).toThrow(RangeError);
  });
});
