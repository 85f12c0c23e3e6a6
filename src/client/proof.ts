import { bytesEqual, fromHex, toHex } from "../core/bytes.js";
import { signerIndices } from "../core/block/certificate.js";
import { blockHash } from "../core/block/header.js";
import { verifyAggregateVote } from "../core/block/vote.js";
import { addressFromPublicKey, formatAddress, parseAddress } from "../core/crypto/address.js";
import { MeshChainError } from "../core/errors.js";
import { verifyMerkleProof } from "../core/merkle/tree.js";
import { type DeliveryProof, deliveryProofFromJson } from "../core/proof/delivery-proof.js";
import { describeTx } from "../core/tx/describe.js";
import { verifyTxSignature } from "../core/tx/sign.js";
import { isQuorum } from "../consensus/weights.js";

export type ProofCheckCode =
  | "PROOF_MALFORMED"
  | "TRUST_MALFORMED"
  | "WRONG_CHAIN"
  | "SENDER_KEY_MISMATCH"
  | "BAD_TX_SIGNATURE"
  | "NOT_IN_BLOCK"
  | "CERTIFICATE_NOT_FOR_BLOCK"
  | "UNTRUSTED_BLOCK"
  | "SIGNER_NOT_TRUSTED"
  | "NO_QUORUM"
  | "BAD_CERTIFICATE_SIGNATURE";

/** A proof that does not prove what it claims, with the first check that failed. */
export class ProofError extends MeshChainError<ProofCheckCode> {}

/** What the user trusts: a validator set (as `meshchain validators --json` prints it), or one block's hash. */
export type Trust =
  | { readonly kind: "validators"; readonly chainId: string; readonly validators: readonly { readonly address: Uint8Array; readonly blsPublicKey: Uint8Array; readonly stake: bigint }[] }
  | { readonly kind: "block"; readonly blockHash: Uint8Array };

/** Read a validator-set file's JSON: { chainId, validators: [{ address, blsPublicKey, stake }] }. */
export function trustFromValidatorSetJson(value: unknown): Trust {
  const bad = (why: string) => new ProofError("TRUST_MALFORMED", `the validator set file ${why}`);
  if (typeof value !== "object" || value === null) throw bad("is not a JSON object");
  const o = value as Record<string, unknown>;
  if (typeof o.chainId !== "string") throw bad("has no chainId");
  if (!Array.isArray(o.validators) || o.validators.length === 0) throw bad("lists no validators");
  const validators = (o.validators as unknown[]).map((v, i) => {
    const m = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
    try {
      if (typeof m.address !== "string" || typeof m.blsPublicKey !== "string" || !/^[0-9a-f]{192}$/.test(m.blsPublicKey)) throw new Error("needs address and a 96-byte blsPublicKey in hex");
      if (typeof m.stake !== "string" || !/^[0-9]+$/.test(m.stake)) throw new Error("needs its stake as a decimal string");
      return { address: parseAddress(m.address), blsPublicKey: fromHex(m.blsPublicKey), stake: BigInt(m.stake) };
    } catch (e) {
      throw bad(`entry ${i} ${(e as Error).message}`);
    }
  });
  return { kind: "validators", chainId: o.chainId, validators };
}

export interface ProofVerdict {
  readonly valid: true;
  readonly chainId: string;
  readonly transaction: Record<string, unknown>;
  readonly block: { readonly height: number; readonly hash: string; readonly slot: number; readonly timestamp: number; readonly position: number; readonly transactions: number };
  readonly trustedBy: string;
  readonly proves: string;
  readonly doesNotProve: string;
}

function check(ok: boolean, code: ProofCheckCode, message: string): void {
  if (!ok) throw new ProofError(code, message);
}

/**
 * Check a proof of delivery offline: the sender's key signed the transaction, the transaction is in
 * the block's transaction root, and the block is either the one the user trusts, or signed by
 * validators holding more than two thirds of the stake of the user's validator set.
 */
export function verifyDeliveryProof(json: unknown, trust: Trust): ProofVerdict {
  let proof: DeliveryProof;
  try {
    proof = deliveryProofFromJson(json);
  } catch (e) {
    throw new ProofError("PROOF_MALFORMED", e instanceof Error ? e.message : String(e));
  }
  const { tx, header, certificate, inclusion } = proof;
  if (trust.kind === "validators") check(trust.chainId === proof.chainId, "WRONG_CHAIN", `the proof is for chain ${proof.chainId}, your validator set for ${trust.chainId}`);
  check(bytesEqual(addressFromPublicKey(proof.senderPublicKey), tx.tx.sender) && (tx.tx.publicKey === null || bytesEqual(tx.tx.publicKey, proof.senderPublicKey)), "SENDER_KEY_MISMATCH", "the sender's public key does not hash to the transaction's sender");
  check(verifyTxSignature(tx, proof.chainId, proof.senderPublicKey), "BAD_TX_SIGNATURE", "the sender's signature does not verify over the transaction on this chain");
  check(verifyMerkleProof(tx.bytes, inclusion, header.txRoot), "NOT_IN_BLOCK", "the inclusion path does not lead from the transaction to the block's transaction root");
  const hash = blockHash(header);
  const block = { height: header.height, hash: toHex(hash), slot: header.slot, timestamp: header.timestamp, position: inclusion.index, transactions: inclusion.treeSize };
  const transaction = describeTx(tx);
  const common = {
    valid: true as const, chainId: proof.chainId, transaction, block,
    doesNotProve: "that the recipient read it (their `msg ack` on chain does), or anything about blocks after this one",
  };
  if (trust.kind === "block") {
    check(bytesEqual(hash, trust.blockHash), "UNTRUSTED_BLOCK", `the proof's block ${toHex(hash)} is not the block you trust (${toHex(trust.blockHash)})`);
    return { ...common, trustedBy: `the block hash you gave`, proves: `transaction ${transaction.hash as string}, signed by ${formatAddress(tx.tx.sender)}'s key, is transaction ${inclusion.index + 1} of ${inclusion.treeSize} in block ${header.height} (${toHex(hash)}), the block you trust` };
  }
  check(certificate.height === header.height && bytesEqual(certificate.blockHash, hash), "CERTIFICATE_NOT_FOR_BLOCK", "the certificate is for another block than the proof's header");
  const signers = signerIndices(certificate.signers);
  check(signers.every((i) => i < proof.votingSet.length), "CERTIFICATE_NOT_FOR_BLOCK", "the certificate names signers beyond the proof's voting set");
  let signed = 0n;
  const keys: Uint8Array[] = [];
  for (const i of signers) {
    const member = proof.votingSet[i] as DeliveryProof["votingSet"][number];
    const trusted = trust.validators.find((v) => bytesEqual(v.address, member.address) && bytesEqual(v.blsPublicKey, member.blsPublicKey));
    check(trusted !== undefined, "SIGNER_NOT_TRUSTED", `signer ${formatAddress(member.address)} (with that BLS key) is not in your validator set`);
    signed += (trusted as { stake: bigint }).stake;
    keys.push(member.blsPublicKey);
  }
  const total = trust.validators.reduce((a, v) => a + v.stake, 0n);
  check(isQuorum(signed, total), "NO_QUORUM", `the signers hold ${signed} of the ${total} stake in your validator set: not more than two thirds`);
  check(verifyAggregateVote(proof.chainId, header.slot, hash, certificate.signature, keys), "BAD_CERTIFICATE_SIGNATURE", "the certificate's aggregate signature does not verify for its signers' keys");
  return {
    ...common,
    trustedBy: `${signers.length} validator(s) of your set, holding ${signed} of its ${total} stake`,
    proves: `transaction ${transaction.hash as string}, signed by ${formatAddress(tx.tx.sender)}'s key, is transaction ${inclusion.index + 1} of ${inclusion.treeSize} in block ${header.height} (${toHex(hash)}) of ${proof.chainId}, and validators holding more than two thirds of the stake of the set you trust signed that block`,
  };
}
