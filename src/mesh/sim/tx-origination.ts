import { HEADER_BYTES, MessageType } from "../frame.js";
import { frameTypeOf } from "./classify.js";
import type { AirPacket } from "./channel.js";

/**
 * Which transmissions of transaction frames are a transaction's own (issue 20: "every byte that is
 * not a transaction's own frame is overhead"). A transaction's own frame is the first packet that
 * carried it on air, as its origin sent it and as the mesh relayed that packet; every later copy,
 * whoever sends it (a re-announcement, a nonce-gap answer, a re-send after a restart), is overhead.
 * A fragmented transaction is followed fragment by fragment.
 */
export class TxOrigination {
  /** Transaction frame content (message id left out) → the packet (from:id) that first carried it. */
  private readonly firstPacket = new Map<string, string>();

  /**
   * Whether a transmission now going on air is a transaction's own frame. Frames of other types, and
   * other applications' packets (`ours` false), never are. A relay always follows its packet's
   * origin transmission on the channel, so the first transmission of a content is its origin's.
   */
  isOwn(packet: AirPacket, ours: boolean): boolean {
    const f = packet.payload;
    if (!ours || f.length < HEADER_BYTES || frameTypeOf(f) !== MessageType.Transaction) return false;
    const key = `${packet.from}:${packet.id}`;
    const content = contentKey(f);
    const first = this.firstPacket.get(content);
    if (first !== undefined) return first === key;
    this.firstPacket.set(content, key);
    return true;
  }
}

/**
 * The frame without its message id (bytes 1-2): what stays the same when a node sends the same
 * transaction again under a new id. The type byte and any fragment header stay in.
 */
function contentKey(frame: Uint8Array): string {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return b.toString("latin1", 0, 1) + b.toString("latin1", 3);
}
