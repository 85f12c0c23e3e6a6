import { type Block, decodeBlock, encodeBlock } from "../core/block/block.js";
import { readCertificate, writeCertificate } from "../core/block/certificate.js";
import { MAX_BLOCK_BYTES, MAX_HEIGHT } from "../core/block/limits.js";
import { decodeExact } from "../core/codec/reader.js";
import { Writer } from "../core/codec/writer.js";
import { HASH_LENGTH } from "../core/crypto/hash.js";
import { decodeTxWithBytes } from "../core/tx/codec.js";
import { MessageType } from "../mesh/frame.js";
import { blockRangeCodec, blockTransactionsCodec, compactBlockCodec, getTransactionsCodec, senderTransactionsRequestCodec, voteCodec } from "../mesh/messages/relay.js";
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
    case "get-block":
      return { type: MessageType.GetBlock, payload: new Writer().fixed(m.hash, HASH_LENGTH).finish() };
    case "get-range":
      return { type: MessageType.GetBlockRange, payload: blockRangeCodec.encode(m) };
    case "get-nonces":
      return { type: MessageType.GetSenderTransactions, payload: senderTransactionsRequestCodec.encode(m) };
    case "block": {
      const w = new Writer();
      if (m.certificate === null) w.u8(0);
      else {
        w.u8(1);
        writeCertificate(w, m.certificate);
      }
      return { type: MessageType.CertifiedBlock, payload: w.bytes(encodeBlock(m.block), MAX_BLOCK_BYTES).finish() };
    }
    case "tx":
      return { type: MessageType.Transaction, payload: m.tx.bytes };
    case "status": {
      const w = new Writer().varint(m.finalizedHeight).varint(m.headHeight).fixed(m.headHash, HASH_LENGTH);
      if (m.witnessHash === null) w.u8(0);
      else w.u8(1).fixed(m.witnessHash, HASH_LENGTH);
      return { type: MessageType.ChainStatus, payload: w.finish() };
    }
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
    case MessageType.GetBlock:
      return { kind: "get-block", hash: decodeExact(payload, (r) => r.fixed(HASH_LENGTH)) };
    case MessageType.GetBlockRange:
      return { kind: "get-range", ...blockRangeCodec.decode(payload) };
    case MessageType.GetSenderTransactions:
      return { kind: "get-nonces", ...senderTransactionsRequestCodec.decode(payload) };
    case MessageType.CertifiedBlock:
      return decodeExact(payload, (r) => {
        const certificate = r.flag() ? readCertificate(r) : null;
        const block: Block = decodeBlock(r.bytes(MAX_BLOCK_BYTES));
        return { kind: "block" as const, block, certificate };
      });
    case MessageType.Transaction:
      return { kind: "tx", tx: decodeTxWithBytes(payload) };
    case MessageType.ChainStatus:
      return decodeExact(payload, (r) => ({
        kind: "status" as const,
        finalizedHeight: r.varint(MAX_HEIGHT),
        headHeight: r.varint(MAX_HEIGHT),
        headHash: r.fixed(HASH_LENGTH),
        witnessHash: r.flag() ? r.fixed(HASH_LENGTH) : null,
      }));
    default:
      return null;
  }
}
