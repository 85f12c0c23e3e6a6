import { describe, expect, it } from "vitest";
import { runSimDevnet } from "../../src/devnet/sim.js";

const HOUR = 3_600_000;
/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode, a virtual hour costs tens of CPU seconds. */
const DEVNET_TIMEOUT_MS = 300_000;

/**
 * MeshChainNodes, the node `meshchain start` runs, radio-only on the LoRa simulator in virtual time. The LongFast scenario lives in the airtime benchmark
 * (docs/benchmarks.md): it takes minutes, not seconds.
 */
describe("devnet over the LoRa simulator", () => {
  it("finalizes with agreeing chains and no conflicts under 10% loss", async () => {
    // Half an hour at two transfers a minute: the sixty transfers an hour at one a minute gave, in half the slots.
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR / 2, txPerMinute: 2, seed: 1, kill: false, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(5);
    // Submitted at random nodes, every one final at every node once the network drains.
    expect(r.txsSubmitted).toBeGreaterThan(40);
    expect(r.txsFinalized).toBe(r.txsSubmitted);
    expect(r.maxNodeDutyCycle).toBeLessThanOrEqual(0.1);
  }, DEVNET_TIMEOUT_MS);

  it("falls silent when idle: no transactions on air, only heartbeat blocks and their votes", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR, txPerMinute: 0, seed: 3, kill: false, params: { slotMs: 60_000n, heartbeatSlots: 10n, fallbackRanks: 0n } });
    expect(r.airtimeSeconds.tx).toBe(0);
    const proposed = (r.nodes ?? []).reduce((sum, n) => sum + ((n as { engine: { proposed: number } }).engine.proposed), 0);
    // 60 slots, a heartbeat every 10: six blocks, not sixty.
    expect(proposed).toBeGreaterThan(0);
    expect(proposed).toBeLessThanOrEqual(7);
    expect(r.conflictingFinalized).toBe(0);
  }, DEVNET_TIMEOUT_MS);
});
