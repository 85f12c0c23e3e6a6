import { describe, expect, it } from "vitest";
import { type DevnetReport, runSimDevnet } from "../../src/devnet/sim.js";

/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode on a shared machine. */
const DEVNET_TIMEOUT_MS = 300_000;
/** The kill comes at 20 minutes; the node is back at 23. */
const KILL_RUN = { nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0.05, durationMs: 24 * 60_000, txPerMinute: 2, seed: 3, kill: true, params: { slotMs: 30_000n, fallbackRanks: 0n } } as const;

/**
 * The run both tests read, made once for the file: the determinism test compares a second run with
 * it (it did so on a run of its own in devnet-nodes.test.ts, the same shape, at one transfer a minute).
 */
let killRun: Promise<DevnetReport> | undefined;
const firstKillRun = (): Promise<DevnetReport> => (killRun ??= runSimDevnet(KILL_RUN));

/**
 * `--kill` measures restarts under the scenario's load, so users must go on submitting while the
 * killed node is down. The devnet used to stand still for those three minutes (no transfers, no
 * samples) and then submit the nine transfers it owed in one instant, a burst no user makes.
 */
describe("devnet with --kill", () => {
  it("keeps submitting transfers, and sampling, while the killed node is down", async () => {
    const r = await firstKillRun();
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

  it("is deterministic: the same seed gives the same report, a kill and a restart included", async () => {
    const a = await firstKillRun();
    const b = await runSimDevnet(KILL_RUN);
    expect(a.restarts).toBeGreaterThan(0);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  }, 2 * DEVNET_TIMEOUT_MS);
});
