import { FRAME_VERSION, MessageType } from "../frame.js";
import { findMessageSpec, type TrafficClass } from "../messages/registry.js";

export { TRAFFIC_CLASSES, type TrafficClass } from "../messages/registry.js";

/** The type field of one of our frames' headers (version 1), or null for a payload that is not one of our frames. */
export function frameTypeOf(frame: Uint8Array): number | null {
  if (frame.length < 1 || frame[0]! >> 6 !== FRAME_VERSION) return null;
  return (frame[0] as number) & 0x1f;
}

/** What kind of traffic a frame is, from its header alone (for airtime accounting; the registry's class). */
export function classifyFrame(frame: Uint8Array): TrafficClass {
  const type = frameTypeOf(frame);
  return type === null ? "other" : (findMessageSpec(type)?.traffic ?? "other");
}

/** The frame's message type name (ChainStatus, Vote …), or "other" for a payload that is not one of our frames. */
export function frameTypeName(frame: Uint8Array): string {
  const type = frameTypeOf(frame);
  return type === null ? "other" : (MessageType[type] ?? "other");
}

export const emptyByClass = (): Record<TrafficClass, number> => ({ tx: 0, block: 0, vote: 0, sync: 0, control: 0, other: 0 });
