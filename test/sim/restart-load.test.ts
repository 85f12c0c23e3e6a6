import { describe, expect, it } from "vitest";
import type { MeshChainNode, NodeStatus } from "../../src/node/node.js";
import { type DevnetReport, runSimDevnet } from "../../src/devnet/sim.js";

/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode on a shared machine. */
const DEVNET_TIMEOUT_MS = 300_000;
/** The kill comes at 20 minutes; the node is back at 23. */
const KILL_RUN = { nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0.05, durationMs: 24 * 60_000, txPerMinute: 2, seed: 3, kill: true, params: { slotMs: 30_000n, fallbackRanks: 0n } } as const;

interface MidRun { status: NodeStatus; metrics: string }

/** Reads the first node's status and metrics at the first sample where it has finalized height 2. */
const readMidRun = (into: MidRun[]) => (nodes: readonly (MeshChainNode | null)[]) => {
  const first = nodes[0];
  if (first == null || into.length > 0 || first.status().finalizedHeight < 2) return;
  into.push({ status: first.status(), metrics: "" });
  void first.metricsText().then((text) => ((into[0] as MidRun).metrics = text));
};

/** One run of the kill scenario, read mid-run as above (every run is, so that two compare alike). */
async function killRun(): Promise<{ report: DevnetReport; mid: MidRun[] }> {
  const mid: MidRun[] = [];
  const report = await runSimDevnet({ ...KILL_RUN, inspect: readMidRun(mid) });
  return { report, mid };
}

/**
 * The run every test here reads, made once for the file: a whole devnet run costs seconds of CPU.
 * The mid-run read and the determinism check had runs of their own until 2026-12-02 (in a file
 * of their own, devnet-nodes.test.ts: a six-minute run and two of 25 minutes of this shape).
 */
let shared: ReturnType<typeof killRun> | undefined;
const firstKillRun = (): ReturnType<typeof killRun> => (shared ??= killRun());

/** The devnet runs the node `meshchain start` runs, not a composition of its own. */
describe("devnet nodes", () => {
  it("are MeshChainNodes, radio-only on the simulator, whose status and metrics read mid-run", async () => {
    const seen = (await firstKillRun()).mid[0];
    expect(seen).toBeDefined();
    const status = (seen as MidRun).status;
    expect(status.role).toBe("validator");
    // Its two peers, or one of them: hellos at start go to radio neighbours only, once (hello-reach.ts),
    // and one lost on this 5%-loss channel is made good by that peer's next round, after this read.
    expect(status.peers).toBeGreaterThanOrEqual(1);
    expect(status.peers).toBeLessThanOrEqual(2);
    expect(status.links).toEqual({ ip: null, radio: "connected" });
    expect(status.radio?.link).toBe("injected");
    expect((seen as MidRun).metrics).toMatch(/meshchain_radio_airtime_budget_seconds 180/);
  }, DEVNET_TIMEOUT_MS);
});

/**
 * `--kill` measures restarts under the scenario's load, so users must go on submitting while the
 * killed node is down. The devnet used to stand still for those three minutes (no transfers, no
 * samples) and then submit the nine transfers it owed in one instant, a burst no user makes.
 */
describe("devnet with --kill", () => {
  it("keeps submitting transfers, and sampling, while the killed node is down", async () => {
    const r = (await firstKillRun()).report;
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
    const a = (await firstKillRun()).report;
    const b = (await killRun()).report;
    expect(a.restarts).toBeGreaterThan(0);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  }, 2 * DEVNET_TIMEOUT_MS);
});
