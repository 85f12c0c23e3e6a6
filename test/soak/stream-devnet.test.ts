import { describe, expect, it } from "vitest";
import { runMqttDevnet } from "../../src/devnet/mqtt.js";
import { expectFinalizedOverTheAir } from "../fixtures/devnet-checks.js";

/**
 * Real time, real parts, no broker: three MeshChain nodes, each on the stream API (TCP) of its own
 * emulated Meshtastic radio over the simulated air, as a Pi with a USB cable to its radio.
 * Soak, not `npm test`: the same devnet as test/integration/mqtt-devnet.test.ts with the other radio
 * link, and that link is `npm test`'s in test/integration/stream-node.test.ts and stream-link.test.ts
 * (a node on a serial radio, serial and TCP links carrying frames and coming back) and
 * test/sim/stream-radio.test.ts (the transport against the firmware's rules).
 */
describe("devnet through emulated stream-API radios", () => {
  it("finalizes the same chain at every node, with a transfer in it, each node sending as its radio", async () => {
    const r = await runMqttDevnet({
      // A transfer every 12 s: the first is final (about two slots) before the 20 s sample, and the next
      // comes after it, so an idle machine stops there with nothing left to drain.
      nodes: 3, validators: 3, preset: "SHORT_FAST", loss: 0, durationMs: 150_000, txPerMinute: 5, seed: 7, kill: false, radioLink: "stream",
      params: { slotMs: 3_000n, heartbeatSlots: 1n },
      // Until the outcome, not for a fixed time: a loaded machine may need longer than a quiet one.
      stopWhen: (s) => s.finalizedHeight >= 2 && s.txsFinal >= 1,
    });
    expectFinalizedOverTheAir(r);
    const radios = (r.nodes ?? []).map((n) => n.radio as { link: string; state: string; region: string; preset: string; reported: { nodeId: string } });
    expect(radios).toHaveLength(3);
    expect(radios.every((x) => x.link === "stream" && x.state === "connected" && x.region === "EU_868" && x.preset === "SHORT_FAST")).toBe(true);
    expect(radios.map((x) => x.reported.nodeId).sort()).toEqual(["!70000000", "!70000001", "!70000002"]);
  }, 240_000);
});
