import { describe, expect, it } from "vitest";
import { runSimDevnet } from "../../src/node/devnet.js";

const HOUR = 3_600_000;

/**
 * Full nodes (SQLite stores, signing records, mempools, engines, endpoints, airtime schedulers) on
 * the LoRa simulator, with compact block relay. The LongFast scenario lives in the airtime benchmark
 * (docs/benchmarks.md): it takes minutes, not seconds.
 */
describe("devnet over the LoRa simulator", () => {
  it("finalizes with agreeing chains and no conflicts under 10% loss", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR, txPerMinute: 1, seed: 1, kill: false, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(5);
    // Submitted at random nodes, every one final at every node once the network drains.
    expect(r.txsSubmitted).toBeGreaterThan(40);
    expect(r.txsFinalized).toBe(r.txsSubmitted);
    expect(r.maxNodeDutyCycle).toBeLessThanOrEqual(0.1);
  });

  it("falls silent when idle: no transactions on air, only heartbeat blocks and their votes", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR, txPerMinute: 0, seed: 3, kill: false, params: { slotMs: 60_000n, heartbeatSlots: 10n, fallbackRanks: 0n } });
    expect(r.airtimeSeconds.tx).toBe(0);
    const proposed = (r.nodes ?? []).reduce((sum, n) => sum + ((n as { engine: { proposed: number } }).engine.proposed), 0);
    // 60 slots, a heartbeat every 10: six blocks, not sixty.
    expect(proposed).toBeGreaterThan(0);
    expect(proposed).toBeLessThanOrEqual(7);
    expect(r.conflictingFinalized).toBe(0);
  });

  it("stays safe while nodes are killed and restarted from their stores", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR, txPerMinute: 1, seed: 2, kill: true, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.restarts).toBeGreaterThan(0);
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(0);
  });

  it("keeps finalizing, safely, under 30% loss on every link", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.3, durationMs: HOUR, txPerMinute: 1, seed: 4, kill: false, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    expect(r.finalizedHeight).toBeGreaterThan(3);
    expect(r.txsFinalized).toBeGreaterThan(r.txsSubmitted / 2);
  });

  it("lets a node that joins late, with an empty store, catch up with everyone's finalized chain", async () => {
    const r = await runSimDevnet({ nodes: 5, validators: 4, preset: "MEDIUM_FAST", loss: 0.1, durationMs: HOUR, txPerMinute: 1, seed: 5, kill: false, lateJoin: 1, params: { slotMs: 60_000n, fallbackRanks: 0n } });
    const perNode = (r.nodes ?? []) as { finalized: number }[];
    const latecomer = perNode[4]!;
    expect(r.conflictingFinalized).toBe(0);
    expect(r.finalizedHashesAgree).toBe(true);
    // It started twenty minutes in at height 0, and ends at the others' finalized height.
    expect(latecomer.finalized).toBeGreaterThan(5);
    expect(latecomer.finalized).toBe(Math.min(...perNode.slice(0, 4).map((n) => n.finalized)));
  });
});
