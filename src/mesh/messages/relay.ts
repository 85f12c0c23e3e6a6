import { decodeExact, type Reader } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { assertCanonicalBitmap, MAX_SIGNER_BITMAP_BYTES } from "../../core/block/certificate.js";
import { MAX_NONCE, MAX_TX_BYTES } from "../../core/tx/limits.js";
import { ADDRESS_LENGTH } from "../../core/crypto/address.js";
import { MAX_BLOCK_TXS, MAX_HEIGHT, MAX_SLOT } from "../../core/block/limits.js";
import { BLS_SIGNATURE_LENGTH } from "../../core/crypto/bls.js";
import { HASH_LENGTH, sha256 } from "../../core/crypto/hash.js";
import { DecodeError, EncodeError } from "../../core/errors.js";

/**
 * Short transaction ids are 2-4 bytes, a chain parameter (shortIdBytes, genesis-only): 4 on every
 * chain launched before it, 3 on a chain made for a modem preset (13 ids in a LongFast frame instead
 * of 9; docs/decisions.md, "Short-id length"). The compact form says its length, so a frame of the
 * wrong length is refused by name (CompactBlockError) rather than read as other ids.
 */
export const MIN_SHORT_ID_BYTES = 2;
export const MAX_SHORT_ID_BYTES = 4;
/** A block is named in transaction requests by its slot and the first bytes of its proposer's signature. */
export const BLOCK_REF_BYTES = 8;

/**
 * A block announced without what receivers can compute: no transaction or state root (rebuilt and
 * re-executed), the certificate without the parent's height and hash (implied), the timestamp as
 * seconds after the parent's, and transactions as short ids to be found in the receiver's mempool.
 */
export interface CompactBlock {
  readonly height: number;
  readonly slot: number;
  readonly timestampDelta: number;
  readonly parentHash: Uint8Array;
  /** The proposer's index in the parent's validator set. */
  readonly proposerIndex: number;
  readonly randaoReveal: Uint8Array;
  readonly certificate: { readonly signers: Uint8Array; readonly signature: Uint8Array } | null;
  readonly signature: Uint8Array;
  /** Length of every short id (the chain's shortIdBytes). */
  readonly shortIdBytes: number;
  readonly shortIds: readonly Uint8Array[];
  /** The block's own notarization (signers and aggregate), when it is sent as an answer rather than a proposal. */
  readonly notarization: { readonly signers: Uint8Array; readonly signature: Uint8Array } | null;
}

/**
 * Short ids are salted per block position (parent and slot), so a collision cannot be prepared
 * before the parent exists; a collision only costs another try or a fetch (compact-blocks.ts), never
 * a wrong block: the proposer's signature is checked over the rebuilt header.
 */
export function shortIdSalt(parentHash: Uint8Array, slot: number): Uint8Array {
  const s = new Uint8Array(4);
  new DataView(s.buffer).setUint32(0, slot);
  return sha256(parentHash, s);
}

export function shortTxId(salt: Uint8Array, txHash: Uint8Array, length: number): Uint8Array {
  return sha256(salt, txHash).slice(0, length);
}

const MAX_TIMESTAMP_DELTA = 0xffff_ffff;

type CompactCertificate = { readonly signers: Uint8Array; readonly signature: Uint8Array } | null;

/** A certificate whose height and block hash the reader can infer: signer bitmap, aggregate signature (nothing when absent). */
function writeAggregate(w: Writer, a: CompactCertificate): void {
  if (a !== null) w.bytes(a.signers, MAX_SIGNER_BITMAP_BYTES).fixed(a.signature, BLS_SIGNATURE_LENGTH);
}

/** The same after a presence flag. */
function writeCompactCertificate(w: Writer, a: CompactCertificate): void {
  w.u8(a === null ? 0 : 1);
  writeAggregate(w, a);
}

function readCompactCertificate(r: Reader, present: boolean): CompactCertificate {
  if (!present) return null;
  const signers = r.bytes(MAX_SIGNER_BITMAP_BYTES);
  assertCanonicalBitmap(signers);
  return { signers, signature: r.fixed(BLS_SIGNATURE_LENGTH) };
}

/**
 * The byte after the randao reveal: bit 0 says a parent certificate follows, bits 1-2 hold
 * 4 - shortIdBytes. A 4-byte compact keeps the 0/1 presence flag it always had and its trailing
 * notarization flag, byte for byte. Shorter ids (chains made since) move that trailing flag into
 * bit 3: the byte it saves is the 13th transaction of a LongFast frame (preset-params.ts).
 */
const CERTIFICATE_FLAG = 1;
const LENGTH_SHIFT = 1;
const NOTARIZATION_FLAG = 8;
const FLAGS_MAX = NOTARIZATION_FLAG | ((MAX_SHORT_ID_BYTES - MIN_SHORT_ID_BYTES) << LENGTH_SHIFT) | CERTIFICATE_FLAG;

export const compactBlockCodec = {
  encode(c: CompactBlock): Uint8Array {
    if (!Number.isInteger(c.shortIdBytes) || c.shortIdBytes < MIN_SHORT_ID_BYTES || c.shortIdBytes > MAX_SHORT_ID_BYTES) {
      throw new EncodeError("OUT_OF_RANGE", `short ids are ${MIN_SHORT_ID_BYTES}-${MAX_SHORT_ID_BYTES} bytes, not ${c.shortIdBytes}`);
    }
    const legacy = c.shortIdBytes === MAX_SHORT_ID_BYTES;
    const w = new Writer()
      .varint(c.height)
      .varint(c.slot)
      .varint(c.timestampDelta)
      .fixed(c.parentHash, HASH_LENGTH)
      .u8(c.proposerIndex)
      .fixed(c.randaoReveal, BLS_SIGNATURE_LENGTH)
      .u8(((MAX_SHORT_ID_BYTES - c.shortIdBytes) << LENGTH_SHIFT) | (c.certificate === null ? 0 : CERTIFICATE_FLAG) | (legacy || c.notarization === null ? 0 : NOTARIZATION_FLAG));
    writeAggregate(w, c.certificate);
    w.fixed(c.signature, BLS_SIGNATURE_LENGTH).varint(c.shortIds.length);
    for (const id of c.shortIds) w.fixed(id, c.shortIdBytes);
    if (legacy) writeCompactCertificate(w, c.notarization);
    else writeAggregate(w, c.notarization);
    return w.finish();
  },
  decode: (bytes: Uint8Array): CompactBlock =>
    decodeExact(bytes, (r) => {
      const height = r.varint(MAX_HEIGHT);
      if (height === 0) throw new DecodeError("INVALID_VALUE", "a compact block cannot be the genesis");
      const slot = r.varint(MAX_SLOT);
      const timestampDelta = r.varint(MAX_TIMESTAMP_DELTA);
      const parentHash = r.fixed(HASH_LENGTH);
      const proposerIndex = r.u8();
      const randaoReveal = r.fixed(BLS_SIGNATURE_LENGTH);
      const flags = r.u8();
      const shortIdBytes = MAX_SHORT_ID_BYTES - ((flags & ~NOTARIZATION_FLAG) >> LENGTH_SHIFT);
      const legacy = shortIdBytes === MAX_SHORT_ID_BYTES;
      if (flags > FLAGS_MAX || shortIdBytes < MIN_SHORT_ID_BYTES || (legacy && (flags & NOTARIZATION_FLAG) !== 0)) {
        throw new DecodeError("INVALID_VALUE", `compact block flags ${flags}: short ids are ${MIN_SHORT_ID_BYTES}-${MAX_SHORT_ID_BYTES} bytes`);
      }
      const certificate = readCompactCertificate(r, (flags & CERTIFICATE_FLAG) !== 0);
      const signature = r.fixed(BLS_SIGNATURE_LENGTH);
      const n = r.varint(MAX_BLOCK_TXS);
      const shortIds = Array.from({ length: n }, () => r.fixed(shortIdBytes));
      const notarization = readCompactCertificate(r, legacy ? r.flag() : (flags & NOTARIZATION_FLAG) !== 0);
      return { height, slot, timestampDelta, parentHash, proposerIndex, randaoReveal, certificate, signature, shortIdBytes, shortIds, notarization };
    }),
};

/** Ask for the transactions at these positions of a block (those a compact block could not fill). */
export interface GetTransactions {
  readonly slot: number;
  readonly blockRef: Uint8Array;
  readonly indexes: readonly number[];
}

/** Strictly increasing varints (positions, nonces), each at most `max`. */
function writeIncreasing(w: Writer, values: readonly number[], max: number, what: string): Writer {
  let previous = -1;
  for (const v of values) {
    if (!Number.isInteger(v) || v <= previous || v > max) throw new EncodeError("OUT_OF_RANGE", `${what} must be strictly increasing integers up to ${max}`);
    w.varint(v);
    previous = v;
  }
  return w;
}

function readIncreasing(r: Reader, count: number, max: number, what: string): number[] {
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = r.varint(max);
    if (values.length > 0 && v <= (values[values.length - 1] as number)) throw new DecodeError("INVALID_VALUE", `${what} must be strictly increasing`);
    values.push(v);
  }
  return values;
}

export const getTransactionsCodec = {
  encode: (g: GetTransactions): Uint8Array =>
    writeIncreasing(new Writer().varint(g.slot).fixed(g.blockRef, BLOCK_REF_BYTES).varint(g.indexes.length), g.indexes, MAX_BLOCK_TXS - 1, "indexes").finish(),
  decode: (bytes: Uint8Array): GetTransactions =>
    decodeExact(bytes, (r: Reader) => {
      const slot = r.varint(MAX_SLOT);
      const blockRef = r.fixed(BLOCK_REF_BYTES);
      const indexes = readIncreasing(r, r.varint(MAX_BLOCK_TXS), MAX_BLOCK_TXS - 1, "indexes");
      return { slot, blockRef, indexes };
    }),
};

/** The answer to GetTransactions: the transactions, whole, for the block it named. */
export interface BlockTransactions {
  readonly slot: number;
  readonly blockRef: Uint8Array;
  readonly txs: readonly Uint8Array[];
}

export const blockTransactionsCodec = {
  encode(b: BlockTransactions): Uint8Array {
    const w = new Writer().varint(b.slot).fixed(b.blockRef, BLOCK_REF_BYTES).varint(b.txs.length);
    for (const t of b.txs) w.bytes(t, MAX_TX_BYTES);
    return w.finish();
  },
  decode: (bytes: Uint8Array): BlockTransactions =>
    decodeExact(bytes, (r) => {
      const slot = r.varint(MAX_SLOT);
      const blockRef = r.fixed(BLOCK_REF_BYTES);
      const n = r.varint(MAX_BLOCK_TXS);
      return { slot, blockRef, txs: Array.from({ length: n }, () => r.bytes(MAX_TX_BYTES)) };
    }),
};

/** A validator's vote on air: 84 bytes (+3 frame header), with the validator named by its index. */
export interface VoteMessage {
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
}

export const voteCodec = {
  encode: (v: VoteMessage): Uint8Array =>
    new Writer().varint(v.height).fixed(v.blockHash, HASH_LENGTH).u8(v.validatorIndex).fixed(v.signature, BLS_SIGNATURE_LENGTH).finish(),
  decode: (bytes: Uint8Array): VoteMessage =>
    decodeExact(bytes, (r) => ({ height: r.varint(MAX_HEIGHT), blockHash: r.fixed(HASH_LENGTH), validatorIndex: r.u8(), signature: r.fixed(BLS_SIGNATURE_LENGTH) })),
};

/**
 * Several validators' votes for one block in one frame (issue 20): the block by height and the first
 * 8 bytes of its hash (receivers hold the block, or hold the votes until it comes: the signature is
 * over the whole hash, so a prefix shared by two blocks cannot make a vote count for the wrong one),
 * the signer bitmap (canonical, as in a certificate) and the BLS aggregate of their votes. 61 bytes
 * for up to eight signers, against 84 for one vote. It need not be a quorum.
 */
export const VOTE_BLOCK_REF_BYTES = 8;

export interface VoteAggregateMessage {
  readonly height: number;
  readonly blockRef: Uint8Array;
  readonly signers: Uint8Array;
  readonly signature: Uint8Array;
}

export const voteAggregateCodec = {
  encode(v: VoteAggregateMessage): Uint8Array {
    assertCanonicalBitmap(v.signers);
    return new Writer().varint(v.height).fixed(v.blockRef, VOTE_BLOCK_REF_BYTES).bytes(v.signers, MAX_SIGNER_BITMAP_BYTES).fixed(v.signature, BLS_SIGNATURE_LENGTH).finish();
  },
  decode: (bytes: Uint8Array): VoteAggregateMessage =>
    decodeExact(bytes, (r) => {
      const height = r.varint(MAX_HEIGHT);
      const blockRef = r.fixed(VOTE_BLOCK_REF_BYTES);
      const signers = r.bytes(MAX_SIGNER_BITMAP_BYTES);
      assertCanonicalBitmap(signers);
      return { height, blockRef, signers, signature: r.fixed(BLS_SIGNATURE_LENGTH) };
    }),
};

/** Radio catch-up asks for this many blocks at most: each answer is one compact frame. */
export const MAX_RANGE_BLOCKS = 8;

export interface BlockRange {
  readonly fromHeight: number;
  readonly count: number;
}

export const blockRangeCodec = {
  encode(r: BlockRange): Uint8Array {
    if (!Number.isInteger(r.count) || r.count < 1 || r.count > MAX_RANGE_BLOCKS) throw new EncodeError("OUT_OF_RANGE", `count must be 1-${MAX_RANGE_BLOCKS}`);
    return new Writer().varint(r.fromHeight).u8(r.count).finish();
  },
  decode: (bytes: Uint8Array): BlockRange =>
    decodeExact(bytes, (r) => {
      const fromHeight = r.varint(MAX_HEIGHT);
      const count = r.u8();
      if (count < 1 || count > MAX_RANGE_BLOCKS) throw new DecodeError("OUT_OF_RANGE", `count must be 1-${MAX_RANGE_BLOCKS}`);
      return { fromHeight, count };
    }),
};

/** A gap request names at most this many nonces of one sender: the answers fit a few frames. */
export const MAX_REQUESTED_NONCES = 8;

/** Transactions a pool waits on: the sender's later nonces arrived, these did not. */
export interface SenderTransactionsRequest {
  readonly sender: Uint8Array;
  /** Strictly increasing. */
  readonly nonces: readonly number[];
}

export const senderTransactionsRequestCodec = {
  encode(g: SenderTransactionsRequest): Uint8Array {
    if (g.nonces.length < 1 || g.nonces.length > MAX_REQUESTED_NONCES) throw new EncodeError("OUT_OF_RANGE", `1-${MAX_REQUESTED_NONCES} nonces`);
    return writeIncreasing(new Writer().fixed(g.sender, ADDRESS_LENGTH).u8(g.nonces.length), g.nonces, MAX_NONCE, "nonces").finish();
  },
  decode: (bytes: Uint8Array): SenderTransactionsRequest =>
    decodeExact(bytes, (r: Reader) => {
      const sender = r.fixed(ADDRESS_LENGTH);
      const n = r.u8();
      if (n < 1 || n > MAX_REQUESTED_NONCES) throw new DecodeError("OUT_OF_RANGE", `1-${MAX_REQUESTED_NONCES} nonces`);
      return { sender, nonces: readIncreasing(r, n, MAX_NONCE, "nonces") };
    }),
};
