import { MessageType } from "../frame.js";
import { findMessageSpec, type TrafficClass } from "../messages/registry.js";

export { TRAFFIC_CLASSES, type TrafficClass } from "../messages/registry.js";

/** What kind of traffic a frame is, from its header alone (for airtime accounting; the registry's class). */
export function classifyFrame(frame: Uint8Array): TrafficClass {
  if (frame.length < 1 || frame[0]! >> 6 !== 1) return "other";
  return findMessageSpec((frame[0] as number) & 0x1f)?.traffic ?? "other";
}

/** The frame's message type name (ChainStatus, Vote …), or "other" for a payload that is not one of our frames. */
export function frameTypeName(frame: Uint8Array): string {
  if (frame.length < 1 || frame[0]! >> 6 !== 1) return "other";
  return MessageType[(frame[0] as number) & 0x1f] ?? "other";
}

export const emptyByClass = (): Record<TrafficClass, number> => ({ tx: 0, block: 0, vote: 0, sync: 0, control: 0, other: 0 });
