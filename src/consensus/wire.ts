import { decodeBlock, encodeBlock } from "../core/block/block.js";
import { decodeTxWithBytes } from "../core/tx/codec.js";
import { MessageType } from "../mesh/frame.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "../mesh/messages/chain.js";
import { blockRangeCodec, blockTransactionsCodec, compactBlockCodec, getTransactionsCodec, senderTransactionsRequestCodec, voteAggregateCodec, voteCodec } from "../mesh/messages/relay.js";
import type { ConsensusMessage } from "./messages.js";

/** A consensus message as it goes into a mesh message: its type and payload bytes (docs/protocol.md). */
export function encodeConsensusMessage(m: ConsensusMessage): { type: MessageType; payload: Uint8Array } {
  switch (m.kind) {
    case "proposal":
      return { type: MessageType.Block, payload: encodeBlock(m.block) };
    case "compact-proposal":
      return { type: MessageType.CompactBlock, payload: compactBlockCodec.encode(m.compact) };
    case "get-txs":
      return { type: MessageType.GetTransactions, payload: getTransactionsCodec.encode(m) };
    case "block-txs":
      return { type: MessageType.BlockTransactions, payload: blockTransactionsCodec.encode({ slot: m.slot, blockRef: m.blockRef, txs: m.txs.map((t) => t.bytes) }) };
    case "vote":
      return { type: MessageType.Vote, payload: voteCodec.encode({ height: m.height, blockHash: m.blockHash, validatorIndex: m.voter, signature: m.signature }) };
    case "vote-aggregate":
      return { type: MessageType.VoteAggregate, payload: voteAggregateCodec.encode(m) };
    case "get-block":
      return { type: MessageType.GetBlock, payload: getBlockCodec.encode(m) };
    case "get-range":
      return { type: MessageType.GetBlockRange, payload: blockRangeCodec.encode(m) };
    case "get-nonces":
      return { type: MessageType.GetSenderTransactions, payload: senderTransactionsRequestCodec.encode(m) };
    case "block":
      return { type: MessageType.CertifiedBlock, payload: certifiedBlockCodec.encode(m) };
    case "tx":
      return { type: MessageType.Transaction, payload: m.tx.bytes };
    case "status":
      return { type: MessageType.ChainStatus, payload: chainStatusCodec.encode(m) };
  }
}

/** The consensus message in a received mesh message; null for types consensus does not handle. Throws typed errors for bad bytes. */
export function decodeConsensusMessage(type: MessageType, payload: Uint8Array): ConsensusMessage | null {
  switch (type) {
    case MessageType.Block:
      return { kind: "proposal", block: decodeBlock(payload) };
    case MessageType.CompactBlock:
      return { kind: "compact-proposal", compact: compactBlockCodec.decode(payload) };
    case MessageType.GetTransactions:
      return { kind: "get-txs", ...getTransactionsCodec.decode(payload) };
    case MessageType.BlockTransactions: {
      const b = blockTransactionsCodec.decode(payload);
      return { kind: "block-txs", slot: b.slot, blockRef: b.blockRef, txs: b.txs.map((t) => decodeTxWithBytes(t)) };
    }
    case MessageType.Vote: {
      const v = voteCodec.decode(payload);
      return { kind: "vote", height: v.height, blockHash: v.blockHash, voter: v.validatorIndex, signature: v.signature };
    }
    case MessageType.VoteAggregate:
      return { kind: "vote-aggregate", ...voteAggregateCodec.decode(payload) };
    case MessageType.GetBlock:
      return { kind: "get-block", ...getBlockCodec.decode(payload) };
    case MessageType.GetBlockRange:
      return { kind: "get-range", ...blockRangeCodec.decode(payload) };
    case MessageType.GetSenderTransactions:
      return { kind: "get-nonces", ...senderTransactionsRequestCodec.decode(payload) };
    case MessageType.CertifiedBlock:
      return { kind: "block", ...certifiedBlockCodec.decode(payload) };
    case MessageType.Transaction:
      return { kind: "tx", tx: decodeTxWithBytes(payload) };
    case MessageType.ChainStatus:
      return { kind: "status", ...chainStatusCodec.decode(payload) };
    default:
      return null;
  }
}
