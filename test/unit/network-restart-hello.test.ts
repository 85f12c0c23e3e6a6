import { describe, expect, it } from "vitest";
import { hellos, pairStarted } from "../adversarial/radio-networks.js";

const HOUR = 3_600_000;

describe("hello at start after a restart", () => {
  it("stays off the air when the peer table from before the restart is recent, and peers still hold the node", async () => {
    const { clock, time, network, a, b } = await pairStarted();
    expect(b.peers.get(1)).toBeDefined();
    await a.stop();
    await time.runUntil(clock.now() + 3 * 60_000);
    const again = network(1);
    await again.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(again)).toEqual({});
    // It knows its peer from disk, and the peer still knows it: nothing was lost by the silence.
    expect(again.peers.get(2)).toBeDefined();
    expect(b.peers.get(1)).toBeDefined();
    expect(hellos(b)).toEqual({ start: 1 });
    // Its next round's hello is what peers hear from it next.
    await again.sayHello("round");
    await time.runUntil(clock.now() + 60_000);
    expect(b.peers.get(1)?.lastSeen).toBeGreaterThan(clock.now() - 60_000);
    for (const n of [again, b]) await n.stop();
  });

  it("says hello at start after a long absence (peers may have forgotten it) and on a first start", async () => {
    const { clock, time, network, a, b } = await pairStarted();
    expect(hellos(a)).toEqual({ start: 1 });
    await a.stop();
    await b.stop();
    // Half the peers' memory and more: the hello at start goes out again.
    await time.runUntil(clock.now() + 5 * HOUR);
    const back = network(1);
    await back.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(back)).toEqual({ start: 1 });
    await back.stop();
  });
});
