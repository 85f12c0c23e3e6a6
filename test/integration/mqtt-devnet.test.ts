import { describe, expect, it } from "vitest";
import { runMqttDevnet } from "../../src/devnet/mqtt.js";
import { expectFinalizedOverTheAir } from "../fixtures/devnet-checks.js";

/**
 * Real time, real parts: three MeshChain nodes, each reaching the others only through its emulated
 * Meshtastic radio (real protobufs and encryption on an embedded MQTT broker) over the simulated air.
 */
describe("devnet through MQTT and emulated radios", () => {
  it("finalizes the same chain at every node, with a transfer in it", async () => {
    const progress: number[] = [];
    const r = await runMqttDevnet({
      onProgress: (s) => progress.push(s.seconds),
      // A transfer every 12 s: the first is final (about two slots) before the 20 s sample, and the next
      // comes after it, so an idle machine stops there with nothing left to drain.
      nodes: 3, validators: 3, preset: "SHORT_FAST", loss: 0, durationMs: 150_000, txPerMinute: 5, seed: 7, kill: false,
      params: { slotMs: 3_000n, heartbeatSlots: 1n },
      // 20 s at least (two progress samples, and the one at the end), then until the outcome: a loaded machine may need longer.
      stopWhen: (s) => s.seconds >= 20 && s.finalizedHeight >= 2 && s.txsFinal >= 1,
    });
    expectFinalizedOverTheAir(r);
    // Progress every 10 s of the run, and once more at the end: the operator is not left waiting in silence.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.slice(0, 2).map((s) => Math.round(s / 10) * 10)).toEqual([10, 20]);
    expect(r.timeline?.at(-1)?.finalizedHeight).toBe(r.finalizedHeight);
  }, 240_000);
});
