/*
 * The protocol's message table: one row per frame type, and everything a node decides by a message's
 * type reads it here (in the spirit of core/state/params.ts): its name (docs/protocol.md's, tested),
 * its codec, its scheduling priority, its traffic class for airtime accounting, whether it may cross
 * between transports and under which check, whether it stays on IP, and the rate at which an unsigned
 * one is handled.
 *
 * Why the whole table lives in mesh/: every payload codec depends on core/ only (blocks, transactions,
 * certificates), so all of them sit in mesh/messages/ and the table can name them directly. The
 * consensus layer does not own codecs: consensus/wire.ts only maps its message kinds onto these
 * types, so nothing here needs to import consensus/ (DESIGN.md §4). The relay *checks* need the
 * chain's state and BLS keys (node/relay-gate.ts); this table says which check each type gets and
 * hands the gate the decoded object it checks.
 */
import { toHex } from "../../core/bytes.js";
import { type Block, decodeBlock, encodeBlock } from "../../core/block/block.js";
import { blockHash } from "../../core/block/header.js";
import { formatAddress } from "../../core/crypto/address.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../../core/tx/codec.js";
import { TxKind } from "../../core/tx/types.js";
import { FrameError } from "../errors.js";
import { MessageType, unknownTypeError } from "../frame.js";
import { Priority } from "../transport.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "./chain.js";
import { fragmentRequestCodec } from "./fragment-request.js";
import { helloRequestCodec } from "./hello-request.js";
import { blockRangeCodec, blockTransactionsCodec, type CompactBlock, compactBlockCodec, getTransactionsCodec, senderTransactionsRequestCodec, type VoteAggregateMessage, voteAggregateCodec, type VoteMessage, voteCodec } from "./relay.js";
import { helloCodec, statusCodec } from "./signed.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "./sync.js";

/** What airtime is spent on (the simulator's and the benchmarks' accounting); "other" is not ours. */
export const TRAFFIC_CLASSES = ["tx", "block", "vote", "sync", "control", "other"] as const;
export type TrafficClass = (typeof TRAFFIC_CLASSES)[number];

/** Ids no message may take again (mesh/frame.ts says why). */
export { RESERVED_TYPES } from "../frame.js";

/** The object a bridging node checks before passing a message across transports (node/relay-gate.ts). */
export type RelaySubject =
  /** Unsigned by nature: well-formed, within the request rate. */
  | { readonly rule: "request" }
  /** Each transaction signed by the key of an existing account. */
  | { readonly rule: "signed-transactions"; readonly txs: readonly DecodedTx[] }
  /** The block signed by its proposer, a member of the voting set. */
  | { readonly rule: "proposer-signature"; readonly block: Block }
  /** The proposer's randao reveal for the slot. */
  | { readonly rule: "proposer-reveal"; readonly compact: CompactBlock }
  /** The vote signed by a member of the voting set, for a block whose slot the gate knows. */
  | { readonly rule: "validator-signature"; readonly vote: VoteMessage }
  /** Every named signer a member of the voting set, the aggregate verifying over exactly their keys. */
  | { readonly rule: "validators-aggregate"; readonly aggregate: VoteAggregateMessage }
  /** The same over precommits (their own signing kind): a vote aggregate's bytes never pass as one. */
  | { readonly rule: "validators-precommit"; readonly aggregate: VoteAggregateMessage };

/** "never": the message names its own sender, or carries nothing a bridge can verify; it stays on its transport. */
export type RelayRule = RelaySubject["rule"] | "never";

/** Unsigned messages that make us work or answer: at most `perSender` a second from one node, `total` from all. */
export interface UnsignedRate {
  readonly perSender: number;
  readonly total: number;
}

type Json = Record<string, unknown>;

/** `In`: what is encoded, when it differs from what decodes (a signed message decodes with its signature). */
interface Codec<T, In = T> {
  /** Some messages are signed as they are encoded (hello, status): they take the chain id and key too. */
  encode(message: In, ...context: never[]): Uint8Array;
  decode(payload: Uint8Array): T;
}

interface MessageRow<T, In = T> {
  /** As docs/protocol.md names it: the enum name in words ("get sender transactions"). */
  readonly name: string;
  readonly codec: Codec<T, In>;
  readonly priority: Priority;
  readonly traffic: Exclude<TrafficClass, "other">;
  readonly relay: RelayRule;
  /** The decoded message as the relay gate checks it (absent for relay "never"). */
  relaySubject?(message: T): RelaySubject;
  /** Too big for the radio: sent over IP only. */
  readonly ipOnly?: boolean;
  readonly unsignedRate?: UnsignedRate;
  /** What `meshchain mesh decode` shows of it. */
  show(message: T): Json;
}

/** A row with its decoding closed over, so rows of different message types share one table. */
export interface MessageSpec<T = unknown, In = T> extends MessageRow<T, In> {
  readonly type: MessageType;
  /** Decodes and shows; throws the codec's typed error (DecodeError) for bad bytes. */
  describe(payload: Uint8Array): Json;
  /** Decodes and returns what the relay gate checks; throws for bad bytes or a type that is never relayed. */
  subjectOf(payload: Uint8Array): RelaySubject;
}

function row<T, In = T>(type: MessageType, r: MessageRow<T, In>): MessageSpec<T, In> {
  return {
    ...r,
    type,
    describe: (payload) => r.show(r.codec.decode(payload)),
    subjectOf(payload) {
      if (r.relaySubject === undefined) throw new FrameError("UNKNOWN_TYPE", `${r.name} messages are never relayed`);
      return r.relaySubject(r.codec.decode(payload));
    },
  };
}

const txCodec: Codec<DecodedTx> = { encode: (t) => t.bytes, decode: decodeTxWithBytes };
const blockCodec: Codec<Block> = { encode: encodeBlock, decode: decodeBlock };

const showTx = ({ tx, bytes }: DecodedTx): Json => ({ kind: TxKind[tx.body.kind], sender: formatAddress(tx.sender), nonce: tx.nonce, fee: tx.fee.toString(), hash: toHex(txHash(bytes)), bytes: bytes.length });
const showBlock = (b: Block): Json => ({ height: b.header.height, slot: b.header.slot, hash: toHex(blockHash(b.header)), proposer: formatAddress(b.header.proposer), txs: b.txs.length });

const REQUEST = { relay: "request", relaySubject: (): RelaySubject => ({ rule: "request" }) } as const;

/** The table. Keyed by every MessageType, so a new type does not compile until it has its row. */
export const MESSAGE_REGISTRY: { readonly [K in MessageType]: MessageSpec } = {
  [MessageType.Transaction]: row(MessageType.Transaction, {
    name: "transaction", codec: txCodec, priority: Priority.Transaction, traffic: "tx",
    relay: "signed-transactions", relaySubject: (t) => ({ rule: "signed-transactions", txs: [t] }), show: showTx,
  }),
  [MessageType.Block]: row(MessageType.Block, {
    name: "block", codec: blockCodec, priority: Priority.Consensus, traffic: "block",
    relay: "proposer-signature", relaySubject: (block) => ({ rule: "proposer-signature", block }), show: showBlock,
  }),
  [MessageType.CompactBlock]: row(MessageType.CompactBlock, {
    name: "compact block", codec: compactBlockCodec, priority: Priority.Consensus, traffic: "block",
    relay: "proposer-reveal", relaySubject: (compact) => ({ rule: "proposer-reveal", compact }),
    show: (c) => ({ height: c.height, slot: c.slot, parentHash: toHex(c.parentHash), proposerIndex: c.proposerIndex, certified: c.certificate !== null, notarized: c.notarization !== null, shortIds: c.shortIds.length }),
  }),
  [MessageType.GetTransactions]: row(MessageType.GetTransactions, {
    name: "get transactions", codec: getTransactionsCodec, priority: Priority.Sync, traffic: "block", ...REQUEST,
    unsignedRate: { perSender: 4, total: 16 }, show: (g) => ({ slot: g.slot, blockRef: toHex(g.blockRef), indexes: g.indexes }),
  }),
  [MessageType.Vote]: row(MessageType.Vote, {
    name: "vote", codec: voteCodec, priority: Priority.Consensus, traffic: "vote",
    relay: "validator-signature", relaySubject: (vote) => ({ rule: "validator-signature", vote }),
    show: (v) => ({ height: v.height, blockHash: toHex(v.blockHash), validatorIndex: v.validatorIndex }),
  }),
  [MessageType.SyncRequest]: row(MessageType.SyncRequest, {
    name: "sync request", codec: syncRequestCodec, priority: Priority.Sync, traffic: "sync", relay: "never", ipOnly: true,
    // Each answer is one frame of up to 64 finalized blocks read from SQLite (about a millisecond), and
    // range sync asks for the next as soon as one is imported: at 4 a second sync could not pass about
    // 120 blocks/s; at this rate one peer can feed thousands, and forged requests cost at most about
    // 1.6 MB/s of answers in all. Followers pace themselves just under it (node/sync.ts).
    unsignedRate: { perSender: 100, total: 200 }, show: (r) => ({ target: r.target, fromHeight: r.fromHeight, maxBlocks: r.maxBlocks }),
  }),
  [MessageType.SyncResponse]: row(MessageType.SyncResponse, {
    name: "sync response", codec: syncResponseCodec, priority: Priority.Sync, traffic: "sync", relay: "never", ipOnly: true,
    show: (r) => ({ requester: r.requester, fromHeight: r.fromHeight, finalizedHeight: r.finalizedHeight, oldestBody: r.oldestBody, blocks: r.blocks.length }),
  }),
  [MessageType.Hello]: row(MessageType.Hello, {
    name: "hello", codec: helloCodec, priority: Priority.Control, traffic: "control", relay: "never",
    show: ({ body: h }) => ({ address: formatAddress(helloCodec.address(h)), nodeNumber: h.nodeNumber, tipHeight: h.tipHeight, finalizedHeight: h.finalizedHeight, roles: h.roles, timestamp: h.timestamp }),
  }),
  [MessageType.Status]: row(MessageType.Status, {
    name: "status", codec: statusCodec, priority: Priority.Control, traffic: "control", relay: "never",
    show: ({ body: s }) => ({ address: formatAddress(s.address), tipHeight: s.tipHeight, finalizedHeight: s.finalizedHeight, timestamp: s.timestamp }),
  }),
  [MessageType.FragmentRequest]: row(MessageType.FragmentRequest, {
    name: "fragment request", codec: fragmentRequestCodec, priority: Priority.Sync, traffic: "control", relay: "never",
    show: (f) => ({ target: f.target, messageId: f.messageId, type: MessageType[f.type], missing: f.missing }),
  }),
  [MessageType.GetBlock]: row(MessageType.GetBlock, {
    name: "get block", codec: getBlockCodec, priority: Priority.Sync, traffic: "block", ...REQUEST,
    unsignedRate: { perSender: 4, total: 16 }, show: (g) => ({ hash: toHex(g.hash) }),
  }),
  [MessageType.CertifiedBlock]: row(MessageType.CertifiedBlock, {
    name: "certified block", codec: certifiedBlockCodec, priority: Priority.Consensus, traffic: "block",
    relay: "proposer-signature", relaySubject: (m) => ({ rule: "proposer-signature", block: m.block }),
    show: (m) => ({ ...showBlock(m.block), certified: m.certificate !== null }),
  }),
  [MessageType.ChainStatus]: row(MessageType.ChainStatus, {
    name: "chain status", codec: chainStatusCodec, priority: Priority.Control, traffic: "control", relay: "never",
    unsignedRate: { perSender: 1, total: 8 },
    show: (s) => ({ finalizedHeight: s.finalizedHeight, headHeight: s.headHeight, headSlot: s.headSlot, headHash: toHex(s.headHash), witnessHash: s.witnessHash === null ? null : toHex(s.witnessHash) }),
  }),
  [MessageType.BlockTransactions]: row(MessageType.BlockTransactions, {
    name: "block transactions", codec: blockTransactionsCodec, priority: Priority.Sync, traffic: "block",
    relay: "signed-transactions", relaySubject: (b) => ({ rule: "signed-transactions", txs: b.txs.map((t) => decodeTxWithBytes(t)) }),
    show: (b) => ({ slot: b.slot, blockRef: toHex(b.blockRef), txs: b.txs.map((t) => toHex(txHash(t))) }),
  }),
  [MessageType.SnapshotRequest]: row(MessageType.SnapshotRequest, {
    name: "snapshot request", codec: snapshotRequestCodec, priority: Priority.Sync, traffic: "sync", relay: "never", ipOnly: true,
    unsignedRate: { perSender: 8, total: 32 }, show: (s) => ({ target: s.target, blockHash: toHex(s.blockHash), index: s.index }),
  }),
  [MessageType.SnapshotChunk]: row(MessageType.SnapshotChunk, {
    name: "snapshot chunk", codec: snapshotChunkCodec, priority: Priority.Sync, traffic: "sync", relay: "never", ipOnly: true,
    show: (c) => ({ requester: c.requester, blockHash: toHex(c.blockHash), index: c.index, count: c.count, bytes: c.data.length }),
  }),
  [MessageType.GetBlockRange]: row(MessageType.GetBlockRange, {
    name: "get block range", codec: blockRangeCodec, priority: Priority.Sync, traffic: "block", ...REQUEST,
    unsignedRate: { perSender: 2, total: 8 }, show: (r) => ({ fromHeight: r.fromHeight, count: r.count }),
  }),
  [MessageType.GetSenderTransactions]: row(MessageType.GetSenderTransactions, {
    name: "get sender transactions", codec: senderTransactionsRequestCodec, priority: Priority.Sync, traffic: "control", ...REQUEST,
    unsignedRate: { perSender: 2, total: 8 }, show: (g) => ({ sender: formatAddress(g.sender), nonces: g.nonces }),
  }),
  [MessageType.VoteAggregate]: row(MessageType.VoteAggregate, {
    name: "vote aggregate", codec: voteAggregateCodec, priority: Priority.Consensus, traffic: "vote",
    relay: "validators-aggregate", relaySubject: (aggregate) => ({ rule: "validators-aggregate", aggregate }),
    show: (a) => ({ height: a.height, blockRef: toHex(a.blockRef), signers: a.signers.length }),
  }),
  [MessageType.PrecommitAggregate]: row(MessageType.PrecommitAggregate, {
    name: "precommit aggregate", codec: voteAggregateCodec, priority: Priority.Consensus, traffic: "vote",
    relay: "validators-precommit", relaySubject: (aggregate) => ({ rule: "validators-precommit", aggregate }),
    show: (a) => ({ height: a.height, blockRef: toHex(a.blockRef), signers: a.signers.length }),
  }),
  // Sent and answered at 0 hops (node/hello-heal.ts): a bridge has nothing to pass on. The rate only
  // bounds decoding; what a forged one costs its named node is one hello an interval (the answerer's bound).
  [MessageType.HelloRequest]: row(MessageType.HelloRequest, {
    name: "hello request", codec: helloRequestCodec, priority: Priority.Control, traffic: "control", relay: "never",
    unsignedRate: { perSender: 1, total: 4 }, show: (h) => ({ nodes: h.nodes }),
  }),
};

/** Every row, in type order. */
export const MESSAGE_SPECS: readonly MessageSpec[] = Object.values(MESSAGE_REGISTRY).sort((a, b) => a.type - b.type);

/** The row of a type id, or undefined for an id the protocol does not define (reserved ids included). */
export const findMessageSpec = (type: number): MessageSpec | undefined => (MESSAGE_REGISTRY as Partial<Record<number, MessageSpec>>)[type];

/** The row of a type id; a typed error (UNKNOWN_TYPE) for an id the protocol does not define, reserved ids included. */
export function messageSpec(type: number): MessageSpec {
  const spec = findMessageSpec(type);
  if (spec === undefined) throw unknownTypeError(type);
  return spec;
}

/** How urgently a message of this type is sent (the radio scheduler's class). */
export const priorityOf = (type: MessageType): Priority => messageSpec(type).priority;
