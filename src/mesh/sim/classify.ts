import { MessageType } from "../frame.js";

export const TRAFFIC_CLASSES = ["tx", "block", "vote", "sync", "control", "other"] as const;
export type TrafficClass = (typeof TRAFFIC_CLASSES)[number];

/** What kind of traffic a frame is, from its header alone (for airtime accounting). */
export function classifyFrame(frame: Uint8Array): TrafficClass {
  if (frame.length < 1 || frame[0]! >> 6 !== 1) return "other";
  switch ((frame[0] as number) & 0x1f) {
    case MessageType.Transaction:
      return "tx";
    case MessageType.GetSenderTransactions:
      return "control";
    case MessageType.Block:
    case MessageType.CompactBlock:
    case MessageType.GetTransactions:
    case MessageType.BlockTransactions:
    case MessageType.GetBlock:
    case MessageType.GetBlockRange:
    case MessageType.CertifiedBlock:
      return "block";
    case MessageType.Vote:
    case MessageType.VoteAggregate:
    case MessageType.Evidence:
      return "vote";
    case MessageType.SyncRequest:
    case MessageType.SyncResponse:
    case MessageType.SnapshotRequest:
    case MessageType.SnapshotChunk:
      return "sync";
    case MessageType.ChainStatus:
      return "control";
    case MessageType.Hello:
    case MessageType.PeerInfo:
    case MessageType.Status:
    case MessageType.FragmentRequest:
      return "control";
    default:
      return "other";
  }
}

/** The frame's message type name (ChainStatus, Vote …), or "other" for a payload that is not one of our frames. */
export function frameTypeName(frame: Uint8Array): string {
  if (frame.length < 1 || frame[0]! >> 6 !== 1) return "other";
  return MessageType[(frame[0] as number) & 0x1f] ?? "other";
}

export const emptyByClass = (): Record<TrafficClass, number> => ({ tx: 0, block: 0, vote: 0, sync: 0, control: 0, other: 0 });
