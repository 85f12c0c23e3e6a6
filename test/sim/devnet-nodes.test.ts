import { describe, expect, it } from "vitest";
import type { NodeStatus } from "../../src/node/node.js";
import { runSimDevnet } from "../../src/devnet/sim.js";

/**
 * A bound on waiting, not a speed assertion: each node is the whole MeshChainNode (SQLite stores,
 * status ticks, every signature checked), a few seconds of CPU per virtual minute on a shared machine.
 */
const DEVNET_TIMEOUT_MS = 300_000;
const SMALL = { nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0.05, txPerMinute: 1, kill: false, params: { slotMs: 30_000n, fallbackRanks: 0n } } as const;

/**
 * The devnet runs the node `meshchain start` runs, not a composition of its own. That the same seed
 * gives the same report, a kill included, is tested in restart-load.test.ts on the run it makes anyway.
 */
describe("devnet nodes", () => {
  it("are MeshChainNodes, radio-only on the simulator, whose status and metrics read mid-run", async () => {
    const mid: { status: NodeStatus; metrics: string }[] = [];
    await runSimDevnet({
      // Six minutes: seed 7's first node has finalized height 2 at the third minute's sample, where this reads it.
      ...SMALL, seed: 7, durationMs: 6 * 60_000,
      inspect: (nodes) => {
        const first = nodes[0];
        if (first == null || mid.length > 0 || first.status().finalizedHeight < 2) return;
        mid.push({ status: first.status(), metrics: "" });
        void first.metricsText().then((text) => ((mid[0] as { metrics: string }).metrics = text));
      },
    });
    const seen = mid[0];
    expect(seen).toBeDefined();
    const status = (seen as { status: NodeStatus }).status;
    expect(status.role).toBe("validator");
    expect(status.peers).toBe(2);
    expect(status.links).toEqual({ ip: null, radio: "connected" });
    expect(status.radio?.link).toBe("injected");
    expect((seen as { metrics: string }).metrics).toMatch(/meshchain_radio_airtime_budget_seconds 180/);
  }, DEVNET_TIMEOUT_MS);
});
