import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/mesh/frame.js";
import { getBlockCodec } from "../../src/mesh/messages/chain.js";
import { helloRequestCodec } from "../../src/mesh/messages/hello-request.js";
import { Priority } from "../../src/mesh/transport.js";
import { helloCodec } from "../../src/mesh/messages/signed.js";
import { CHAIN_ID, GENESIS, HELLO_INTERVAL_MS, hellos, mesh } from "./radio-networks.js";
import { testIdentity } from "../fixtures/chain.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";

/** What senders nobody introduced can make a radio node spend on hellos: fresh keys and node numbers cost them nothing. */
describe("hellos on a radio under a flood", () => {
  it("frames from a hundred made-up node numbers cost no hello at all", async () => {
    const { clock, time, network, stranger } = mesh();
    const a = network(1);
    await a.start();
    await time.runUntil(clock.now() + 30_000);
    const forger = await stranger(60);
    // One radio, a fresh node number on every frame: each is a sender a's table does not know.
    for (let i = 0; i < 100; i++) {
      const other = await stranger(1_000 + i);
      await other.send(MessageType.GetBlock, getBlockCodec.encode({ hash: new Uint8Array(32).fill(i) }), Priority.Sync);
      if (i % 10 === 9) await time.runUntil(clock.now() + 20_000);
      other.stop();
    }
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS);
    expect(hellos(a)).toEqual({ start: 1 });
    forger.stop();
    await a.stop();
  });

  it("signed hellos at start from fresh identities, each newer than ours, cost at most one answer an interval", async () => {
    const { clock, time, network, stranger } = mesh();
    const a = network(1);
    await a.start();
    await time.runUntil(clock.now() + 30_000);
    const intervals = 3;
    for (let i = 0; i < 30; i++) {
      const id = testIdentity(`fresh-${i}`);
      const node = nodeNumberFromPublicKey(id.ed25519.publicKey);
      const sender = await stranger(node);
      // Roles 0x09: a node that has just started (bit 3), the only kind answered on air.
      const payload = helloCodec.encode({ protocolVersion: 1, chain: GENESIS.slice(0, 8), publicKey: id.ed25519.publicKey, nodeNumber: node, tipHeight: 0, finalizedHeight: 0, roles: 0x09, timestamp: Math.floor(clock.now() / 1000) }, CHAIN_ID, id.ed25519);
      await sender.send(MessageType.Hello, payload, Priority.Control);
      await time.runUntil(clock.now() + (intervals * HELLO_INTERVAL_MS) / 30);
      sender.stop();
    }
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS);
    const answers = hellos(a).answer ?? 0;
    expect(answers).toBeGreaterThanOrEqual(1);
    expect(answers).toBeLessThanOrEqual(intervals + 1);
    await a.stop();
  });

  it("forged hello requests naming a node, from fresh node numbers, cost it at most one hello to neighbours every half interval", async () => {
    const { clock, time, network, stranger } = mesh();
    const a = network(1);
    await a.start();
    await time.runUntil(clock.now() + 30_000);
    const halves = 4;
    const start = clock.now();
    for (let i = 0; clock.now() < start + (halves * HELLO_INTERVAL_MS) / 2; i++) {
      const forger = await stranger(2_000 + i);
      // Naming others too, and a itself: only a may answer, and only within its interval.
      await forger.send(MessageType.HelloRequest, helloRequestCodec.encode({ nodes: [7, 1, 9] }), Priority.Control);
      await time.runUntil(clock.now() + 60_000);
      forger.stop();
    }
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS);
    const sent = hellos(a);
    expect(sent.start).toBe(1);
    expect(sent.heal ?? 0).toBeGreaterThan(0);
    expect(sent.heal).toBeLessThanOrEqual(halves + 1);
    // A request naming someone else costs a nothing.
    const quiet = network(3);
    await quiet.start();
    await time.runUntil(clock.now() + 30_000);
    const forger = await stranger(9_999);
    for (let i = 0; i < 20; i++) await forger.send(MessageType.HelloRequest, helloRequestCodec.encode({ nodes: [7] }), Priority.Control);
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS);
    expect(hellos(quiet)).toEqual({ start: 1 });
    forger.stop();
    await a.stop();
    await quiet.stop();
  });
});
