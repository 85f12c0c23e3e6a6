import { create, toBinary } from "@bufbuild/protobuf";
import { Mesh, Mqtt } from "@meshtastic/protobufs";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { encodeData, encodeEnvelope } from "../../src/mesh/meshtastic/envelope.js";
import { BROADCAST, formatNodeId } from "../../src/mesh/meshtastic/node-number.js";
import type { ReceivedFrame } from "../../src/mesh/transport.js";
import { MeshtasticMqttTransport } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { systemClock } from "../../src/node/clock.js";
import { embeddedBroker } from "../fixtures/brokers.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";

const CHANNEL = channelKey("MeshChain", new Uint8Array(16).fill(0x42));
/** The same channel name with a key the attacker guessed wrong. */
const WRONG_KEY = channelKey("MeshChain", new Uint8Array(16).fill(0x43));
const TOPIC = "msh/EU_868/2/e/MeshChain";
const VICTIM = 0x0a0b0c0d;
const PORT = 256;

/** A ServiceEnvelope whose packet travels decoded (plaintext), as only a keyless channel's gateway uplinks it. */
function plaintextEnvelope(from: number, id: number, payload: Uint8Array): Uint8Array {
  const packet = create(Mesh.MeshPacketSchema, {
    from, to: BROADCAST, id, channel: CHANNEL.hash, hopLimit: 3, hopStart: 3,
    payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: PORT, payload, bitfield: 1 }) },
  });
  return toBinary(Mqtt.ServiceEnvelopeSchema, create(Mqtt.ServiceEnvelopeSchema, { packet, channelId: CHANNEL.name, gatewayId: formatNodeId(0x99) }));
}

const envelope = (channel: typeof CHANNEL, from: number, id: number, payload: Uint8Array) =>
  encodeEnvelope({ from, to: BROADCAST, id, hopLimit: 3, hopStart: 3 }, { portnum: PORT, payload, bitfield: 1, wantResponse: false }, channel, 0x99);

describe("the radio side, against someone on the channel's broker without the key", () => {
  it("refuses plaintext on a keyed channel, and a packet sent first under the victim's next id cannot suppress the victim's", async () => {
    const broker = await embeddedBroker();
    const node = new MeshtasticMqttTransport(
      { link: { url: broker.url, clientId: "node" }, region: "EU_868", channel: CHANNEL, portnum: PORT, hopLimit: 3, nodeNumber: 0x01000001, packetIds: { take: () => 1 } },
      { clock: systemClock, random: seededRandom(1) },
    );
    const got: ReceivedFrame[] = [];
    node.onFrame((f) => got.push(f));
    await node.start();
    const attacker = await mqtt.connectAsync(broker.url, { clientId: "attacker" });
    try {
      const victimFrame = Uint8Array.of(0x45, 0, 1, 7, 7, 7);
      const forged = Uint8Array.of(0x45, 0, 1, 6, 6, 6);
      // The victim's packet ids count up: the attacker sends first with the next one, plaintext and
      // encrypted under a wrong key.
      await attacker.publishAsync(`${TOPIC}/!attacker`, Buffer.from(plaintextEnvelope(VICTIM, 500, forged)));
      await attacker.publishAsync(`${TOPIC}/!attacker`, Buffer.from(envelope(WRONG_KEY, VICTIM, 500, encodeData({ portnum: PORT, payload: forged, bitfield: 1, wantResponse: false }))));
      // Then the victim's real packet, uplinked by two gateways.
      const real = envelope(CHANNEL, VICTIM, 500, victimFrame);
      await attacker.publishAsync(`${TOPIC}/!gw1`, Buffer.from(real));
      await attacker.publishAsync(`${TOPIC}/!gw2`, Buffer.from(real));
      await waitFor(() => got.length >= 1 && node.stats.duplicates >= 1, 10_000, "the victim's packet");
      expect(got.map((f) => [...f.bytes])).toEqual([[...victimFrame]]);
      expect(got[0]!.from).toBe(VICTIM);
      expect(node.stats.plaintextRefused).toBe(1);
      expect(node.stats.undecryptable + node.stats.otherPorts + node.stats.malformed).toBeGreaterThanOrEqual(1);
    } finally {
      await attacker.endAsync(true);
      await node.stop();
      await broker.close();
    }
  });
});
