import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/mesh/frame.js";
import { TokenBucket } from "../../src/mesh/token-bucket.js";
import { UNSIGNED_RATES, UnsignedRates } from "../../src/node/unsigned-rates.js";

describe("rate limits", () => {
  it("a token bucket allows its burst, then its rate, and never more however long it waited", () => {
    const b = new TokenBucket(4, 1_000, 0);
    expect([1, 2, 3, 4, 5].map(() => b.take(0))).toEqual([true, true, true, true, false]);
    expect(b.take(250)).toBe(true);
    expect(b.take(250)).toBe(false);
    expect(Array.from({ length: 10 }, () => b.take(1_000_000)).filter(Boolean)).toHaveLength(4);
    expect(b.take(1_000_000, 2)).toBe(false);
  });

  it("unsigned messages: a burst of two seconds per node number, and a total however many node numbers send", () => {
    const rates = new UnsignedRates();
    const { perSender, total } = UNSIGNED_RATES.get(MessageType.ChainStatus)!;
    const fromOne = Array.from({ length: 10 }, () => rates.allow(MessageType.ChainStatus, 7, 0, 300)).filter(Boolean).length;
    expect(fromOne).toBe(2 * perSender);
    const fromMany = Array.from({ length: 200 }, (_, i) => rates.allow(MessageType.ChainStatus, 1_000 + i, 0, 300)).filter(Boolean).length;
    expect(fromMany).toBe(2 * total - fromOne);
    // Two seconds later the budget is back; messages that carry their own signatures are never limited.
    expect(rates.allow(MessageType.ChainStatus, 7, 2_000, 300)).toBe(true);
    expect(Array.from({ length: 1_000 }, () => rates.allow(MessageType.Vote, 7, 0, 300)).every(Boolean)).toBe(true);
  });
});
