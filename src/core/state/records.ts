import { compareBytes } from "../bytes.js";
import { decodeExact, type Reader } from "../codec/reader.js";
import { U64_MAX, Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { BLS_PUBLIC_KEY_LENGTH } from "../crypto/bls.js";
import { ED25519_PUBLIC_KEY_LENGTH } from "../crypto/ed25519.js";
import { MAX_HEIGHT, MAX_SLOT } from "../block/limits.js";
import { HASH_LENGTH } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";
import { MAX_COMMISSION_BPS, MAX_NONCE } from "../tx/limits.js";
import { VoteChoice } from "../tx/types.js";

/** Records stored in state, each with one canonical encoding (docs/protocol.md §State). */

export interface Account {
  readonly balance: bigint;
  readonly nonce: number;
  readonly publicKey: Uint8Array | null;
}

export interface Delegation {
  readonly delegator: Uint8Array;
  readonly amount: bigint;
}

export interface Validator {
  readonly blsPublicKey: Uint8Array;
  readonly commissionBps: number;
  readonly selfBond: bigint;
  /** Sorted by delegator address. */
  readonly delegations: readonly Delegation[];
  /** 0 when not jailed; else the height from which the jailed validator may send its unjail transaction. */
  readonly jailedUntil: number;
  /** Height at which a leaving validator's record is removed; 0 while it serves. */
  readonly leavingAt: number;
  /** Highest offence slot already slashed; 0 when none. */
  readonly lastInfractionSlot: number;
  readonly registeredSlot: number;
  /** How reliably its votes reach the chain: an average over recent certificates, basis points. */
  readonly proximityBps: number;
}

export interface UnbondingEntry {
  readonly owner: Uint8Array;
  readonly validator: Uint8Array;
  readonly amount: bigint;
}

export interface ChainMeta {
  readonly height: number;
  readonly totalSupply: bigint;
  readonly nextProposalId: number;
  /** RANDAO mix: every block folds in the hash of its proposer's reveal. */
  readonly randaoMix: Uint8Array;
}

export interface ProposalVote {
  readonly validator: Uint8Array;
  readonly choice: VoteChoice;
}

export interface Proposal {
  readonly proposer: Uint8Array;
  readonly paramId: number;
  readonly value: bigint;
  readonly endHeight: number;
  /** Sorted by validator address. */
  readonly votes: readonly ProposalVote[];
}

export interface ActiveProposal {
  readonly id: number;
  readonly endHeight: number;
}

function bps(v: number): number {
  if (v > 10_000) throw new DecodeError("OUT_OF_RANGE", "basis points above 10000");
  return v;
}

function writeList<T>(w: Writer, items: readonly T[], write: (w: Writer, item: T) => void): void {
  w.varint(items.length);
  for (const item of items) write(w, item);
}

function readList<T>(r: Reader, max: number, read: (r: Reader) => T): T[] {
  const n = r.varint(max);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(r));
  return out;
}

function assertSortedUnique<T>(items: readonly T[], key: (t: T) => Uint8Array, what: string): void {
  for (let i = 1; i < items.length; i++) {
    if (compareBytes(key(items[i - 1] as T), key(items[i] as T)) >= 0) throw new DecodeError("INVALID_VALUE", `${what} not sorted and unique`);
  }
}

export const accountCodec = {
  encode(a: Account): Uint8Array {
    const w = new Writer().varbig(a.balance).varint(a.nonce);
    if (a.publicKey === null) w.u8(0);
    else w.u8(1).fixed(a.publicKey, ED25519_PUBLIC_KEY_LENGTH);
    return w.finish();
  },
  decode: (bytes: Uint8Array): Account =>
    decodeExact(bytes, (r) => ({ balance: r.varbig(), nonce: r.varint(MAX_NONCE + 1), publicKey: r.flag() ? r.fixed(ED25519_PUBLIC_KEY_LENGTH) : null })),
};

const MAX_DELEGATIONS = 1024;

export const validatorCodec = {
  encode(v: Validator): Uint8Array {
    const w = new Writer().fixed(v.blsPublicKey, BLS_PUBLIC_KEY_LENGTH).u16(v.commissionBps).varbig(v.selfBond);
    writeList(w, v.delegations, (w, d) => w.fixed(d.delegator, ADDRESS_LENGTH).varbig(d.amount));
    return w.varint(v.jailedUntil).varint(v.leavingAt).varint(v.lastInfractionSlot).varint(v.registeredSlot).u16(v.proximityBps).finish();
  },
  decode: (bytes: Uint8Array): Validator =>
    decodeExact(bytes, (r) => {
      const blsPublicKey = r.fixed(BLS_PUBLIC_KEY_LENGTH);
      const commissionBps = r.u16();
      if (commissionBps > MAX_COMMISSION_BPS) throw new DecodeError("OUT_OF_RANGE", "commission above 100%");
      const selfBond = r.varbig(U64_MAX);
      const delegations = readList(r, MAX_DELEGATIONS, (r) => ({ delegator: r.fixed(ADDRESS_LENGTH), amount: r.varbig() }));
      assertSortedUnique(delegations, (d) => d.delegator, "delegations");
      return {
        blsPublicKey, commissionBps, selfBond, delegations,
        jailedUntil: r.varint(MAX_HEIGHT), leavingAt: r.varint(MAX_HEIGHT), lastInfractionSlot: r.varint(MAX_SLOT), registeredSlot: r.varint(MAX_SLOT),
        proximityBps: bps(r.u16()),
      };
    }),
};

export const addressListCodec = {
  encode(list: readonly Uint8Array[]): Uint8Array {
    const w = new Writer();
    writeList(w, list, (w, a) => w.fixed(a, ADDRESS_LENGTH));
    return w.finish();
  },
  decode: (bytes: Uint8Array): Uint8Array[] =>
    decodeExact(bytes, (r) => {
      const list = readList(r, 4096, (r) => r.fixed(ADDRESS_LENGTH));
      assertSortedUnique(list, (a) => a, "address list");
      return list;
    }),
};

export const unbondingCodec = {
  encode(entries: readonly UnbondingEntry[]): Uint8Array {
    const w = new Writer();
    writeList(w, entries, (w, e) => w.fixed(e.owner, ADDRESS_LENGTH).fixed(e.validator, ADDRESS_LENGTH).varbig(e.amount));
    return w.finish();
  },
  decode: (bytes: Uint8Array): UnbondingEntry[] =>
    decodeExact(bytes, (r) => readList(r, 1 << 16, (r) => ({ owner: r.fixed(ADDRESS_LENGTH), validator: r.fixed(ADDRESS_LENGTH), amount: r.varbig() }))),
};

export const metaCodec = {
  encode: (m: ChainMeta): Uint8Array => new Writer().varint(m.height).varbig(m.totalSupply).varint(m.nextProposalId).fixed(m.randaoMix, HASH_LENGTH).finish(),
  decode: (bytes: Uint8Array): ChainMeta =>
    decodeExact(bytes, (r) => ({ height: r.varint(MAX_HEIGHT), totalSupply: r.varbig(), nextProposalId: r.varint(0xffffffff + 1), randaoMix: r.fixed(HASH_LENGTH) })),
};

export const proposalCodec = {
  encode(p: Proposal): Uint8Array {
    const w = new Writer().fixed(p.proposer, ADDRESS_LENGTH).u8(p.paramId).varbig(p.value).varint(p.endHeight);
    writeList(w, p.votes, (w, v) => w.fixed(v.validator, ADDRESS_LENGTH).u8(v.choice));
    return w.finish();
  },
  decode: (bytes: Uint8Array): Proposal =>
    decodeExact(bytes, (r) => {
      const proposer = r.fixed(ADDRESS_LENGTH);
      const paramId = r.u8();
      const value = r.varbig();
      const endHeight = r.varint(MAX_HEIGHT);
      const votes = readList(r, 256, (r) => {
        const validator = r.fixed(ADDRESS_LENGTH);
        const choice = r.u8();
        if (choice < VoteChoice.Yes || choice > VoteChoice.Abstain) throw new DecodeError("INVALID_VALUE", "bad vote choice");
        return { validator, choice: choice as VoteChoice };
      });
      assertSortedUnique(votes, (v) => v.validator, "votes");
      return { proposer, paramId, value, endHeight, votes };
    }),
};

export const activeProposalsCodec = {
  encode(list: readonly ActiveProposal[]): Uint8Array {
    const w = new Writer();
    writeList(w, list, (w, p) => w.varint(p.id).varint(p.endHeight));
    return w.finish();
  },
  decode: (bytes: Uint8Array): ActiveProposal[] => decodeExact(bytes, (r) => readList(r, 64, (r) => ({ id: r.varint(), endHeight: r.varint(MAX_HEIGHT) }))),
};

/** Total stake behind a validator: its own bond plus everything delegated to it. */
export function validatorStake(v: Validator): bigint {
  let total = v.selfBond;
  for (const d of v.delegations) total += d.amount;
  return total;
}

/** Serving: not leaving, and not jailed (a jailed validator stays out until its unjail transaction). */
export function isActiveValidator(v: Validator): boolean {
  return v.leavingAt === 0 && v.jailedUntil === 0;
}
