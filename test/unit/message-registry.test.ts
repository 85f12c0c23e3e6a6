import { helloRequestCodec } from "../../src/mesh/messages/hello-request.js";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { encodeBlock } from "../../src/core/block/block.js";
import { blockHash } from "../../src/core/block/header.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { treeBlock } from "../../src/consensus/block-tree.js";
import { compactBlock } from "../../src/consensus/compact-blocks.js";
import { CONSENSUS_TYPES, encodeConsensusMessage } from "../../src/consensus/wire.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { DecodeError } from "../../src/core/errors.js";
import { txHash } from "../../src/core/tx/codec.js";
import { describeFrame } from "../../src/mesh/describe.js";
import { FrameError } from "../../src/mesh/errors.js";
import { decodeFrame, encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "../../src/mesh/messages/chain.js";
import { fragmentRequestCodec } from "../../src/mesh/messages/fragment-request.js";
import { MESSAGE_REGISTRY, MESSAGE_SPECS, messageSpec, priorityOf, RESERVED_TYPES } from "../../src/mesh/messages/registry.js";
import { blockRangeCodec, blockTransactionsCodec, getTransactionsCodec, senderTransactionsRequestCodec, voteAggregateCodec, voteCodec } from "../../src/mesh/messages/relay.js";
import { helloCodec, statusCodec } from "../../src/mesh/messages/signed.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "../../src/mesh/messages/sync.js";
import { classifyFrame } from "../../src/mesh/sim/classify.js";
import { Priority } from "../../src/mesh/transport.js";
import { UNSIGNED_RATES } from "../../src/node/unsigned-rates.js";
import { CHAIN_ID, genesisStore, testChain, testIdentity, transfer } from "../fixtures/chain.js";

const chain = testChain({ validators: 1, users: 2 });
const { store, parent } = genesisStore(chain.genesis);
const [alice, bob] = chain.users as [NonNullable<(typeof chain.users)[0]>, NonNullable<(typeof chain.users)[0]>];
const tx = transfer(alice, 0, bob.address, 1_000n);
const proposer = chain.validators[0]!;
const block = produceBlock(store, { chainId: CHAIN_ID, parent, slot: 3, timestamp: parent.timestamp + 95, candidates: [tx], certificate: null, proposer: { address: proposer.address, bls: proposer.bls } }).block;
const hash = blockHash(block.header);
const root = treeBlock(parent.hash, null, null, { height: parent.height, slot: parent.slot, timestamp: parent.timestamp }, store);
const node = testIdentity("node");

/** One real, encoded message of every type the protocol defines, and a field its decoding must show. */
const SAMPLES: { readonly [K in MessageType]: { payload: Uint8Array; shows: Record<string, unknown> } } = {
  [MessageType.Transaction]: { payload: tx.bytes, shows: { nonce: 0, kind: "Transfer" } },
  [MessageType.Block]: { payload: encodeBlock(block), shows: { height: 1, hash: toHex(hash), txs: 1 } },
  [MessageType.CompactBlock]: { payload: encodeConsensusMessage({ kind: "compact-proposal", compact: compactBlock(block, root) }).payload, shows: { height: 1, slot: 3, shortIds: 1 } },
  [MessageType.GetTransactions]: { payload: getTransactionsCodec.encode({ slot: 3, blockRef: block.header.signature.slice(0, 8), indexes: [0, 2] }), shows: { slot: 3, indexes: [0, 2] } },
  [MessageType.Vote]: { payload: voteCodec.encode({ height: 1, blockHash: hash, validatorIndex: 0, signature: block.header.signature }), shows: { height: 1, blockHash: toHex(hash), validatorIndex: 0 } },
  [MessageType.SyncRequest]: { payload: syncRequestCodec.encode({ target: 0x1234, fromHeight: 5, maxBlocks: 16 }), shows: { target: 0x1234, fromHeight: 5, maxBlocks: 16 } },
  [MessageType.SyncResponse]: { payload: syncResponseCodec.encode({ requester: 9, fromHeight: 1, finalizedHeight: 1, oldestBody: 0, blocks: [{ bytes: encodeBlock(block), notarization: null }] }), shows: { requester: 9, blocks: 1 } },
  [MessageType.Hello]: {
    payload: helloCodec.encode({ protocolVersion: 1, chain: new Uint8Array(8), publicKey: node.ed25519.publicKey, nodeNumber: 77, tipHeight: 4, finalizedHeight: 3, roles: 1, timestamp: 1_800_000_000 }, CHAIN_ID, node.ed25519),
    shows: { nodeNumber: 77, tipHeight: 4 },
  },
  [MessageType.Status]: { payload: statusCodec.encode({ address: node.address, tipHeight: 4, tipHash: hash.slice(0, 8), finalizedHeight: 3, timestamp: 1_800_000_000 }, CHAIN_ID, node.ed25519), shows: { tipHeight: 4, finalizedHeight: 3 } },
  [MessageType.FragmentRequest]: { payload: fragmentRequestCodec.encode({ target: 42, messageId: 513, type: MessageType.Block, missing: [1, 3] }), shows: { target: 42, type: "Block", missing: [1, 3] } },
  [MessageType.GetBlock]: { payload: getBlockCodec.encode({ hash }), shows: { hash: toHex(hash) } },
  [MessageType.CertifiedBlock]: { payload: certifiedBlockCodec.encode({ block, certificate: null }), shows: { height: 1, hash: toHex(hash), certified: false } },
  [MessageType.ChainStatus]: { payload: chainStatusCodec.encode({ finalizedHeight: 4, headHeight: 6, headSlot: 9, headHash: hash, witnessHash: null }), shows: { finalizedHeight: 4, headHeight: 6, headSlot: 9, witnessHash: null } },
  [MessageType.BlockTransactions]: { payload: blockTransactionsCodec.encode({ slot: 3, blockRef: block.header.signature.slice(0, 8), txs: [tx.bytes] }), shows: { slot: 3, txs: [toHex(txHash(tx.bytes))] } },
  [MessageType.SnapshotRequest]: { payload: snapshotRequestCodec.encode({ target: 5, blockHash: hash, index: 2 }), shows: { target: 5, index: 2 } },
  [MessageType.SnapshotChunk]: { payload: snapshotChunkCodec.encode({ requester: 5, blockHash: hash, index: 2, count: 3, data: new Uint8Array(10) }), shows: { count: 3, bytes: 10 } },
  [MessageType.GetBlockRange]: { payload: blockRangeCodec.encode({ fromHeight: 10, count: 4 }), shows: { fromHeight: 10, count: 4 } },
  [MessageType.GetSenderTransactions]: { payload: senderTransactionsRequestCodec.encode({ sender: alice.address, nonces: [3, 5] }), shows: { nonces: [3, 5] } },
  [MessageType.VoteAggregate]: { payload: voteAggregateCodec.encode({ height: 1, blockRef: hash.slice(0, 8), signers: Uint8Array.of(0b101), signature: block.header.signature }), shows: { height: 1, blockRef: toHex(hash.slice(0, 8)), signers: 1 } },
  [MessageType.PrecommitAggregate]: { payload: voteAggregateCodec.encode({ height: 2, blockRef: hash.slice(0, 8), signers: Uint8Array.of(0b11), signature: block.header.signature }), shows: { height: 2, blockRef: toHex(hash.slice(0, 8)), signers: 1 } },
  [MessageType.HelloRequest]: { payload: helloRequestCodec.encode({ nodes: [0x1234, 9] }), shows: { nodes: [0x1234, 9] } },
};

const frame = (type: number, payload: Uint8Array): Uint8Array => {
  const f = encodeFrame({ type: MessageType.Vote, messageId: 1, fragment: null, payload });
  f[0] = (1 << 6) | type;
  return f;
};

/** The rows of docs/protocol.md's message table. */
function documentedMessages(): { type: number; name: string; priority: string; traffic: string; relay: string }[] {
  const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
  const start = doc.indexOf("| type | message | priority | traffic | relay | payload |");
  expect(start).toBeGreaterThan(0);
  const rows = doc.slice(start).split("\n\n")[0]!.split("\n").slice(2);
  return rows.map((r) => {
    const [type, name, priority, traffic, relay] = r.split("|").slice(1, 6).map((c) => c.trim()) as [string, string, string, string, string];
    return { type: Number(type), name, priority, traffic, relay };
  });
}

describe("the message registry", () => {
  it("is the message table of docs/protocol.md: ids, names, priorities, traffic and relay rules", () => {
    const fromRegistry = MESSAGE_SPECS.map((m) => ({ type: m.type, name: m.name, priority: Priority[m.priority].toLowerCase(), traffic: m.traffic, relay: m.relay }));
    expect(documentedMessages()).toEqual(fromRegistry);
  });

  it("names each message as its type's name in words, on both sides of the wire", () => {
    for (const m of MESSAGE_SPECS) {
      expect(m.name).toBe(MessageType[m.type]!.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase());
      expect(MESSAGE_REGISTRY[m.type]).toBe(m);
    }
    // Every enum member has a row, and the ids are those the frame header can carry.
    const enumIds = Object.values(MessageType).filter((v): v is number => typeof v === "number");
    expect(MESSAGE_SPECS.map((m) => m.type)).toEqual([...enumIds].sort((a, b) => a - b));
    expect(MESSAGE_SPECS.every((m) => m.type > 0 && m.type < 32)).toBe(true);
  });

  it("decodes every type from a real encoded frame, as mesh decode shows it", () => {
    for (const m of MESSAGE_SPECS) {
      const sample = SAMPLES[m.type];
      const out = describeFrame(frame(m.type, sample.payload));
      expect(out.type, m.name).toBe(MessageType[m.type]);
      expect(out.messageError, m.name).toBeUndefined();
      expect(out.message, m.name).toMatchObject(sample.shows);
      // Bytes that are not the message: a typed decode error, reported.
      const bad = describeFrame(frame(m.type, Uint8Array.of(0xff)));
      expect(bad.message, m.name).toBeUndefined();
      expect(bad.messageErrorCode, m.name).toBeTypeOf("string");
      expect(() => m.describe(Uint8Array.of(0xff))).toThrow(DecodeError);
    }
  });

  it("refuses reserved (6, 10) and undefined ids with a typed error", () => {
    const defined = new Set(MESSAGE_SPECS.map((m) => m.type as number));
    const undefinedIds = Array.from({ length: 32 }, (_, i) => i).filter((i) => !defined.has(i));
    expect(undefinedIds).toEqual(expect.arrayContaining([0, ...RESERVED_TYPES, 24, 31]));
    for (const id of undefinedIds) {
      expect(describeFrame(frame(id, Uint8Array.of(1, 2, 3)))).toMatchObject({ code: "UNKNOWN_TYPE" });
      expect(() => decodeFrame(frame(id, Uint8Array.of(1)))).toThrow(FrameError);
      expect(() => messageSpec(id)).toThrow(FrameError);
      expect(classifyFrame(frame(id, Uint8Array.of(1)))).toBe("other");
    }
    expect(() => messageSpec(6)).toThrow(/reserved/);
  });

  it("hands the relay gate the decoded object its rule checks, and relays nothing whose rule is never", () => {
    for (const m of MESSAGE_SPECS) {
      const payload = SAMPLES[m.type].payload;
      if (m.relay === "never") {
        expect(() => m.subjectOf(payload), m.name).toThrow(FrameError);
        continue;
      }
      const subject = m.subjectOf(payload);
      expect(subject.rule, m.name).toBe(m.relay);
      if (subject.rule === "proposer-signature") expect(toHex(blockHash(subject.block.header))).toBe(toHex(hash));
      if (subject.rule === "signed-transactions") expect(subject.txs.map((t) => toHex(txHash(t.bytes)))).toEqual([toHex(txHash(tx.bytes))]);
      if (subject.rule === "validator-signature") expect(subject.vote.validatorIndex).toBe(0);
      if (subject.rule === "proposer-reveal") expect(subject.compact.slot).toBe(3);
    }
  });

  it("drives airtime classes, unsigned rates and IP-only routing", () => {
    for (const m of MESSAGE_SPECS) expect(classifyFrame(frame(m.type, SAMPLES[m.type].payload))).toBe(m.traffic);
    expect([...UNSIGNED_RATES.keys()].sort((a, b) => a - b)).toEqual(MESSAGE_SPECS.filter((m) => m.unsignedRate !== undefined).map((m) => m.type));
    // Unsigned rates are for messages that carry no signature of their own.
    for (const type of UNSIGNED_RATES.keys()) expect([MessageType.Hello, MessageType.Status, MessageType.Vote, MessageType.Transaction]).not.toContain(type);
    expect(MESSAGE_SPECS.filter((m) => m.ipOnly === true).map((m) => m.type)).toEqual([MessageType.SyncRequest, MessageType.SyncResponse, MessageType.SnapshotRequest, MessageType.SnapshotChunk]);
    // What goes over IP only is never relayed onto the radio.
    for (const m of MESSAGE_SPECS) if (m.ipOnly === true) expect(m.relay).toBe("never");
  });

  it("carries every consensus message kind on a registry type, at the registry's priority", () => {
    const messages: ConsensusMessage[] = [
      { kind: "proposal", block }, { kind: "compact-proposal", compact: compactBlock(block, root) },
      { kind: "get-txs", slot: 3, blockRef: block.header.signature.slice(0, 8), indexes: [0] }, { kind: "block-txs", slot: 3, blockRef: block.header.signature.slice(0, 8), txs: [tx] },
      { kind: "vote", height: 1, blockHash: hash, voter: 0, signature: block.header.signature }, { kind: "get-block", hash },
      { kind: "vote-aggregate", height: 1, blockRef: hash.slice(0, 8), signers: Uint8Array.of(1), signature: block.header.signature },
      { kind: "precommit-aggregate", height: 1, blockRef: hash.slice(0, 8), signers: Uint8Array.of(1), signature: block.header.signature },
      { kind: "get-nonces", sender: alice.address, nonces: [1] }, { kind: "get-range", fromHeight: 1, count: 2 },
      { kind: "certified-block", block, certificate: null }, { kind: "tx", tx }, { kind: "chain-status", finalizedHeight: 1, headHeight: 1, headSlot: 1, headHash: hash, witnessHash: null },
    ];
    const types = messages.map((m) => encodeConsensusMessage(m).type);
    expect(new Set(types).size).toBe(messages.length);
    expect([...types].sort((a, b) => a - b)).toEqual([...CONSENSUS_TYPES].sort((a, b) => a - b));
    for (const m of messages) {
      const { type, payload } = encodeConsensusMessage(m);
      expect(describeFrame(frame(type, payload)).messageError, m.kind).toBeUndefined();
    }
    expect(priorityOf(MessageType.Vote)).toBe(Priority.Consensus);
    expect(priorityOf(MessageType.Transaction)).toBe(Priority.Transaction);
    expect(priorityOf(MessageType.Hello)).toBe(Priority.Control);
  });
});
