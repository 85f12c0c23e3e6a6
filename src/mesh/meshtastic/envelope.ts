import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Mesh, Mqtt, Portnums } from "@meshtastic/protobufs";
import { TransportError } from "../errors.js";
import type { ChannelKey } from "./channel.js";
import { channelCrypt } from "./cipher.js";
import { formatNodeId } from "./node-number.js";

export const PRIVATE_APP_PORT = Portnums.PortNum.PRIVATE_APP;
/** Data.bitfield bit 0: the sender allows the packet to be uplinked to MQTT. */
export const BITFIELD_OK_TO_MQTT = 1;

export interface DataContent {
  readonly portnum: number;
  readonly payload: Uint8Array;
  readonly bitfield: number | null;
  readonly wantResponse: boolean;
}

export interface PacketFields {
  readonly from: number;
  readonly to: number;
  readonly id: number;
  readonly hopLimit: number;
  readonly hopStart: number;
  /** Reception quality a gateway adds when it uplinks what it heard. */
  readonly rxSnr?: number;
  readonly rxRssi?: number;
}

export interface DecodedEnvelope extends PacketFields {
  readonly channelId: string;
  readonly gatewayId: string;
  /** The channel hash byte of the packet. */
  readonly channel: number;
  readonly rxSnr: number;
  readonly rxRssi: number;
  readonly viaMqtt: boolean;
  /** Whether the packet travelled encrypted (else it was uplinked already decoded). */
  readonly wasEncrypted: boolean;
  readonly data: DataContent;
}

export function portName(portnum: number): string {
  return Portnums.PortNum[portnum] ?? `PORT_${portnum}`;
}

function parseData(bytes: Uint8Array, what: string): DataContent {
  let data;
  try {
    data = fromBinary(Mesh.DataSchema, bytes);
  } catch (e) {
    throw new TransportError("UNDECRYPTABLE", `${what}: not a Data message (${(e as Error).message})`);
  }
  // A wrong key yields noise that occasionally parses; a real packet always names its port.
  if (data.portnum === 0) throw new TransportError("UNDECRYPTABLE", `${what}: no port number (wrong key?)`);
  return { portnum: data.portnum, payload: data.payload, bitfield: data.bitfield ?? null, wantResponse: data.wantResponse };
}

export function encodeData(d: DataContent): Uint8Array {
  return toBinary(Mesh.DataSchema, create(Mesh.DataSchema, {
    portnum: d.portnum,
    payload: d.payload,
    wantResponse: d.wantResponse,
    ...(d.bitfield === null ? {} : { bitfield: d.bitfield }),
  }));
}

/** A ServiceEnvelope as a gateway publishes it: the packet encrypted with the channel key. */
export function encodeEnvelope(fields: PacketFields, data: DataContent, channel: ChannelKey, gateway: number): Uint8Array {
  const packet = create(Mesh.MeshPacketSchema, {
    from: fields.from,
    to: fields.to,
    channel: channel.hash,
    id: fields.id,
    hopLimit: fields.hopLimit,
    hopStart: fields.hopStart,
    rxSnr: fields.rxSnr ?? 0,
    rxRssi: fields.rxRssi ?? 0,
    payloadVariant: { case: "encrypted", value: channelCrypt(channel.key, fields.id, fields.from, encodeData(data)) },
  });
  return toBinary(Mqtt.ServiceEnvelopeSchema, create(Mqtt.ServiceEnvelopeSchema, { packet, channelId: channel.name, gatewayId: formatNodeId(gateway) }));
}

/**
 * Parse a ServiceEnvelope and its packet's Data. An encrypted packet needs the channel key; pass
 * `checkHash` to refuse packets whose channel hash is not this channel's (as the firmware does).
 */
export function decodeEnvelope(bytes: Uint8Array, channel: ChannelKey | null, opts: { checkHash?: boolean } = {}): DecodedEnvelope {
  let envelope;
  try {
    envelope = fromBinary(Mqtt.ServiceEnvelopeSchema, bytes);
  } catch (e) {
    throw new TransportError("MALFORMED_ENVELOPE", `not a ServiceEnvelope: ${(e as Error).message}`);
  }
  const packet = envelope.packet;
  if (packet === undefined) throw new TransportError("MALFORMED_ENVELOPE", "envelope has no packet");
  let data: DataContent;
  let wasEncrypted = false;
  const variant = packet.payloadVariant;
  if (variant.case === "decoded") {
    data = { portnum: variant.value.portnum, payload: variant.value.payload, bitfield: variant.value.bitfield ?? null, wantResponse: variant.value.wantResponse };
  } else if (variant.case === "encrypted") {
    wasEncrypted = true;
    if (channel === null) throw new TransportError("UNDECRYPTABLE", "packet is encrypted and no channel key was given");
    if (opts.checkHash === true && packet.channel !== channel.hash) {
      throw new TransportError("UNDECRYPTABLE", `channel hash ${packet.channel} is not ${channel.name}'s (${channel.hash})`);
    }
    data = parseData(channelCrypt(channel.key, packet.id, packet.from, variant.value), "decrypted payload");
  } else {
    throw new TransportError("MALFORMED_ENVELOPE", "packet carries neither decoded nor encrypted data");
  }
  return {
    channelId: envelope.channelId,
    gatewayId: envelope.gatewayId,
    from: packet.from,
    to: packet.to,
    id: packet.id,
    channel: packet.channel,
    hopLimit: packet.hopLimit,
    hopStart: packet.hopStart,
    rxSnr: packet.rxSnr,
    rxRssi: packet.rxRssi,
    viaMqtt: packet.viaMqtt,
    wasEncrypted,
    data,
  };
}
