import { describe, expect, it } from "vitest";
import { runSimDevnet } from "../../src/devnet/sim.js";

/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode on a shared machine. */
const DEVNET_TIMEOUT_MS = 300_000;

/**
 * `--kill` measures restarts under the scenario's load, so users must go on submitting while the
 * killed node is down. The devnet used to stand still for those three minutes (no transfers, no
 * samples) and then submit the nine transfers it owed in one instant, a burst no user makes.
 */
describe("devnet with --kill", () => {
  it("keeps submitting transfers, and sampling, while the killed node is down", async () => {
    // The kill comes at 20 minutes; the node is back at 23.
    const r = await runSimDevnet({ nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0.05, durationMs: 24 * 60_000, txPerMinute: 2, seed: 3, kill: true, params: { slotMs: 30_000n, fallbackRanks: 0n } });
    expect(r.restarts).toBe(1);
    const timeline = r.timeline ?? [];
    const seconds = timeline.map((s) => s.seconds);
    // One sample a minute of virtual time, none repeated at the restart's instant.
    expect(seconds).toEqual([...new Set(seconds)].sort((a, b) => a - b));
    const at = (s: number) => timeline.find((x) => x.seconds === s)?.txsSubmitted;
    const atKill = at(20 * 60);
    const whileDown = at(22 * 60);
    expect(atKill).toBeDefined();
    expect(whileDown).toBeDefined();
    // Two a minute, at the two nodes still up.
    expect((whileDown as number) - (atKill as number)).toBeGreaterThanOrEqual(3);
    expect(r.conflictingFinalized).toBe(0);
  }, DEVNET_TIMEOUT_MS);
});
