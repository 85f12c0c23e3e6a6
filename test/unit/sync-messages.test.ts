import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError, EncodeError } from "../../src/core/errors.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "../../src/mesh/messages/sync.js";
import { bytesOf, headerArb } from "../fixtures/arbitraries.js";

const node = fc.integer({ min: 0, max: 0xffff_ffff });
const height = fc.integer({ min: 0, max: 2 ** 40 });
const certificate = headerArb.map((h) => h.certificate);

describe("sync messages", () => {
  it("round-trip requests and responses, with and without notarizations", () => {
    fc.assert(fc.property(fc.record({ target: node, fromHeight: height, maxBlocks: fc.integer({ min: 1, max: 64 }) }), (r) => {
      expect(syncRequestCodec.decode(syncRequestCodec.encode(r))).toEqual(r);
    }));
    const block = fc.record({ bytes: fc.uint8Array({ minLength: 1, maxLength: 400 }), notarization: certificate });
    fc.assert(fc.property(fc.record({ requester: node, fromHeight: height, finalizedHeight: height, oldestBody: height, blocks: fc.array(block, { maxLength: 8 }) }), (r) => {
      expect(syncResponseCodec.decode(syncResponseCodec.encode(r))).toEqual(r);
    }), { numRuns: 50 });
  });

  it("round-trip snapshot requests and chunks", () => {
    fc.assert(fc.property(fc.record({ target: node, blockHash: bytesOf(32), index: fc.integer({ min: 0, max: 1000 }) }), (r) => {
      expect(snapshotRequestCodec.decode(snapshotRequestCodec.encode(r))).toEqual(r);
    }));
    fc.assert(fc.property(fc.record({ requester: node, blockHash: bytesOf(32), index: fc.integer({ min: 0, max: 9 }), count: fc.integer({ min: 10, max: 20 }), data: fc.uint8Array({ maxLength: 300 }) }), (c) => {
      expect(snapshotChunkCodec.decode(snapshotChunkCodec.encode(c))).toEqual(c);
    }), { numRuns: 50 });
  });

  it("refuses out-of-range counts and trailing bytes with typed errors", () => {
    expect(() => syncRequestCodec.encode({ target: 1, fromHeight: 0, maxBlocks: 65 })).toThrow(EncodeError);
    expect(() => syncRequestCodec.decode(Uint8Array.of(0, 0, 0, 1, 5, 0))).toThrow(DecodeError);
    const ok = syncRequestCodec.encode({ target: 1, fromHeight: 5, maxBlocks: 8 });
    expect(() => syncRequestCodec.decode(Uint8Array.of(...ok, 0))).toThrow(DecodeError);
    expect(() => snapshotChunkCodec.encode({ requester: 1, blockHash: new Uint8Array(32), index: 3, count: 3, data: new Uint8Array() })).toThrow(EncodeError);
    const chunk = snapshotChunkCodec.encode({ requester: 1, blockHash: new Uint8Array(32), index: 2, count: 3, data: new Uint8Array() });
    chunk[chunk.length - 3] = 3;
    expect(() => snapshotChunkCodec.decode(chunk)).toThrow(DecodeError);
  });
});
