import { describe, expect, it } from "vitest";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../src/consensus/wire.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const SLOT = 10_000;
/** Status rounds far apart: a chain status must not be what heals the lagging validator here. */
const rates = { statusIntervalMs: 1_000 * SLOT, maxStatusSilenceMs: 1_000 * SLOT, helloMinIntervalMs: 60_000 };

/**
 * A validator that lost an idle chain's heartbeat proposal (consensus/engine/claimed-ahead.ts): the
 * idle devnet's lagging validator (issue 20) in a four-validator simulation.
 */
describe("a vote aggregate for a block above our head that we lack", () => {
  it("makes the validator that missed a heartbeat block ask for it, and propose nothing on its stale head meanwhile", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 7, engine: { link: SIM_RADIO_LINK, controlRates: rates }, params: { heartbeatSlots: 10n, fallbackRanks: 0n } });
    // Both copies of block 1's flood lost at the validator after its proposer; its votes and aggregates reach it.
    let lagging = -1;
    sim.filter = (from, to, m) => {
      if (m.kind !== "proposal" || m.block.header.height !== 1) return true;
      if (lagging < 0) lagging = (from + 1) % sim.nodes.length;
      return to !== lagging;
    };
    sim.start();
    sim.runUntil(() => lagging >= 0, 20 * SLOT, 1_000);
    // Without the hint it stayed at genesis until block 2 came, ten slots on, and proposed at every slot it led.
    sim.runUntil(() => sim.nodes.every((n) => n.engine.head().height >= 1), 3 * SLOT, 1_000);
    expect(sim.nodes.map((n) => n.engine.head().height)).toEqual([1, 1, 1, 1]);
    expect(sim.sentByKind.get("get-range") ?? 0).toBeGreaterThan(0);
    sim.run(8 * SLOT);
    expect([...sim.proposals.values()].filter((b) => b.header.height === 1)).toHaveLength(1);
    expect(sim.conflictingFinalized).toBe(0);
  }, 60_000);

  it("costs at most one request a slot when forged, moves nothing, and stops once the forger does", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 8, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    sim.start();
    const target = sim.nodes[0]!;
    const slots = 6;
    // A forger sends an aggregate for a made-up block above the chain every second: unverifiable
    // without its block, so only a hint (heights no block can have yet are dropped: unit test).
    for (let i = 0; i < slots * 10; i++) {
      const ref = Uint8Array.from({ length: 8 }, (_, j) => (i * 31 + j * 7) & 0xff);
      target.engine.receive({ kind: "vote-aggregate", height: 1, blockRef: ref, signers: signerBitmap([0, 1, 2]), signature: new Uint8Array(96).fill(i & 0xff) });
      sim.run(1_000);
    }
    const asked = sim.sentByKind.get("get-range") ?? 0;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThanOrEqual(slots + 1);
    // Nobody holds blocks above genesis: no answer, no block, no head moved.
    expect(sim.sentByKind.get("compact-proposal") ?? 0).toBe(0);
    expect(target.engine.head().height).toBe(0);
    expect(target.engine.stats.notarized).toBe(0);
    // The claim goes stale three slots after the last forged frame: no more requests.
    sim.run(4 * SLOT);
    const after = sim.sentByKind.get("get-range") ?? 0;
    sim.run(10 * SLOT);
    expect(sim.sentByKind.get("get-range") ?? 0).toBe(after);
  }, 60_000);

  it("holds no heartbeat for long when a forger sends every node an aggregate at its head + 1 every two slots", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 9, engine: { link: SIM_RADIO_LINK, controlRates: rates }, params: { heartbeatSlots: 3n } });
    // Each node's range requests, by when sent (one send reaches every other node at once).
    const requests = new Map<number, Set<number>>();
    sim.filter = (from, _to, m) => {
      if (m.kind === "get-range") requests.set(from, (requests.get(from) ?? new Set()).add(sim.clock.now()));
      return true;
    };
    sim.start();
    const slots = 60;
    let forged = 0;
    for (let s = 0; s < slots; s += 2) {
      for (let i = 0; i < sim.nodes.length; i++) {
        const ref = Uint8Array.from({ length: 8 }, (_, j) => (s * 13 + i * 5 + j) & 0xff);
        const head = sim.nodes[i]!.engine.head().height;
        // Through the codec, as a radio frame would come: wire-valid, unverifiable without its block.
        const { type, payload } = encodeConsensusMessage({ kind: "vote-aggregate", height: head + 1, blockRef: ref, signers: signerBitmap([0, 1, 2]), signature: new Uint8Array(48).fill(s & 0xff) });
        const message = decodeConsensusMessage(type, payload);
        expect(message?.kind).toBe("vote-aggregate");
        if (message !== null) sim.deliverTo(i, message);
        forged++;
      }
      sim.run(2 * SLOT);
    }
    expect(forged).toBe(sim.nodes.length * (slots / 2));
    // A claim holds a heartbeat CLAIM_HOLD_SLOTS past when it is due, at most: one every seven slots
    // or so (without the cap: none at all, heads stuck at genesis).
    const heights = sim.nodes.map((n) => n.engine.head().height);
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(5);
    // The forgery draws at most one request a slot from each node (mid-slot, never in the vote-turn
    // window), fewer where a node heard another ask for the same heights first.
    const perNode = sim.nodes.map((_, i) => requests.get(i)?.size ?? 0);
    for (const n of perNode) expect(n).toBeLessThanOrEqual(slots / 2);
    const start = sim.genesis.genesisTime * 1000;
    const offsets = [...requests.values()].flatMap((times) => [...times].map((t) => (t - start) % SLOT));
    expect(offsets.every((o) => o >= SLOT / 3 && o <= (2 * SLOT) / 3)).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
  }, 120_000);
});
