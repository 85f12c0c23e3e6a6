import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { blockHash } from "../../src/core/block/header.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { DecodeError } from "../../src/core/errors.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../src/consensus/wire.js";
import { describeFrame } from "../../src/mesh/describe.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { certifiedBlockCodec, chainStatusCodec, getBlockCodec } from "../../src/mesh/messages/chain.js";
import { bytesOf, headerArb } from "../fixtures/arbitraries.js";
import { CHAIN_ID, genesisStore, testChain } from "../fixtures/chain.js";

const { genesis, validators } = testChain();
const { store: state, parent } = genesisStore(genesis);
const v = validators[0]!;
const block = produceBlock(state, { chainId: CHAIN_ID, parent, slot: parent.slot + 1, timestamp: parent.timestamp + 10, candidates: [], certificate: null, proposer: { address: v.address, bls: v.bls } }).block;
const frame = (type: MessageType, payload: Uint8Array) => encodeFrame({ type, messageId: 7, fragment: null, payload });

describe("chain messages (types 13-15)", () => {
  it("round-trip get-block and chain status, and refuse trailing bytes", () => {
    fc.assert(fc.property(bytesOf(32), (hash) => {
      expect(getBlockCodec.decode(getBlockCodec.encode({ hash }))).toEqual({ hash });
    }));
    const status = fc.record({ finalizedHeight: fc.integer({ min: 0, max: 2 ** 40 }), headHeight: fc.integer({ min: 0, max: 2 ** 40 }), headSlot: fc.integer({ min: 0, max: 2 ** 48 - 1 }), headHash: bytesOf(32), witnessHash: fc.option(bytesOf(32)) });
    fc.assert(fc.property(status, (s) => {
      expect(chainStatusCodec.decode(chainStatusCodec.encode(s))).toEqual(s);
    }));
    expect(() => getBlockCodec.decode(new Uint8Array(33))).toThrow(DecodeError);
  });

  it("round-trip a certified block, with and without its certificate, through the consensus wire", () => {
    fc.assert(fc.property(headerArb.map((h) => h.certificate), (certificate) => {
      const onWire = encodeConsensusMessage({ kind: "certified-block", block, certificate });
      expect(onWire.type).toBe(MessageType.CertifiedBlock);
      expect(decodeConsensusMessage(onWire.type, onWire.payload)).toEqual({ kind: "certified-block", block, certificate });
    }), { numRuns: 30 });
  });

  it("are decoded by mesh decode's describer, and bad bytes are reported, not thrown", () => {
    const hash = blockHash(block.header);
    expect(describeFrame(frame(MessageType.GetBlock, getBlockCodec.encode({ hash }))).message).toEqual({ hash: toHex(hash) });
    expect(describeFrame(frame(MessageType.CertifiedBlock, certifiedBlockCodec.encode({ block, certificate: null }))).message).toMatchObject({ height: 1, hash: toHex(hash), txs: 0, certified: false });
    expect(describeFrame(frame(MessageType.ChainStatus, chainStatusCodec.encode({ finalizedHeight: 4, headHeight: 6, headSlot: 9, headHash: hash, witnessHash: null }))).message).toEqual({ finalizedHeight: 4, headHeight: 6, headSlot: 9, headHash: toHex(hash), witnessHash: null });
    const bad = describeFrame(frame(MessageType.ChainStatus, Uint8Array.of(1, 2)));
    expect(bad.message).toBeUndefined();
    expect(typeof bad.messageError).toBe("string");
  });
});
