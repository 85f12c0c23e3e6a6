import { create, toBinary } from "@bufbuild/protobuf";
import { Mesh } from "@meshtastic/protobufs";
import { describe, expect, it } from "vitest";
import { waitFor } from "../fixtures/wait.js";
import { Priority } from "../../src/mesh/transport.js";
import { counter, radioRig, streamTransport } from "../fixtures/stream-radios.js";
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

describe("meshtastic-stream hop limits on air", () => {
  it("says every packet's hop limit: 0 when asked (firmware keeps it), else ours, else the radio's own", async () => {
    const rig = await radioRig(1);
    const heard: number[] = [];
    const listener = rig.channel.addRadio(0x6000_0001, { position: { x: 50, y: 0 }, rebroadcasts: false });
    listener.onReceive((p) => heard.push(p.hopLimit));
    const ours = streamTransport(rig.urls[0] as string, { hopLimit: 2 });
    try {
      await ours.start();
      await ours.send(Uint8Array.of(1), Priority.Consensus, { hopLimit: 0 });
      await ours.send(Uint8Array.of(2), Priority.Consensus);
      await waitFor(() => heard.length === 2, 10_000, "both packets on air");
      expect(heard).toEqual([0, 2]);
    } finally {
      await ours.stop();
    }
    const radiosOwn = streamTransport(rig.urls[0] as string, { hopLimit: null, packetIds: counter(6000) });
    try {
      await radiosOwn.start();
      await radiosOwn.send(Uint8Array.of(3), Priority.Consensus);
      await waitFor(() => heard.length === 3, 10_000, "the third packet on air");
      // Not 0: a packet without a hop limit would reach the radio's neighbours only.
      expect(heard[2]).toBe(3);
    } finally {
      await radiosOwn.stop();
      await rig.close();
    }
  });
});

describe("meshtastic-stream receiving", () => {
  const fromRadio = (packet: Partial<Mesh.MeshPacket> & Pick<Mesh.MeshPacket, "payloadVariant">): Uint8Array =>
    toBinary(Mesh.FromRadioSchema, create(Mesh.FromRadioSchema, { payloadVariant: { case: "packet", value: create(Mesh.MeshPacketSchema, { to: 0xffffffff, hopStart: 3, hopLimit: 2, ...packet }) } }));
  const data = (portnum: number, payload: Uint8Array) => ({ case: "decoded" as const, value: create(Mesh.DataSchema, { portnum, payload }) });

  it("delivers ours once, and counts its own echoes, other ports, undecryptable packets and repeats", async () => {
    const rig = await radioRig(1);
    const t = streamTransport(rig.urls[0] as string);
    try {
      await t.start();
      const got: number[][] = [];
      t.onFrame((f) => got.push([...f.bytes, f.hopsAway ?? -1]));
      const radio = rig.radios[0]!;
      radio.injectFrame(fromRadio({ from: 0x1234, id: 1, payloadVariant: data(256, Uint8Array.of(9)) }));
      radio.injectFrame(fromRadio({ from: 0x1234, id: 1, payloadVariant: data(256, Uint8Array.of(9)) }));
      radio.injectFrame(fromRadio({ from: t.localNode, id: 2, payloadVariant: data(256, Uint8Array.of(8)) }));
      radio.injectFrame(fromRadio({ from: 0x1234, id: 3, payloadVariant: data(1, Uint8Array.of(0x68, 0x69)) }));
      radio.injectFrame(fromRadio({ from: 0x1234, id: 4, channel: 2, payloadVariant: data(256, Uint8Array.of(7)) }));
      radio.injectFrame(fromRadio({ from: 0x1234, id: 5, payloadVariant: { case: "encrypted", value: Uint8Array.of(1, 2, 3) } }));
      await waitFor(() => t.stats.undecryptable === 1, 5_000, "the last injected packet");
      expect(got).toEqual([[9, 1]]);
      expect(t.stats).toMatchObject({ framesReceived: 1, duplicates: 1, ownEchoes: 1, otherPorts: 2, undecryptable: 1, malformed: 0 });
    } finally {
      await t.stop();
      await rig.close();
    }
  });
});
