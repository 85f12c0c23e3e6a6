import { describe, expect, it } from "vitest";
import { runSimDevnet } from "../../src/devnet/sim.js";

/** Half an hour of 60 s slots: the kill at 20 minutes (the harness kills every 20 minutes) and its restart at 23 fit, and the latecomer joins at a third of it. */
const HALF_HOUR = 30 * 60_000;
/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode, a virtual half hour costs about ten CPU seconds. */
const DEVNET_TIMEOUT_MS = 300_000;

/**
 * MeshChainNodes, the node `meshchain start` runs, radio-only on the LoRa simulator in virtual time. The LongFast scenario lives in the airtime benchmark
 * (docs/benchmarks.md): it takes minutes, not seconds. The calm runs are in devnet.test.ts; these
 * three (crashes, heavy loss, a late joiner) are a file of their own so that two workers share the five.
 */
describe("devnet over the LoRa simulator, under faults", () => {
  it("stays safe while nodes are killed and restarted from their stores", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HALF_HOUR, txPerMinute: 1, seed: 2, kill: true, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.restarts).toBeGreaterThan(0);
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(0);
  }, DEVNET_TIMEOUT_MS);

  it("keeps finalizing, safely, under 30% loss on every link", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.3, durationMs: HALF_HOUR, txPerMinute: 1, seed: 4, kill: false, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(3);
    expect(r.txsFinalized).toBeGreaterThan(r.txsSubmitted / 2);
  }, DEVNET_TIMEOUT_MS);

  it("lets a node that joins late, with an empty store, catch up with everyone's finalized chain", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HALF_HOUR, txPerMinute: 1, seed: 5, kill: false, lateJoin: 1, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    const perNode = (r.nodes ?? []) as { finalized: number }[];
    const latecomer = perNode[4]!;
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    // It started ten minutes in at height 0, and ends at the others' finalized height, or a block short
    // of it: under precommits (the preset's rule) a block final at the validators in the run's last
    // moments reaches a node outside the voting set with the quorum frame that follows their turns.
    expect(latecomer.finalized).toBeGreaterThan(5);
    expect(latecomer.finalized).toBeGreaterThanOrEqual(Math.min(...perNode.slice(0, 4).map((n) => n.finalized)) - 1);
  }, DEVNET_TIMEOUT_MS);
});
