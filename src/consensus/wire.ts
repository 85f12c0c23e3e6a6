import { decodeBlock, encodeBlock } from "../core/block/block.js";
import { decodeTxWithBytes } from "../core/tx/codec.js";
import { MessageType } from "../mesh/frame.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "../mesh/messages/chain.js";
import { blockRangeCodec, blockTransactionsCodec, compactBlockCodec, getTransactionsCodec, senderTransactionsRequestCodec, voteAggregateCodec, voteCodec } from "../mesh/messages/relay.js";
import type { ConsensusMessage } from "./messages.js";

type Kind = ConsensusMessage["kind"];
type Of<K extends Kind> = Extract<ConsensusMessage, { kind: K }>;

/**
 * Each consensus message kind and the frame type that carries it. The codecs, priorities and relay
 * rules are the message registry's (mesh/messages/registry.ts); this table only says which kind
 * rides on which type, in one place for both directions.
 */
const WIRE: { readonly [K in Kind]: { readonly type: MessageType; encode(m: Of<K>): Uint8Array; decode(payload: Uint8Array): Of<K> } } = {
  proposal: { type: MessageType.Block, encode: (m) => encodeBlock(m.block), decode: (p) => ({ kind: "proposal", block: decodeBlock(p) }) },
  "compact-proposal": { type: MessageType.CompactBlock, encode: (m) => compactBlockCodec.encode(m.compact), decode: (p) => ({ kind: "compact-proposal", compact: compactBlockCodec.decode(p) }) },
  "get-txs": { type: MessageType.GetTransactions, encode: (m) => getTransactionsCodec.encode(m), decode: (p) => ({ kind: "get-txs", ...getTransactionsCodec.decode(p) }) },
  "block-txs": {
    type: MessageType.BlockTransactions,
    encode: (m) => blockTransactionsCodec.encode({ slot: m.slot, blockRef: m.blockRef, txs: m.txs.map((t) => t.bytes) }),
    decode(p) {
      const b = blockTransactionsCodec.decode(p);
      return { kind: "block-txs", slot: b.slot, blockRef: b.blockRef, txs: b.txs.map((t) => decodeTxWithBytes(t)) };
    },
  },
  vote: {
    type: MessageType.Vote,
    encode: (m) => voteCodec.encode({ height: m.height, blockHash: m.blockHash, validatorIndex: m.voter, signature: m.signature }),
    decode(p) {
      const v = voteCodec.decode(p);
      return { kind: "vote", height: v.height, blockHash: v.blockHash, voter: v.validatorIndex, signature: v.signature };
    },
  },
  "vote-aggregate": { type: MessageType.VoteAggregate, encode: (m) => voteAggregateCodec.encode(m), decode: (p) => ({ kind: "vote-aggregate", ...voteAggregateCodec.decode(p) }) },
  "precommit-aggregate": { type: MessageType.PrecommitAggregate, encode: (m) => voteAggregateCodec.encode(m), decode: (p) => ({ kind: "precommit-aggregate", ...voteAggregateCodec.decode(p) }) },
  "get-block": { type: MessageType.GetBlock, encode: (m) => getBlockCodec.encode(m), decode: (p) => ({ kind: "get-block", ...getBlockCodec.decode(p) }) },
  "get-range": { type: MessageType.GetBlockRange, encode: (m) => blockRangeCodec.encode(m), decode: (p) => ({ kind: "get-range", ...blockRangeCodec.decode(p) }) },
  "get-nonces": { type: MessageType.GetSenderTransactions, encode: (m) => senderTransactionsRequestCodec.encode(m), decode: (p) => ({ kind: "get-nonces", ...senderTransactionsRequestCodec.decode(p) }) },
  "certified-block": { type: MessageType.CertifiedBlock, encode: (m) => certifiedBlockCodec.encode(m), decode: (p) => ({ kind: "certified-block", ...certifiedBlockCodec.decode(p) }) },
  tx: { type: MessageType.Transaction, encode: (m) => m.tx.bytes, decode: (p) => ({ kind: "tx", tx: decodeTxWithBytes(p) }) },
  "chain-status": { type: MessageType.ChainStatus, encode: (m) => chainStatusCodec.encode(m), decode: (p) => ({ kind: "chain-status", ...chainStatusCodec.decode(p) }) },
};

const KIND_OF_TYPE: ReadonlyMap<MessageType, Kind> = new Map((Object.keys(WIRE) as Kind[]).map((k) => [WIRE[k].type, k]));

/** The frame types the consensus engine speaks (a node routes them to it). */
export const CONSENSUS_TYPES: readonly MessageType[] = [...KIND_OF_TYPE.keys()];

/** A consensus message as it goes into a mesh message: its type and payload bytes (docs/protocol.md). */
export function encodeConsensusMessage(m: ConsensusMessage): { type: MessageType; payload: Uint8Array } {
  const wire = WIRE[m.kind] as { readonly type: MessageType; encode(m: ConsensusMessage): Uint8Array };
  return { type: wire.type, payload: wire.encode(m) };
}

/** The consensus message in a received mesh message; null for types consensus does not handle. Throws typed errors for bad bytes. */
export function decodeConsensusMessage(type: MessageType, payload: Uint8Array): ConsensusMessage | null {
  const kind = KIND_OF_TYPE.get(type);
  return kind === undefined ? null : WIRE[kind].decode(payload);
}
