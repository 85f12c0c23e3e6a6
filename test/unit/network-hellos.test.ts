import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/mesh/frame.js";
import { getBlockCodec } from "../../src/mesh/messages/chain.js";
import { Priority } from "../../src/mesh/transport.js";
import { helloCodec } from "../../src/mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { CHAIN_ID, GENESIS, HELLO_INTERVAL_MS, hellos, mesh, pairStarted } from "../adversarial/radio-networks.js";
import { testIdentity } from "../fixtures/chain.js";

describe("hellos on a radio", () => {
  it("nodes started together say hello once each and do not answer one another", async () => {
    const { clock, time, network } = mesh();
    const nets = [1, 2, 3].map((i) => network(i));
    for (const n of nets) await n.start();
    await time.runUntil(clock.now() + 60_000);
    for (const n of nets) {
      expect(n.peerCount).toBe(2);
      expect(hellos(n)).toEqual({ start: 1 });
    }
    for (const n of nets) await n.stop();
  });

  it("a newcomer that started after our hello gets one answer from each, however many newcomers come in an interval", async () => {
    const { clock, time, network } = mesh();
    const first = [1, 2].map((i) => network(i));
    for (const n of first) await n.start();
    await time.runUntil(clock.now() + 60_000);
    const late = network(3);
    await late.start();
    await time.runUntil(clock.now() + 60_000);
    expect(late.peerCount).toBe(2);
    for (const n of first) expect(hellos(n)).toEqual({ start: 1, answer: 1 });
    // A second newcomer inside the interval shares one answer at its end.
    const later = network(4);
    await later.start();
    await time.runUntil(clock.now() + 60_000);
    for (const n of first) expect(hellos(n)).toEqual({ start: 1, answer: 1 });
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS);
    for (const n of first) expect(hellos(n)).toEqual({ start: 1, answer: 2 });
    expect(later.peerCount).toBe(3);
    for (const n of [...first, late, later]) await n.stop();
  });

  it("a sender no hello introduced is heard, and costs no hello (it is introduced at its next round)", async () => {
    const { clock, time, network, stranger } = mesh();
    const a = network(1);
    await a.start();
    const unknown = await stranger(50);
    for (let i = 0; i < 5; i++) {
      await unknown.send(MessageType.GetBlock, getBlockCodec.encode({ hash: new Uint8Array(32).fill(i) }), Priority.Sync);
      await time.runUntil(clock.now() + 30_000);
    }
    expect(hellos(a)).toEqual({ start: 1 });
    expect(a.peerCount).toBe(0);
    await a.stop();
    unknown.stop();
  });

  it("a newer hello from a node we missed is not answered unless that node has just started", async () => {
    const { clock, time, network, stranger } = mesh();
    const a = network(1);
    await a.start();
    await time.runUntil(clock.now() + 60_000);
    const say = async (name: string, roles: number) => {
      const id = testIdentity(name);
      const node = nodeNumberFromPublicKey(id.ed25519.publicKey);
      const sender = await stranger(node);
      const payload = helloCodec.encode({ protocolVersion: 1, chain: GENESIS.slice(0, 8), publicKey: id.ed25519.publicKey, nodeNumber: node, tipHeight: 0, finalizedHeight: 0, roles, timestamp: Math.floor(clock.now() / 1000) }, CHAIN_ID, id.ed25519);
      await sender.send(MessageType.Hello, payload, Priority.Control);
      await time.runUntil(clock.now() + 60_000);
      sender.stop();
      return node;
    };
    // A round's hello (or an answer) of a node that has been up for a while: it heard us, or will at our round.
    const old = await say("up-for-hours", 0x01);
    expect(a.peers.get(old)).toBeDefined();
    expect(hellos(a)).toEqual({ start: 1 });
    const fresh = await say("just-started", 0x09);
    expect(a.peers.get(fresh)).toBeDefined();
    expect(hellos(a)).toEqual({ start: 1, answer: 1 });
    await a.stop();
  });

  it("the round's hello refreshes a peer that knows us and is not answered", async () => {
    const { clock, time, a, b } = await pairStarted();
    await a.sayHello("round");
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(a)).toEqual({ start: 1, round: 1 });
    expect(hellos(b)).toEqual({ start: 1 });
    expect(b.peers.get(1)?.lastSeen).toBeGreaterThan(clock.now() - 60_000);
    await a.stop();
    await b.stop();
  });

  it("a hello at start, signed before its pause, says nothing of its sender's clock; a round's hello does", async () => {
    const { clock, time, a, b } = await pairStarted();
    expect(b.peers.get(1)).toBeDefined();
    // Its timestamp is up to the pause old when it arrives: as a clock it would read a's as behind.
    expect(b.peerClockOffsetMs).toBeNull();
    await a.sayHello("round");
    await time.runUntil(clock.now() + 60_000);
    // Signed as it goes out: behind by the delivery time and the timestamp's whole second at most.
    const offset = b.peerClockOffsetMs;
    expect(offset).not.toBeNull();
    expect(Math.abs(offset as number)).toBeLessThan(30_000);
    await a.stop();
    await b.stop();
  });
});
