import { describe, expect, it } from "vitest";
import { Priority } from "../../src/mesh/transport.js";
import { radioRig, streamTransport } from "../fixtures/stream-radios.js";
import { transportCompliance, type TransportPair } from "./transport-compliance.js";

transportCompliance("meshtastic-stream over TCP", async (): Promise<TransportPair> => {
  const rig = await radioRig(2);
  const a = streamTransport(rig.urls[0] as string);
  const b = streamTransport(rig.urls[1] as string);
  await Promise.all([a.start(), b.start()]);
  return {
    a, b, unstarted: streamTransport(rig.urls[0] as string),
    injectJunk: async (bytes) => rig.radios[1]?.injectFrame(bytes),
    close: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await rig.close();
    },
  };
});

describe("meshtastic-stream transport", () => {
  it("takes its node number and the radio's settings from the handshake", async () => {
    const rig = await radioRig(1);
    const t = streamTransport(rig.urls[0] as string);
    try {
      expect(t.localNode).toBe(0);
      await t.start();
      expect(t.localNode).toBe(0x5000_0001);
      expect(t.radioView).toMatchObject({ firmwareVersion: "2.7.15.emulated", region: "US", preset: "SHORT_TURBO", hopLimit: 3, rebroadcastMode: "ALL", ignoreMqtt: false });
      expect(t.radioView?.channels.map((c) => c.name)).toEqual(["MeshChain"]);
      await t.send(Uint8Array.of(1), Priority.Consensus);
    } finally {
      await t.stop();
      await rig.close();
    }
  });
});
