import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/bytes.js";
import { TransportError } from "../../src/mesh/errors.js";
import { channelHash, channelKey, DEFAULT_KEY, expandPsk } from "../../src/mesh/meshtastic/channel.js";
import { channelCrypt } from "../../src/mesh/meshtastic/cipher.js";
import { decodeEnvelope, encodeData, encodeEnvelope, PRIVATE_APP_PORT } from "../../src/mesh/meshtastic/envelope.js";
import { formatNodeId, nodeNumberFromPublicKey, parseNodeId } from "../../src/mesh/meshtastic/node-number.js";
import { meshtasticVectors } from "../fixtures/vectors.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { Mesh, Mqtt } from "@meshtastic/protobufs";

const vectors = meshtasticVectors();

/** The envelope a gateway would publish for a vector that came without one. */
function envelopeFor(v: (typeof vectors)[number]): Uint8Array {
  if (v.envelope_hex !== undefined) return fromHex(v.envelope_hex);
  const packet = create(Mesh.MeshPacketSchema, {
    from: v.packet.from, to: v.packet.to ?? 0xffffffff, id: v.packet.id, channel: v.packet.channel_hash ?? 0,
    payloadVariant: { case: "encrypted", value: fromHex(v.ciphertext_hex) },
  });
  return toBinary(Mqtt.ServiceEnvelopeSchema, create(Mqtt.ServiceEnvelopeSchema, { packet, channelId: v.packet.channel_name ?? "secret", gatewayId: v.packet.from_id }));
}

describe("Meshtastic channel keys", () => {
  it("expands the 1-byte default-key indices", () => {
    expect(toHex(expandPsk(Uint8Array.of(1)))).toBe(toHex(DEFAULT_KEY));
    expect(expandPsk(Uint8Array.of(2))[15]).toBe(0x02);
    expect(expandPsk(Uint8Array.of(0)).length).toBe(0);
    expect(() => expandPsk(new Uint8Array(7))).toThrow(TransportError);
  });

  it("hashes LongFast with the default key to 8 and PUBLIC to 3, as captured", () => {
    expect(channelHash("LongFast", DEFAULT_KEY)).toBe(8);
    expect(channelHash("PUBLIC", DEFAULT_KEY)).toBe(3);
  });

  it.each(vectors)("builds the AES-CTR nonce from packet id and sender: $packet.id_hex", (v) => {
    const key = fromHex(v.key_hex_expanded);
    expect(toHex(expandPsk(new Uint8Array(Buffer.from(v.key_base64, "base64"))))).toBe(v.key_hex_expanded);
    expect(toHex(channelCrypt(key, v.packet.id, v.packet.from, fromHex(v.ciphertext_hex)))).toBe(v.plaintext_data_hex);
    expect(toHex(channelCrypt(key, v.packet.id, v.packet.from, fromHex(v.plaintext_data_hex)))).toBe(v.ciphertext_hex);
  });
});

describe("ServiceEnvelope decoding", () => {
  it.each(vectors)("decodes $packet.from_id / $packet.id to its expected content", (v) => {
    const channel = channelKey(v.packet.channel_name ?? v.packet.channel_id ?? "secret", new Uint8Array(Buffer.from(v.key_base64, "base64")));
    const d = decodeEnvelope(envelopeFor(v), channel);
    expect(d.from).toBe(v.packet.from);
    expect(d.id).toBe(v.packet.id);
    expect(formatNodeId(d.from)).toBe(v.packet.from_id);
    expect(d.data.portnum).toBe(v.expected.data.portnum);
    expect(d.data.bitfield).toBe(v.expected.data.bitfield);
    if (v.expected.data.payload_utf8 !== undefined) expect(new TextDecoder().decode(d.data.payload)).toBe(v.expected.data.payload_utf8);
    if (v.expected.data.want_response !== undefined) expect(d.data.wantResponse).toBe(v.expected.data.want_response);
    expect(toHex(encodeData(d.data))).toBe(v.plaintext_data_hex);
    if (v.packet.gateway_id !== undefined) expect(d.gatewayId).toBe(v.packet.gateway_id);
    if (v.packet.hop_limit !== undefined) expect([d.hopLimit, d.hopStart]).toEqual([v.packet.hop_limit, v.packet.hop_start]);
  });

  it("reproduces the synthetic vector byte for byte", () => {
    const v = vectors.find((x) => x.source.startsWith("SYNTHETIC"))!;
    const bytes = encodeEnvelope(
      { from: v.packet.from, to: v.packet.to!, id: v.packet.id, hopLimit: v.packet.hop_limit!, hopStart: v.packet.hop_start! },
      { portnum: 1, payload: new TextEncoder().encode("hello"), bitfield: 1, wantResponse: false },
      channelKey("LongFast", Uint8Array.of(1)),
      parseNodeId(v.packet.from_id),
    );
    expect(toHex(bytes)).toBe(v.envelope_hex);
  });

  it("refuses a packet from another channel when asked to check the hash, and a wrong key", () => {
    const v = vectors[0]!;
    expect(() => decodeEnvelope(envelopeFor(v), channelKey("Other", Uint8Array.of(1)), { checkHash: true })).toThrow(expect.objectContaining({ code: "UNDECRYPTABLE" }));
    expect(() => decodeEnvelope(envelopeFor(v), channelKey("LongFast", Uint8Array.of(2)))).toThrow(expect.objectContaining({ code: "UNDECRYPTABLE" }));
    expect(() => decodeEnvelope(envelopeFor(v), null)).toThrow(expect.objectContaining({ code: "UNDECRYPTABLE" }));
  });

  it("round-trips our own frames on the private port", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 231 }), fc.integer({ min: 4, max: 0xfffffffe }), fc.integer({ min: 1, max: 0xffffffff }), (frame, from, id) => {
      const ch = channelKey("mesh", new Uint8Array(32).fill(9));
      const env = encodeEnvelope({ from, to: 0xffffffff, id, hopLimit: 3, hopStart: 3 }, { portnum: PRIVATE_APP_PORT, payload: frame, bitfield: 1, wantResponse: false }, ch, from);
      const d = decodeEnvelope(env, ch, { checkHash: true });
      expect(toHex(d.data.payload)).toBe(toHex(frame));
      expect(encodeData(d.data).length).toBeLessThanOrEqual(239);
    }), { numRuns: 200 });
  });

  it("gives only typed errors for random envelopes and random encrypted payloads", () => {
    const ch = channelKey("LongFast", Uint8Array.of(1));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeEnvelope(bytes, ch);
      } catch (e) {
        expect(e).toBeInstanceOf(TransportError);
      }
      const env = toBinary(Mqtt.ServiceEnvelopeSchema, create(Mqtt.ServiceEnvelopeSchema, {
        packet: create(Mesh.MeshPacketSchema, { from: 5, id: 9, payloadVariant: { case: "encrypted", value: bytes } }), channelId: "LongFast", gatewayId: "!00000005",
      }));
      try {
        decodeEnvelope(env, ch);
      } catch (e) {
        expect(e).toBeInstanceOf(TransportError);
      }
    }), { numRuns: 2000 });
  });
});

describe("node numbers", () => {
  it("avoid reserved values and format as !xxxxxxxx", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
      const n = nodeNumberFromPublicKey(key);
      expect(n).toBeGreaterThanOrEqual(4);
      expect(n).toBeLessThan(0xffffffff);
      expect(parseNodeId(formatNodeId(n))).toBe(n);
    }));
  });
});
