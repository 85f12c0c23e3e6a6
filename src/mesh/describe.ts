import { fromBinary } from "@bufbuild/protobuf";
import { Mesh, Portnums } from "@meshtastic/protobufs";
import { toHex, utf8 } from "../core/bytes.js";
import { decodeBlock } from "../core/block/block.js";
import { blockHash } from "../core/block/header.js";
import { signerIndices } from "../core/block/certificate.js";
import { formatAddress } from "../core/crypto/address.js";
import { decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import { TxKind } from "../core/tx/types.js";
import { decodeFrame, MessageType } from "./frame.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "./messages/chain.js";
import { fragmentRequestCodec } from "./messages/fragment-request.js";
import { peerInfoCodec } from "./messages/peers.js";
import { blockRangeCodec, blockTransactionsCodec, compactBlockCodec, getTransactionsCodec, senderTransactionsRequestCodec, voteAggregateCodec, voteCodec } from "./messages/relay.js";
import { helloCodec, statusCodec } from "./messages/signed.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "./messages/sync.js";

type Json = Record<string, unknown>;

function describeMessage(type: MessageType, payload: Uint8Array): Json {
  switch (type) {
    case MessageType.Transaction: {
      const { tx, bytes } = decodeTxWithBytes(payload);
      return { kind: TxKind[tx.body.kind], sender: formatAddress(tx.sender), nonce: tx.nonce, fee: tx.fee.toString(), hash: toHex(txHash(bytes)), bytes: bytes.length };
    }
    case MessageType.Block: {
      const b = decodeBlock(payload);
      return { height: b.header.height, slot: b.header.slot, hash: toHex(blockHash(b.header)), proposer: formatAddress(b.header.proposer), txs: b.txs.length };
    }
    case MessageType.CompactBlock: {
      const c = compactBlockCodec.decode(payload);
      return { height: c.height, slot: c.slot, parentHash: toHex(c.parentHash), proposerIndex: c.proposerIndex, certified: c.certificate !== null, shortIds: c.shortIds.length };
    }
    case MessageType.GetTransactions: {
      const g = getTransactionsCodec.decode(payload);
      return { slot: g.slot, blockRef: toHex(g.blockRef), indexes: g.indexes };
    }
    case MessageType.BlockTransactions: {
      const b = blockTransactionsCodec.decode(payload);
      return { slot: b.slot, blockRef: toHex(b.blockRef), txs: b.txs.map((t) => toHex(txHash(t))) };
    }
    case MessageType.Vote: {
      const v = voteCodec.decode(payload);
      return { height: v.height, blockHash: toHex(v.blockHash), validatorIndex: v.validatorIndex };
    }
    case MessageType.VoteAggregate: {
      const v = voteAggregateCodec.decode(payload);
      return { height: v.height, blockRef: toHex(v.blockRef), signers: signerIndices(v.signers) };
    }
    case MessageType.Hello: {
      const h = helloCodec.decode(payload).body;
      return { address: formatAddress(helloCodec.address(h)), nodeNumber: h.nodeNumber, tipHeight: h.tipHeight, finalizedHeight: h.finalizedHeight, roles: h.roles, timestamp: h.timestamp };
    }
    case MessageType.Status: {
      const s = statusCodec.decode(payload).body;
      return { address: formatAddress(s.address), tipHeight: s.tipHeight, finalizedHeight: s.finalizedHeight, timestamp: s.timestamp };
    }
    case MessageType.SyncRequest:
      return { ...syncRequestCodec.decode(payload) };
    case MessageType.SyncResponse: {
      const r = syncResponseCodec.decode(payload);
      return { requester: r.requester, fromHeight: r.fromHeight, finalizedHeight: r.finalizedHeight, oldestBody: r.oldestBody, blocks: r.blocks.length };
    }
    case MessageType.SnapshotRequest: {
      const s = snapshotRequestCodec.decode(payload);
      return { target: s.target, blockHash: toHex(s.blockHash), index: s.index };
    }
    case MessageType.SnapshotChunk: {
      const c = snapshotChunkCodec.decode(payload);
      return { requester: c.requester, blockHash: toHex(c.blockHash), index: c.index, count: c.count, bytes: c.data.length };
    }
    case MessageType.PeerInfo:
      return { peers: peerInfoCodec.decode(payload).map((p) => ({ address: formatAddress(p.address), nodeNumber: p.nodeNumber, hops: p.hops })) };
    case MessageType.FragmentRequest:
      return { ...fragmentRequestCodec.decode(payload) };
    case MessageType.GetBlockRange:
      return { ...blockRangeCodec.decode(payload) };
    case MessageType.GetSenderTransactions: {
      const g = senderTransactionsRequestCodec.decode(payload);
      return { sender: formatAddress(g.sender), nonces: g.nonces };
    }
    case MessageType.GetBlock:
      return { hash: toHex(getBlockCodec.decode(payload).hash) };
    case MessageType.CertifiedBlock: {
      const { block, certificate } = certifiedBlockCodec.decode(payload);
      const h = block.header;
      return { height: h.height, slot: h.slot, hash: toHex(blockHash(h)), proposer: formatAddress(h.proposer), txs: block.txs.length, certified: certificate !== null };
    }
    case MessageType.ChainStatus: {
      const s = chainStatusCodec.decode(payload);
      return { finalizedHeight: s.finalizedHeight, headHeight: s.headHeight, headHash: toHex(s.headHash), witnessHash: s.witnessHash === null ? null : toHex(s.witnessHash) };
    }
    case MessageType.Evidence:
      // Documented, never sent: evidence travels inside transactions (docs/protocol.md).
      return { bytes: payload.length };
  }
}

/** A MeshChain frame, as far as it decodes; what does not decode is reported, not thrown. */
export function describeFrame(bytes: Uint8Array): Json {
  try {
    const f = decodeFrame(bytes);
    const out: Json = { type: MessageType[f.type], messageId: f.messageId, fragment: f.fragment, payloadBytes: f.payload.length };
    if (f.fragment === null) {
      try {
        out.message = describeMessage(f.type, f.payload);
      } catch (e) {
        out.messageError = e instanceof Error ? e.message : String(e);
      }
    }
    return out;
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
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
