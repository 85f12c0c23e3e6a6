import { decodeExact, Reader } from "../codec/reader.js";
import { U64_MAX, Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH } from "../crypto/bls.js";
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from "../crypto/ed25519.js";
import { sha256 } from "../crypto/hash.js";
import { MAX_HEIGHT } from "../block/limits.js";
import { DecodeError, EncodeError } from "../errors.js";
import { readEvidence, writeEvidence } from "./evidence.js";
import { MAX_COMMISSION_BPS, MAX_MESSAGE_PAYLOAD_BYTES, MAX_NONCE, MAX_VOTING_WINDOW, maxEncodedSize, MIN_VOTING_WINDOW } from "./limits.js";
import { FederationAction, MessagePriority, type SignedTx, type TxBody, TxKind, type UnsignedTx, VoteChoice } from "./types.js";

/*
 * Layout (docs/protocol.md §Transactions):
 *   kind+flags u8 | sender 8 | nonce varint | fee varint | [expiry varint] | [public key 32] | body | signature 64
 * The low five bits of the first byte are the kind; bit 5 marks an expiry, bit 6 a public-key reveal,
 * bit 7 is reserved and must be zero. Absent optional fields therefore cost no bytes on air.
 */
const KIND_MASK = 0x1f;
const FLAG_EXPIRY = 0x20;
const FLAG_PUBLIC_KEY = 0x40;
const FLAG_RESERVED = 0x80;
const MAX_GOV_PROPOSAL_ID = 0xffffffff;

function positiveAmount(r: Reader): bigint {
  const v = r.varbig(U64_MAX);
  if (v === 0n) throw new DecodeError("OUT_OF_RANGE", "amount must be positive");
  return v;
}

function writePositive(w: Writer, v: bigint): void {
  if (v <= 0n) throw new EncodeError("OUT_OF_RANGE", "amount must be positive");
  w.varbig(v);
}

function writeBody(w: Writer, body: TxBody): void {
  switch (body.kind) {
    case TxKind.Transfer:
      w.fixed(body.to, ADDRESS_LENGTH);
      writePositive(w, body.amount);
      return;
    case TxKind.Message:
      if (body.payload.length === 0) throw new EncodeError("OUT_OF_RANGE", "message payload is empty");
      w.fixed(body.to, ADDRESS_LENGTH).u8(body.priority).bytes(body.payload, MAX_MESSAGE_PAYLOAD_BYTES);
      return;
    case TxKind.ValidatorRegister:
      if (body.commissionBps > MAX_COMMISSION_BPS) throw new EncodeError("OUT_OF_RANGE", "commission above 100%");
      w.u16(body.commissionBps);
      // 0 on a poa chain, where members stake nothing; a dpop chain's minSelfBond refuses it.
      w.varbig(body.selfBond);
      w.fixed(body.blsPublicKey, BLS_PUBLIC_KEY_LENGTH).fixed(body.proofOfPossession, BLS_SIGNATURE_LENGTH);
      return;
    case TxKind.ValidatorLeave:
    case TxKind.Unjail:
      return;
    case TxKind.Bond:
    case TxKind.Unbond:
      writePositive(w, body.amount);
      return;
    case TxKind.Delegate:
    case TxKind.Undelegate:
      w.fixed(body.validator, ADDRESS_LENGTH);
      writePositive(w, body.amount);
      return;
    case TxKind.GovProposal:
      if (body.votingWindow < MIN_VOTING_WINDOW || body.votingWindow > MAX_VOTING_WINDOW) throw new EncodeError("OUT_OF_RANGE", `voting window must lie in [${MIN_VOTING_WINDOW}, ${MAX_VOTING_WINDOW}] blocks`);
      w.u8(body.paramId).varbig(body.value).varint(body.votingWindow);
      return;
    case TxKind.GovVote:
      w.varint(body.proposalId).u8(body.choice);
      return;
    case TxKind.Evidence:
      writeEvidence(w, body.evidence);
      return;
    case TxKind.FederationProposal:
      w.u8(body.action).fixed(body.validator, ADDRESS_LENGTH);
      return;
  }
}

function readBody(r: Reader, kind: number): TxBody {
  switch (kind) {
    case TxKind.Transfer:
      return { kind, to: r.fixed(ADDRESS_LENGTH), amount: positiveAmount(r) };
    case TxKind.Message: {
      const to = r.fixed(ADDRESS_LENGTH);
      const priority = r.u8();
      if (priority > MessagePriority.Urgent) throw new DecodeError("INVALID_VALUE", `unknown message priority ${priority}`);
      const payload = r.bytes(MAX_MESSAGE_PAYLOAD_BYTES);
      if (payload.length === 0) throw new DecodeError("OUT_OF_RANGE", "message payload is empty");
      return { kind, to, priority, payload };
    }
    case TxKind.ValidatorRegister: {
      const commissionBps = r.u16();
      if (commissionBps > MAX_COMMISSION_BPS) throw new DecodeError("OUT_OF_RANGE", "commission above 100%");
      const selfBond = r.varbig(U64_MAX);
      return { kind, commissionBps, selfBond, blsPublicKey: r.fixed(BLS_PUBLIC_KEY_LENGTH), proofOfPossession: r.fixed(BLS_SIGNATURE_LENGTH) };
    }
    case TxKind.ValidatorLeave:
    case TxKind.Unjail:
      return { kind };
    case TxKind.Bond:
    case TxKind.Unbond:
      return { kind, amount: positiveAmount(r) };
    case TxKind.Delegate:
    case TxKind.Undelegate:
      return { kind, validator: r.fixed(ADDRESS_LENGTH), amount: positiveAmount(r) };
    case TxKind.GovProposal: {
      const paramId = r.u8();
      const value = r.varbig();
      const votingWindow = r.varint(MAX_VOTING_WINDOW);
      if (votingWindow < MIN_VOTING_WINDOW) throw new DecodeError("OUT_OF_RANGE", "voting window is empty");
      return { kind, paramId, value, votingWindow };
    }
    case TxKind.GovVote: {
      const proposalId = r.varint(MAX_GOV_PROPOSAL_ID);
      const choice = r.u8();
      if (choice < VoteChoice.Yes || choice > VoteChoice.Abstain) throw new DecodeError("INVALID_VALUE", `unknown vote choice ${choice}`);
      return { kind, proposalId, choice };
    }
    case TxKind.Evidence:
      return { kind, evidence: readEvidence(r) };
    case TxKind.FederationProposal: {
      const action = r.u8();
      if (action !== FederationAction.Add && action !== FederationAction.Remove) throw new DecodeError("INVALID_VALUE", `unknown federation action ${action}`);
      return { kind, action, validator: r.fixed(ADDRESS_LENGTH) };
    }
    default:
      throw new DecodeError("INVALID_VALUE", `unknown transaction kind ${kind}`);
  }
}

/** The bytes the sender signs (after the signing domain): everything but the signature. */
export function encodeUnsignedTx(tx: UnsignedTx): Uint8Array {
  const w = new Writer();
  let lead = tx.body.kind as number;
  if (tx.expiresAt !== null) lead |= FLAG_EXPIRY;
  if (tx.publicKey !== null) lead |= FLAG_PUBLIC_KEY;
  w.u8(lead).fixed(tx.sender, ADDRESS_LENGTH);
  if (tx.nonce > MAX_NONCE) throw new EncodeError("OUT_OF_RANGE", "nonce above 2^32-1");
  w.varint(tx.nonce).varbig(tx.fee);
  if (tx.expiresAt !== null) w.varint(tx.expiresAt);
  if (tx.publicKey !== null) w.fixed(tx.publicKey, ED25519_PUBLIC_KEY_LENGTH);
  writeBody(w, tx.body);
  return w.finish();
}

export function encodeTx(tx: SignedTx): Uint8Array {
  const unsigned = encodeUnsignedTx(tx);
  const out = new Uint8Array(unsigned.length + ED25519_SIGNATURE_LENGTH);
  out.set(unsigned);
  out.set(tx.signature, unsigned.length);
  assertSize(tx.body.kind, tx.publicKey !== null, out.length, EncodeError);
  return out;
}

function assertSize(kind: TxKind, revealsKey: boolean, length: number, E: typeof EncodeError | typeof DecodeError): void {
  const max = maxEncodedSize(kind, revealsKey);
  if (length > max) throw new E("LENGTH_TOO_LARGE", `${TxKind[kind]} of ${length} bytes exceeds ${max}`);
}

export interface DecodedTx {
  readonly tx: SignedTx;
  /** The canonical bytes, kept so that hashing and verification never re-encode. */
  readonly bytes: Uint8Array;
  readonly unsignedLength: number;
}

export function decodeTxWithBytes(bytes: Uint8Array): DecodedTx {
  const lead = bytes[0] ?? 0;
  // Reject oversize input before parsing any of it.
  assertSize(lead & KIND_MASK, (lead & FLAG_PUBLIC_KEY) !== 0, bytes.length, DecodeError);
  return decodeExact(bytes, (r) => {
    const lead = r.u8();
    if (lead & FLAG_RESERVED) throw new DecodeError("INVALID_VALUE", "reserved flag bit set");
    const sender = r.fixed(ADDRESS_LENGTH);
    const nonce = r.varint(MAX_NONCE);
    const fee = r.varbig();
    const expiresAt = lead & FLAG_EXPIRY ? r.varint(MAX_HEIGHT) : null;
    const publicKey = lead & FLAG_PUBLIC_KEY ? r.fixed(ED25519_PUBLIC_KEY_LENGTH) : null;
    const body = readBody(r, lead & KIND_MASK);
    const unsignedLength = r.offset;
    const signature = r.fixed(ED25519_SIGNATURE_LENGTH);
    return { tx: { sender, nonce, fee, expiresAt, publicKey, body, signature }, bytes: Uint8Array.from(bytes), unsignedLength };
  });
}

export function decodeTx(bytes: Uint8Array): SignedTx {
  return decodeTxWithBytes(bytes).tx;
}

/** Transaction id: SHA-256 of the whole canonical encoding. */
export function txHash(encoded: Uint8Array): Uint8Array {
  return sha256(encoded);
}
