import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { DecodeError, EncodeError } from "../../src/core/errors.js";
import { FrameError } from "../../src/mesh/errors.js";
import { decodeFrame, encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_REASSEMBLY_LIMITS, fragmentMessage, Reassembler } from "../../src/mesh/fragmentation.js";
import { fragmentRequestCodec } from "../../src/mesh/messages/fragment-request.js";
import { blockRangeCodec, compactBlockCodec, getTransactionsCodec, MAX_REQUESTED_NONCES, senderTransactionsRequestCodec, voteCodec } from "../../src/mesh/messages/relay.js";
import { helloCodec, statusCodec } from "../../src/mesh/messages/signed.js";
import { syncRequestCodec, syncResponseCodec } from "../../src/mesh/messages/sync.js";
import { bytesOf } from "../fixtures/arbitraries.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../src/consensus/wire.js";
import { testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";

const types = fc.constantFrom(...(Object.values(MessageType).filter((v) => typeof v === "number") as MessageType[]));
const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxMessageBytes: 4096, maxPartialBytesPerSender: 20_000, maxPartialBytesTotal: 65536, timeoutMs: 60_000, requestAfterMs: 5_000, maxRequests: 3 };

describe("frames", () => {
  it("spend 3 header bytes on a whole message and 5 on a fragment", () => {
    expect(encodeFrame({ type: MessageType.Vote, messageId: 1, fragment: null, payload: new Uint8Array(84) }).length).toBe(87);
    expect(encodeFrame({ type: MessageType.Block, messageId: 1, fragment: { index: 0, count: 2 }, payload: new Uint8Array(10) }).length).toBe(15);
  });

  it("round-trip", () => {
    fc.assert(fc.property(types, fc.integer({ min: 0, max: 0xffff }), fc.option(fc.integer({ min: 2, max: 255 }).chain((count) => fc.record({ count: fc.constant(count), index: fc.integer({ min: 0, max: count - 1 }) })), { nil: null }), fc.uint8Array({ minLength: 1, maxLength: 300 }), (type, messageId, fragment, payload) => {
      const bytes = encodeFrame({ type, messageId, fragment, payload });
      expect(decodeFrame(bytes)).toEqual({ type, messageId, fragment, payload });
    }));
  });

  it("give only typed errors for random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        const f = decodeFrame(bytes);
        expect(toHex(encodeFrame(f))).toBe(toHex(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(FrameError);
      }
    }), { numRuns: 5000 });
  });
});

describe("fragmentation", () => {
  it("fits every frame in the MTU and reassembles in any order, ignoring duplicates", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.integer({ min: 40, max: 300 }), fc.integer(), (message, mtu, seed) => {
      const frames = fragmentMessage(MessageType.Block, 77, message, mtu);
      expect(frames.every((f) => f.length <= mtu)).toBe(true);
      const random = seededRandom(seed);
      const shuffled = [...frames, ...frames.filter(() => random() < 0.3)].sort(() => random() - 0.5);
      const r = new Reassembler(limits);
      const done = shuffled.map((f) => r.accept(9, decodeFrame(f), 0)).filter((m) => m !== null);
      expect(done).toHaveLength(1);
      expect(toHex(done[0]!.payload)).toBe(toHex(message));
      expect(r.stats.partialBytes).toBe(0);
    }), { numRuns: 100 });
  });

  it("refuses messages over 4 KB", () => {
    expect(() => fragmentMessage(MessageType.Block, 1, new Uint8Array(4097), 231)).toThrow(expect.objectContaining({ code: "TOO_LARGE" }));
  });

  it("asks for missing fragments after a pause, then gives up at the timeout", () => {
    const frames = fragmentMessage(MessageType.Block, 5, new Uint8Array(1000).fill(1), 231);
    const r = new Reassembler(limits);
    frames.filter((_, i) => i !== 1 && i !== 3).forEach((f) => r.accept(4, decodeFrame(f), 0));
    expect(r.tick(4_000)).toEqual([]);
    expect(r.tick(5_000)).toEqual([{ sender: 4, messageId: 5, type: MessageType.Block, missing: [1, 3] }]);
    expect(r.tick(6_000)).toEqual([]);
    r.tick(60_000);
    expect(r.stats.expired).toBe(1);
    expect(r.stats.partialBytes).toBe(0);
  });

  it("holds bounded memory under a flood of fragments that never complete", () => {
    const r = new Reassembler(limits);
    const random = seededRandom(42);
    for (let i = 0; i < 20_000; i++) {
      const sender = Math.floor(random() * 50);
      const count = 2 + Math.floor(random() * 200);
      const frame = encodeFrame({ type: MessageType.Block, messageId: Math.floor(random() * 65536), fragment: { index: Math.floor(random() * count), count }, payload: new Uint8Array(1 + Math.floor(random() * 220)) });
      r.accept(sender, decodeFrame(frame), i);
      expect(r.stats.partialBytes).toBeLessThanOrEqual(limits.maxPartialBytesTotal);
    }
    expect(r.stats.evicted).toBeGreaterThan(0);
  });

  it("keeps one sender from crowding out the others", () => {
    const r = new Reassembler(limits);
    const honest = fragmentMessage(MessageType.Block, 1, new Uint8Array(2000).fill(3), 231).map(decodeFrame);
    r.accept(1, honest[0]!, 0);
    for (let i = 0; i < 500; i++) r.accept(2, decodeFrame(encodeFrame({ type: MessageType.Block, messageId: i, fragment: { index: 0, count: 9 }, payload: new Uint8Array(200) })), 0);
    const done = honest.slice(1).map((f) => r.accept(1, f, 1)).filter((m) => m !== null);
    expect(done).toHaveLength(1);
  });
});

describe("message codecs", () => {
  const id = testIdentity("node");

  it("sign hello and status so that nobody can speak for another node", () => {
    const hello = { protocolVersion: 1, chain: new Uint8Array(8).fill(1), publicKey: id.ed25519.publicKey, nodeNumber: 0x1234, tipHeight: 10, finalizedHeight: 8, roles: 1, timestamp: 1_800_000_000 };
    const bytes = helloCodec.encode(hello, "c1", id.ed25519);
    const decoded = helloCodec.decode(bytes);
    expect(decoded.body).toEqual(hello);
    expect(helloCodec.verify(decoded, "c1")).toBe(true);
    expect(helloCodec.verify(decoded, "c2")).toBe(false);
    const forged = helloCodec.decode(helloCodec.encode({ ...hello, publicKey: testIdentity("victim").ed25519.publicKey }, "c1", id.ed25519));
    expect(helloCodec.verify(forged, "c1")).toBe(false);

    const status = { address: id.address, tipHeight: 10, tipHash: new Uint8Array(8).fill(2), finalizedHeight: 8, timestamp: 1_800_000_000 };
    const s = statusCodec.decode(statusCodec.encode(status, "c1", id.ed25519));
    expect(s.body).toEqual(status);
    expect(statusCodec.verify(s, "c1", id.ed25519.publicKey)).toBe(true);
    expect(statusCodec.verify(s, "c1", testIdentity("other").ed25519.publicKey)).toBe(false);
    expect(bytes.length + 3).toBeLessThanOrEqual(231);
  });

  it("keep a vote within 90 bytes on air", () => {
    const v = { height: 1_000_000, blockHash: new Uint8Array(32), validatorIndex: 63, signature: new Uint8Array(48) };
    const bytes = voteCodec.encode(v);
    expect(voteCodec.decode(bytes)).toEqual(v);
    expect(bytes.length + 3).toBeLessThanOrEqual(90);
  });

  it("round-trip the relay, sync and fragment-request messages", () => {
    const compactArb = fc.record({
      height: fc.integer({ min: 1, max: 2 ** 40 }), slot: fc.integer({ min: 0, max: 2 ** 40 }), timestampDelta: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      parentHash: bytesOf(32), proposerIndex: fc.integer({ min: 0, max: 255 }), randaoReveal: bytesOf(48),
      certificate: fc.option(fc.record({ signers: fc.uint8Array({ minLength: 1, maxLength: 32 }).filter((b) => b[b.length - 1] !== 0), signature: bytesOf(48) }), { nil: null }),
      signature: bytesOf(48), shortIdBytes: fc.constant(4), shortIds: fc.array(bytesOf(4), { maxLength: 40 }),
      notarization: fc.option(fc.record({ signers: fc.uint8Array({ minLength: 1, maxLength: 32 }).filter((b) => b[b.length - 1] !== 0), signature: bytesOf(48) }), { nil: null }),
    });
    fc.assert(fc.property(compactArb, (c) => {
      expect(compactBlockCodec.decode(compactBlockCodec.encode(c))).toEqual(c);
    }), { numRuns: 50 });
    const g = { slot: 77, blockRef: new Uint8Array(8).fill(4), indexes: [0, 3, 9] };
    expect(getTransactionsCodec.decode(getTransactionsCodec.encode(g))).toEqual(g);
    expect(() => getTransactionsCodec.encode({ ...g, indexes: [3, 3] })).toThrow(EncodeError);
    expect(blockRangeCodec.decode(blockRangeCodec.encode({ fromHeight: 300, count: 8 }))).toEqual({ fromHeight: 300, count: 8 });
    expect(() => blockRangeCodec.encode({ fromHeight: 1, count: 9 })).toThrow(EncodeError);
    expect(() => blockRangeCodec.decode(Uint8Array.of(1, 0))).toThrow(DecodeError);
    fc.assert(fc.property(bytesOf(8), fc.uniqueArray(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: MAX_REQUESTED_NONCES }), (sender, raw) => {
      const request = { sender, nonces: [...raw].sort((a, b) => a - b) };
      expect(senderTransactionsRequestCodec.decode(senderTransactionsRequestCodec.encode(request))).toEqual(request);
    }), { numRuns: 100 });
    const sender = new Uint8Array(8).fill(9);
    expect(() => senderTransactionsRequestCodec.encode({ sender, nonces: [] })).toThrow(EncodeError);
    expect(() => senderTransactionsRequestCodec.encode({ sender, nonces: [4, 2] })).toThrow(EncodeError);
    expect(() => senderTransactionsRequestCodec.encode({ sender, nonces: Array.from({ length: MAX_REQUESTED_NONCES + 1 }, (_, i) => i) })).toThrow(EncodeError);
    const ask = { kind: "get-nonces" as const, sender, nonces: [7, 9] };
    const onWire = encodeConsensusMessage(ask);
    expect(onWire.type).toBe(MessageType.GetSenderTransactions);
    expect(decodeConsensusMessage(onWire.type, onWire.payload)).toEqual(ask);
    // Two nonces, the second not above the first.
    expect(() => senderTransactionsRequestCodec.decode(Uint8Array.of(...sender, 2, 5, 5))).toThrow(DecodeError);
    const fr = { target: 0xabcdef01, messageId: 513, type: MessageType.Block, missing: [0, 7, 8, 200] };
    expect(fragmentRequestCodec.decode(fragmentRequestCodec.encode(fr))).toEqual(fr);
  });

  it("give only typed errors for random payloads", () => {
    const decoders = [helloCodec.decode, statusCodec.decode, voteCodec.decode, compactBlockCodec.decode, getTransactionsCodec.decode, senderTransactionsRequestCodec.decode, syncRequestCodec.decode, syncResponseCodec.decode, fragmentRequestCodec.decode];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      for (const decode of decoders) {
        try {
          decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }
    }), { numRuns: 3000 });
  });
});
