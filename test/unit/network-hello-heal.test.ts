import { describe, expect, it } from "vitest";
import { hellos, mesh } from "../adversarial/radio-networks.js";
import { MessageType } from "../../src/mesh/frame.js";

/** A neighbour's hello at start lost on air, healed by a hello request at 0 hops (hello-heal.ts). */
describe("a neighbour's key lost at start", () => {
  it("is asked for once its frames keep coming at 0 hops, and its hello to neighbours answers", async () => {
    const { clock, time, channel, network } = mesh();
    // Explicit links: nodes 1 and 2 do not hear each other while they say hello at start.
    channel.link(1, 3);
    channel.link(2, 3);
    const [a, b] = [network(1), network(2)];
    await a.start();
    await b.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(a)).toEqual({ start: 1 });
    expect(hellos(b)).toEqual({ start: 1 });
    expect(a.peers.get(2)).toBeUndefined();
    channel.link(1, 2);
    // a keeps speaking (its statuses stand for any frame): b hears them at 0 hops, without a's key.
    for (let i = 0; i < 3; i++) {
      await a.announce(MessageType.Status);
      await time.runUntil(clock.now() + 20_000);
    }
    await time.runUntil(clock.now() + 120_000);
    expect(b.peers.get(1)).toBeDefined();
    expect(hellos(a)).toEqual({ start: 1, heal: 1 });
    // b's request was one frame of b's: too few for a to ask for b's key yet; b's own frames will.
    expect(hellos(b)).toEqual({ start: 1 });
    await a.stop();
    await b.stop();
  });
});
