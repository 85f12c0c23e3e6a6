import { fromHex, toHex } from "../bytes.js";
import { type NotarizationCertificate, readCertificate, writeCertificate } from "../block/certificate.js";
import { type BlockHeader, decodeHeader, encodeHeader } from "../block/header.js";
import { decodeExact } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { BLS_PUBLIC_KEY_LENGTH } from "../crypto/bls.js";
import { ED25519_PUBLIC_KEY_LENGTH } from "../crypto/ed25519.js";
import { HASH_LENGTH } from "../crypto/hash.js";
import { MeshChainError } from "../errors.js";
import { MAX_PROOF_HASHES, type MerkleProof } from "../merkle/tree.js";
import { type DecodedTx, decodeTxWithBytes } from "../tx/codec.js";

/*
 * A proof of delivery (docs/api.md §Proofs): a transaction, the Merkle path from it to a block's
 * transaction root, that block's header, and the certificate its validators signed, with the order
 * of the voting set the certificate's signer bitmap indexes. Everything a verifier needs offline;
 * nothing in it is trusted until checked against a validator set or a block hash the user trusts.
 */
export const DELIVERY_PROOF_FORMAT = "meshchain-delivery-proof/1";

export interface DeliveryProof {
  readonly chainId: string;
  readonly tx: DecodedTx;
  /** The sender's Ed25519 key: its hash is the sender address, and it verifies the signature. */
  readonly senderPublicKey: Uint8Array;
  readonly inclusion: MerkleProof;
  readonly header: BlockHeader;
  readonly certificate: NotarizationCertificate;
  /** The voting set of the block, in the order the signer bitmap counts: address and BLS key. */
  readonly votingSet: readonly { readonly address: Uint8Array; readonly blsPublicKey: Uint8Array }[];
}

export type ProofErrorCode = "PROOF_MALFORMED";
export class ProofFormatError extends MeshChainError<ProofErrorCode> {}

const certificateBytes = (c: NotarizationCertificate): Uint8Array => {
  const w = new Writer();
  writeCertificate(w, c);
  return w.finish();
};

export function deliveryProofToJson(p: DeliveryProof): Record<string, unknown> {
  return {
    format: DELIVERY_PROOF_FORMAT,
    chainId: p.chainId,
    tx: toHex(p.tx.bytes),
    senderPublicKey: toHex(p.senderPublicKey),
    inclusion: { index: p.inclusion.index, treeSize: p.inclusion.treeSize, path: p.inclusion.path.map(toHex) },
    header: toHex(encodeHeader(p.header)),
    certificate: toHex(certificateBytes(p.certificate)),
    votingSet: p.votingSet.map((v) => ({ address: toHex(v.address), blsPublicKey: toHex(v.blsPublicKey) })),
  };
}

function hexField(o: Record<string, unknown>, name: string, length?: number): Uint8Array {
  const v = o[name];
  if (typeof v !== "string" || !/^([0-9a-f]{2})*$/.test(v)) throw new ProofFormatError("PROOF_MALFORMED", `${name} must be lower-case hex`);
  const bytes = fromHex(v);
  if (length !== undefined && bytes.length !== length) throw new ProofFormatError("PROOF_MALFORMED", `${name} must be ${length} bytes`);
  return bytes;
}

function wholeNumber(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new ProofFormatError("PROOF_MALFORMED", `${name} must be a whole number`);
  return v;
}

function decoded<T>(name: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw new ProofFormatError("PROOF_MALFORMED", `${name} does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parse a proof file's JSON; any field of the wrong shape is PROOF_MALFORMED (checking comes after). */
export function deliveryProofFromJson(value: unknown): DeliveryProof {
  if (typeof value !== "object" || value === null) throw new ProofFormatError("PROOF_MALFORMED", "a proof is a JSON object");
  const o = value as Record<string, unknown>;
  if (o.format !== DELIVERY_PROOF_FORMAT) throw new ProofFormatError("PROOF_MALFORMED", `format must be "${DELIVERY_PROOF_FORMAT}"`);
  if (typeof o.chainId !== "string" || o.chainId.length === 0 || o.chainId.length > 64) throw new ProofFormatError("PROOF_MALFORMED", "chainId must be a chain id");
  const inclusion = o.inclusion as Record<string, unknown> | null;
  if (typeof inclusion !== "object" || inclusion === null || !Array.isArray(inclusion.path) || inclusion.path.length > MAX_PROOF_HASHES) {
    throw new ProofFormatError("PROOF_MALFORMED", "inclusion must hold index, treeSize and a path of hashes");
  }
  const path = (inclusion.path as unknown[]).map((h, i) => hexField({ [`inclusion.path[${i}]`]: h }, `inclusion.path[${i}]`, HASH_LENGTH));
  if (!Array.isArray(o.votingSet) || o.votingSet.length === 0 || o.votingSet.length > 256) throw new ProofFormatError("PROOF_MALFORMED", "votingSet must list 1 to 256 validators");
  const votingSet = (o.votingSet as unknown[]).map((v, i) => {
    if (typeof v !== "object" || v === null) throw new ProofFormatError("PROOF_MALFORMED", `votingSet[${i}] must be an object`);
    const m = v as Record<string, unknown>;
    return { address: hexField(m, "address", ADDRESS_LENGTH), blsPublicKey: hexField(m, "blsPublicKey", BLS_PUBLIC_KEY_LENGTH) };
  });
  const txBytes = hexField(o, "tx");
  return {
    chainId: o.chainId,
    tx: decoded("tx", () => decodeTxWithBytes(txBytes)),
    senderPublicKey: hexField(o, "senderPublicKey", ED25519_PUBLIC_KEY_LENGTH),
    inclusion: { index: wholeNumber(inclusion.index, "inclusion.index"), treeSize: wholeNumber(inclusion.treeSize, "inclusion.treeSize"), path },
    header: decoded("header", () => decodeHeader(hexField(o, "header"))),
    certificate: decoded("certificate", () => decodeExact(hexField(o, "certificate"), readCertificate)),
    votingSet,
  };
}
