import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { Writer } from "../../src/core/codec/writer.js";
import { DecodeError, EncodeError } from "../../src/core/errors.js";
import { parseGenesis } from "../../src/core/genesis.js";
import { TxError } from "../../src/core/state/errors.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { decodeParams, defaultParams, encodeParams, laterParamDefaults, paramSpecByName } from "../../src/core/state/params.js";
import { applyTx } from "../../src/core/state/transaction.js";
import { TxKind } from "../../src/core/tx/types.js";
import { assertShortIdLength, CompactBlockError } from "../../src/consensus/compact-blocks.js";
import { MAX_PENDING } from "../../src/consensus/engine/context.js";
import { HELD_TXS_AT_MOST, presetParams, shortIdCollisionChance } from "../../src/consensus/preset-params.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { type CompactBlock, compactBlockCodec } from "../../src/mesh/messages/relay.js";
import { MESHTASTIC_MTU } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { DEFAULT_MEMPOOL_OPTIONS } from "../../src/node/mempool.js";
import { bytesOf } from "../fixtures/arbitraries.js";
import { CHAIN_ID, GENESIS_TIME, genesisStore, testChain, testIdentity, tx } from "../fixtures/chain.js";

const aggregate = fc.option(fc.record({ signers: fc.uint8Array({ minLength: 1, maxLength: 32 }).filter((b) => b[b.length - 1] !== 0), signature: bytesOf(48) }), { nil: null });

const compactOf = (length: number): fc.Arbitrary<CompactBlock> =>
  fc.record({
    height: fc.integer({ min: 1, max: 2 ** 40 }), slot: fc.integer({ min: 0, max: 2 ** 40 }), timestampDelta: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    parentHash: bytesOf(32), proposerIndex: fc.integer({ min: 0, max: 255 }), randaoReveal: bytesOf(48), certificate: aggregate,
    signature: bytesOf(48), shortIdBytes: fc.constant(length), shortIds: fc.array(bytesOf(length), { maxLength: 40 }), notarization: aggregate,
  });

/** The compact encoding as every build before shortIdBytes wrote it (4-byte ids, two presence flags). */
function legacyEncoding(c: CompactBlock): Uint8Array {
  const w = new Writer().varint(c.height).varint(c.slot).varint(c.timestampDelta).fixed(c.parentHash, 32).u8(c.proposerIndex).fixed(c.randaoReveal, 48);
  const cert = (a: CompactBlock["certificate"]) => (a === null ? w.u8(0) : w.u8(1).bytes(a.signers, 32).fixed(a.signature, 48));
  cert(c.certificate);
  w.fixed(c.signature, 48).varint(c.shortIds.length);
  for (const id of c.shortIds) w.fixed(id, 4);
  cert(c.notarization);
  return w.finish();
}

const sample = (length: number, ids: number, notarized: boolean): CompactBlock => ({
  height: 5, slot: 9, timestampDelta: 200, parentHash: new Uint8Array(32).fill(1), proposerIndex: 2, randaoReveal: new Uint8Array(48).fill(2), certificate: null,
  signature: new Uint8Array(48).fill(3), shortIdBytes: length, shortIds: Array.from({ length: ids }, (_, i) => new Uint8Array(length).fill(i)),
  notarization: notarized ? { signers: Uint8Array.of(0x7f), signature: new Uint8Array(48).fill(4) } : null,
});

/** Offset of the flags byte: varints 5, 9, 200 (1 + 1 + 2), the parent hash, the proposer index, the reveal. */
const FLAGS_AT = 4 + 32 + 1 + 48;

describe("compact blocks at each short-id length", () => {
  it("round-trip at 2, 3 and 4 bytes, each id costing its length", () => {
    for (const length of [2, 3, 4]) {
      fc.assert(fc.property(compactOf(length), (c) => {
        const bytes = compactBlockCodec.encode(c);
        expect(compactBlockCodec.decode(bytes)).toEqual(c);
        const empty = compactBlockCodec.encode({ ...c, shortIds: [] });
        const countBytes = (n: number) => (n < 128 ? 1 : 2);
        expect(bytes.length - empty.length).toBe(c.shortIds.length * length + countBytes(c.shortIds.length) - 1);
      }), { numRuns: 60 });
    }
  });

  it("writes 4-byte compacts byte for byte as before the parameter", () => {
    fc.assert(fc.property(compactOf(4), (c) => {
      expect(compactBlockCodec.encode(c)).toEqual(legacyEncoding(c));
    }), { numRuns: 60 });
  });

  it("saves the notarization flag byte at 3 bytes: 13 ids in a frame where 4-byte ids fit 9", () => {
    const frame = (c: CompactBlock) => encodeFrame({ type: MessageType.CompactBlock, messageId: 0xffff, fragment: null, payload: compactBlockCodec.encode(c) }).length;
    expect(compactBlockCodec.encode(sample(3, 4, true)).length).toBe(compactBlockCodec.encode(sample(4, 4, true)).length - 4 - 1);
    expect(compactBlockCodec.encode(sample(3, 4, false)).length).toBe(compactBlockCodec.encode(sample(4, 4, false)).length - 4 - 1);
    expect(frame(sample(3, 13, true))).toBeLessThanOrEqual(MESHTASTIC_MTU);
    expect(frame(sample(4, 10, true))).toBeGreaterThan(frame(sample(3, 13, true)));
  });

  it("refuses flags it does not know, and a notarization bit on a 4-byte compact (two spellings of one block)", () => {
    const bytes = compactBlockCodec.encode(sample(3, 2, false));
    for (const flags of [0x10, 0x80, 0x06, 0x07, 0x08, 0x09]) {
      const bad = bytes.slice();
      bad[FLAGS_AT] = flags;
      expect(() => compactBlockCodec.decode(bad)).toThrow(DecodeError);
    }
  });

  it("refuses to encode ids of another length than it says, or a length out of 2-4", () => {
    expect(() => compactBlockCodec.encode({ ...sample(3, 2, false), shortIdBytes: 4 })).toThrow(EncodeError);
    for (const length of [0, 1, 5, 2.5]) expect(() => compactBlockCodec.encode({ ...sample(3, 0, false), shortIdBytes: length })).toThrow(EncodeError);
  });

  it("names a compact of another length than the chain's with a typed error", () => {
    expect(() => assertShortIdLength(sample(3, 1, false), 3)).not.toThrow();
    const attempt = () => assertShortIdLength(sample(4, 1, false), 3);
    expect(attempt).toThrow(CompactBlockError);
    expect(attempt).toThrow(expect.objectContaining({ code: "SHORT_ID_LENGTH" }));
  });
});

describe("the shortIdBytes parameter", () => {
  it("is genesis-only and 4 by default and for every chain from before it, whose encoding it leaves as it was", () => {
    const spec = paramSpecByName("shortIdBytes")!;
    expect(spec.genesisOnly).toBe(true);
    expect([spec.min, spec.max, spec.absentValue, defaultParams().shortIdBytes]).toEqual([2n, 4n, 4n, 4n]);
    expect(laterParamDefaults()).not.toHaveProperty("shortIdBytes");
    const before = encodeParams(defaultParams());
    expect(decodeParams(before).shortIdBytes).toBe(4n);
    const three = encodeParams({ ...defaultParams(), shortIdBytes: 3n });
    expect(decodeParams(three).shortIdBytes).toBe(3n);
    // The entries before it (finalityRule at its absent 0) are spelled out: one encoding per value set still.
    expect(decodeParams(three).finalityRule).toBe(0n);
  });

  it("gives a genesis without it 4 bytes, leaving its document as it was; a preset's genesis gets 3", () => {
    const validator = testIdentity("validator-0");
    const doc = buildGenesisDocument({ chainId: CHAIN_ID, genesisTime: GENESIS_TIME, validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 1_000 }], accounts: [] });
    expect(doc.params as Record<string, string>).not.toHaveProperty("shortIdBytes");
    expect(parseGenesis(doc).params.shortIdBytes).toBe(4n);
    const preset = presetParams("LONG_FAST", 7).params;
    const withPreset = buildGenesisDocument({ chainId: CHAIN_ID, genesisTime: GENESIS_TIME, validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 1_000 }], accounts: [], params: { ...preset } });
    expect(parseGenesis(withPreset).params.shortIdBytes).toBe(3n);
  });

  it("cannot be changed by a governance proposal", () => {
    const chain = testChain({ validators: 1 });
    const { store, parent } = genesisStore(chain.genesis);
    const l = new Ledger(store);
    const attempt = () => applyTx(l, tx(chain.validators[0]!, 0, { kind: TxKind.GovProposal, paramId: paramSpecByName("shortIdBytes")!.id, value: 2n, votingWindow: 100 }), { chainId: CHAIN_ID, height: parent.height + 1, slot: parent.slot + 1, params: l.params() });
    expect(attempt).toThrow(TxError);
    expect(attempt).toThrow(expect.objectContaining({ code: "PARAM_GENESIS_ONLY" }));
  });
});

describe("short-id capacity and collisions", () => {
  it("puts 13 transactions in LongFast's frame for 7 validators", () => {
    const r = presetParams("LONG_FAST", 7);
    expect(r.params.shortIdBytes).toBe(3n);
    expect(r.params.maxBlockTxs).toBe(13n);
    expect(r.compactBlockFrameBytes).toBeLessThanOrEqual(MESHTASTIC_MTU);
  });

  it("counts as held what a rebuild matches against: the pool, its nonce window and the transactions heard", () => {
    expect(HELD_TXS_AT_MOST).toBe(DEFAULT_MEMPOOL_OPTIONS.maxCount + DEFAULT_MEMPOOL_OPTIONS.maxQueued + MAX_PENDING);
  });

  it("gives about ids × held / 2^(8 × bytes) a block", () => {
    expect(shortIdCollisionChance(13, HELD_TXS_AT_MOST, 3)).toBeCloseTo(0.00214, 4);
    expect(shortIdCollisionChance(13, 30, 3)).toBeCloseTo(2.3e-5, 6);
    expect(shortIdCollisionChance(20, HELD_TXS_AT_MOST, 2)).toBeGreaterThan(0.5);
    expect(shortIdCollisionChance(9, HELD_TXS_AT_MOST, 4)).toBeLessThan(1e-5);
  });
});
