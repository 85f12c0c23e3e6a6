import { fromBinary } from "@bufbuild/protobuf";
import { Mesh, Portnums } from "@meshtastic/protobufs";
import { toHex, utf8 } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { decodeFrame, MessageType } from "./frame.js";
import { messageSpec } from "./messages/registry.js";

type Json = Record<string, unknown>;

/** A MeshChain frame, as far as it decodes; what does not decode is reported, not thrown. */
export function describeFrame(bytes: Uint8Array): Json {
  try {
    const f = decodeFrame(bytes);
    const out: Json = { type: MessageType[f.type], messageId: f.messageId, fragment: f.fragment, payloadBytes: f.payload.length };
    if (f.fragment === null) {
      try {
        out.message = messageSpec(f.type).describe(f.payload);
      } catch (e) {
        out.messageError = e instanceof Error ? e.message : String(e);
        if (e instanceof MeshChainError) out.messageErrorCode = e.code;
      }
    }
    return out;
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e), ...(e instanceof MeshChainError ? { code: e.code } : {}) };
  }
}

/** Meshtastic's own applications we can show an operator: text and node info. */
export function describeMeshtasticPayload(portnum: number, payload: Uint8Array): Json {
  try {
    if (portnum === Portnums.PortNum.TEXT_MESSAGE_APP) return { text: utf8.decode(payload) };
    if (portnum === Portnums.PortNum.NODEINFO_APP) {
      const u = fromBinary(Mesh.UserSchema, payload);
      return { user: { id: u.id, longName: u.longName, shortName: u.shortName, hwModel: u.hwModel, macaddr: toHex(u.macaddr) } };
    }
  } catch {
    // Shown as payloadHex only.
  }
  return {};
}
