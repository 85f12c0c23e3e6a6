import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Mesh, Mqtt } from "@meshtastic/protobufs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/bytes.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { meshchain } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";
import { transfer, testIdentity } from "../fixtures/chain.js";
import { meshtasticVectors } from "../fixtures/vectors.js";

const vectors = meshtasticVectors();

function envelopeHex(v: (typeof vectors)[number]): string {
  if (v.envelope_hex !== undefined) return v.envelope_hex;
  const packet = create(Mesh.MeshPacketSchema, { from: v.packet.from, to: v.packet.to ?? 0xffffffff, id: v.packet.id, channel: v.packet.channel_hash ?? 0, payloadVariant: { case: "encrypted", value: fromHex(v.ciphertext_hex) } });
  return toHex(toBinary(Mqtt.ServiceEnvelopeSchema, create(Mqtt.ServiceEnvelopeSchema, { packet, channelId: v.packet.channel_name ?? "", gatewayId: v.packet.from_id })));
}

describe("meshchain mesh decode", () => {
  it.each(vectors)("decodes $packet.from_id/$packet.id to its expected content", async (v) => {
    const hex = envelopeHex(v);
    const args = ["mesh", "decode", "--json", ...(v.key_base64 === "AQ==" ? [] : ["--psk", v.key_base64])];
    // Half the vectors in hex, half in base64 (in this process: stdin is the binary's, tested below).
    const r = await cli([...args, v.packet.id % 2 === 0 ? hex : Buffer.from(fromHex(hex)).toString("base64")]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ from: v.packet.from, fromId: v.packet.from_id, id: v.packet.id, portnum: v.expected.data.portnum, bitfield: v.expected.data.bitfield });
    if (v.expected.data.portnum_name !== undefined) expect(out.portnumName).toBe(v.expected.data.portnum_name);
    if (v.expected.data.payload_utf8 !== undefined) expect(out.text).toBe(v.expected.data.payload_utf8);
    if (v.packet.channel_id !== undefined) expect(out.channelId).toBe(v.packet.channel_id);
    if (v.packet.hop_limit !== undefined) expect([out.hopLimit, out.hopStart]).toEqual([v.packet.hop_limit, v.packet.hop_start]);
    expect(out.payloadHex).toBe(toHex(fromBinary(Mesh.DataSchema, fromHex(v.plaintext_data_hex)).payload));
  });

  it("reads the envelope from stdin, through the binary", () => {
    const v = vectors[0]!;
    const r = meshchain(["mesh", "decode", "--json"], Buffer.from(fromHex(v.envelope_hex!)).toString("base64"));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from: v.packet.from, id: v.packet.id, portnum: v.expected.data.portnum });
  });

  it("shows the Meshtastic user of a node-info packet", async () => {
    const v = vectors[0]!;
    const out = JSON.parse((await cli(["mesh", "decode", "--json", v.envelope_hex!])).stdout) as { user: { longName: string; shortName: string } };
    expect(out.user).toMatchObject({ longName: "Meshtastic 65a4", shortName: "65a4" });
  });

  it("fails clearly on a wrong key, a broken envelope and bad input", async () => {
    const v = vectors[0]!;
    const wrongKey = await cli(["mesh", "decode", "--json", "--psk", "AAAAAAAAAAAAAAAAAAAAAA==", v.envelope_hex!]);
    expect(wrongKey.status).toBe(1);
    expect((JSON.parse(wrongKey.stderr) as { error: { code: string } }).error.code).toBe("UNDECRYPTABLE");
    const broken = await cli(["mesh", "decode", "--json", "0a0b0c"]);
    expect(broken.status).toBe(1);
    expect((JSON.parse(broken.stderr) as { error: { code: string } }).error.code).toBe("MALFORMED_ENVELOPE");
    expect((await cli(["mesh", "decode", "--json", "not hex or base64!"])).status).toBe(2);
    expect((await cli(["mesh", "decode", "--json", "--psk", "AQID", v.envelope_hex!])).status).toBe(2);
  });
});

describe("meshchain mesh encode", () => {
  it("reproduces the synthetic vector byte for byte", async () => {
    const v = vectors.find((x) => x.source.startsWith("SYNTHETIC"))!;
    const r = await cli(["mesh", "encode", "--text", "hello", "--from", v.packet.from_id, "--id", v.packet.id_hex!, "--channel", "LongFast", "--hop-limit", "3", "--region", "US", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { hex: string; topic: string };
    expect(out.hex).toBe(v.envelope_hex);
    expect(out.topic).toBe(v.topic);
  });

  it("carries a MeshChain frame that decode then shows", async () => {
    const t = transfer(testIdentity("a"), 0, testIdentity("b").address, 5n);
    const frame = toHex(encodeFrame({ type: MessageType.Transaction, messageId: 7, fragment: null, payload: t.bytes }));
    const enc = JSON.parse((await cli(["mesh", "encode", "--frame", frame, "--from", "!0000abcd", "--id", "99", "--json"])).stdout) as { hex: string };
    const dec = JSON.parse((await cli(["mesh", "decode", "--json", enc.hex])).stdout) as { portnum: number; frame: { type: string; message: { kind: string; bytes: number } } };
    expect(dec.portnum).toBe(256);
    expect(dec.frame.type).toBe("Transaction");
    expect(dec.frame.message).toMatchObject({ kind: "Transfer", bytes: t.bytes.length });
  });

  it("refuses conflicting or missing content", async () => {
    expect((await cli(["mesh", "encode", "--json"])).status).toBe(2);
    expect((await cli(["mesh", "encode", "--text", "a", "--frame", "00", "--json"])).status).toBe(2);
    expect((await cli(["mesh", "encode", "--text", "a", "--channel", "a/b", "--json"])).status).toBe(2);
  });
});
