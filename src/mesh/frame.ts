import { FrameError } from "./errors.js";

/*
 * Frame header (docs/protocol.md §Frames), 3 bytes, or 5 when fragmented:
 *   u8  bits 7-6 version (1), bit 5 fragmented, bits 4-0 message type
 *   u16 message id (per sender, big-endian)
 *   u8  fragment index, u8 fragment count     — only when fragmented (2 ≤ count, index < count)
 * The rest of the frame is the message, or one fragment of it.
 */
export const FRAME_VERSION = 1;
export const HEADER_BYTES = 3;
export const FRAGMENT_HEADER_BYTES = 5;
export const MAX_FRAGMENTS = 255;

export enum MessageType {
  Transaction = 1,
  Block = 2,
  CompactBlock = 3,
  GetTransactions = 4,
  Vote = 5,
  // 6 is reserved (was evidence; evidence travels in transactions).
  SyncRequest = 7,
  SyncResponse = 8,
  Hello = 9,
  // 10 is reserved (was peer info; every node hears the hellos themselves).
  Status = 11,
  FragmentRequest = 12,
  /** Ask for one block by hash (catching up, or a parent never received). */
  GetBlock = 13,
  /** A block with its notarization certificate, when known: the answer to GetBlock. */
  CertifiedBlock = 14,
  /** Finalized height, head and finality witness: lets peers notice they are behind. */
  ChainStatus = 15,
  /** The transactions a GetTransactions asked for, named by block. */
  BlockTransactions = 16,
  /** Ask one peer for a chunk of its state snapshot at a finalized block (checkpoint sync, IP only). */
  SnapshotRequest = 17,
  SnapshotChunk = 18,
  /** Ask for up to 8 consecutive blocks by height (radio catch-up); answered with compact blocks. */
  GetBlockRange = 19,
  /** Ask for a sender's transactions by nonce: the gaps a pool waits on (radio); answered with Transaction messages. */
  GetSenderTransactions = 20,
  /**
   * Several validators' votes for one block: signer bitmap and BLS aggregate (issue 20). Numbered
   * from the top of the 5-bit range, clear of the ids other message work adds from 21 upwards.
   */
  VoteAggregate = 21,
  /** Precommits for one notarized block (docs/consensus.md, "Precommits"): a vote aggregate's layout, the Precommit signing kind. */
  PrecommitAggregate = 22,
  /** "Say hello to your neighbours": names node numbers heard at 0 hops whose keys the sender lacks (node/hello-heal.ts). */
  HelloRequest = 23,
}

/**
 * Frame type ids that are no longer used and must not be given to a new message: 6 (evidence, which
 * travels inside transactions of kind 11) and 10 (peer gossip, which a flooding mesh made redundant:
 * every node hears the hellos themselves). Frames of these types are refused as unknown.
 */
export const RESERVED_TYPES: readonly number[] = [6, 10];

/** The error for a type id that no message has (reserved ones say so). */
export function unknownTypeError(type: number): FrameError {
  return new FrameError("UNKNOWN_TYPE", RESERVED_TYPES.includes(type) ? `message type ${type} is reserved (no longer used)` : `unknown message type ${type}`);
}

const KNOWN_TYPES = new Set<number>(Object.values(MessageType).filter((v): v is number => typeof v === "number"));

export interface FrameHeader {
  readonly type: MessageType;
  readonly messageId: number;
  /** null for a whole message in one frame. */
  readonly fragment: { readonly index: number; readonly count: number } | null;
}

export interface Frame extends FrameHeader {
  readonly payload: Uint8Array;
}

export function encodeFrame(f: Frame): Uint8Array {
  if (!KNOWN_TYPES.has(f.type)) throw unknownTypeError(f.type);
  if (!Number.isInteger(f.messageId) || f.messageId < 0 || f.messageId > 0xffff) throw new FrameError("BAD_FRAGMENT", "message id must be a u16");
  const headerBytes = f.fragment === null ? HEADER_BYTES : FRAGMENT_HEADER_BYTES;
  const out = new Uint8Array(headerBytes + f.payload.length);
  out[0] = (FRAME_VERSION << 6) | (f.fragment === null ? 0 : 0x20) | f.type;
  out[1] = f.messageId >> 8;
  out[2] = f.messageId & 0xff;
  if (f.fragment !== null) {
    const { index, count } = f.fragment;
    if (!Number.isInteger(count) || count < 2 || count > MAX_FRAGMENTS || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new FrameError("BAD_FRAGMENT", `fragment ${index} of ${count} is out of range`);
    }
    out[3] = index;
    out[4] = count;
  }
  out.set(f.payload, headerBytes);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < HEADER_BYTES) throw new FrameError("TRUNCATED", `frame of ${bytes.length} bytes is shorter than its header`);
  const lead = bytes[0] as number;
  const version = lead >> 6;
  if (version !== FRAME_VERSION) throw new FrameError("BAD_VERSION", `frame version ${version} is not ${FRAME_VERSION}`);
  const type = lead & 0x1f;
  if (!KNOWN_TYPES.has(type)) throw unknownTypeError(type);
  const messageId = ((bytes[1] as number) << 8) | (bytes[2] as number);
  if ((lead & 0x20) === 0) return { type, messageId, fragment: null, payload: bytes.slice(HEADER_BYTES) };
  if (bytes.length < FRAGMENT_HEADER_BYTES) throw new FrameError("TRUNCATED", "fragment header is cut short");
  const index = bytes[3] as number;
  const count = bytes[4] as number;
  if (count < 2 || index >= count) throw new FrameError("BAD_FRAGMENT", `fragment ${index} of ${count} is out of range`);
  if (bytes.length === FRAGMENT_HEADER_BYTES) throw new FrameError("BAD_FRAGMENT", "empty fragment");
  return { type, messageId, fragment: { index, count }, payload: bytes.slice(FRAGMENT_HEADER_BYTES) };
}
