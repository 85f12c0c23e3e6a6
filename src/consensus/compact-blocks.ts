import { type Block, txRootOf } from "../core/block/block.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import { blockHash, type BlockHeader } from "../core/block/header.js";
import { BLOCK_VERSION } from "../core/block/limits.js";
import { bytesEqual, toHex } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { executeBlock } from "../core/state/block-transition.js";
import { type DecodedTx, txHash } from "../core/tx/codec.js";
import { BLOCK_REF_BYTES, type CompactBlock, shortIdSalt, shortTxId } from "../mesh/messages/relay.js";
import type { TreeBlock } from "./block-tree.js";

/** The compact form of a block whose parent (and so the proposer's index) this node holds. */
export function compactBlock(block: Block, parent: TreeBlock, notarization: NotarizationCertificate | null = null): CompactBlock {
  const h = block.header;
  const proposerIndex = parent.weights.findIndex((w) => bytesEqual(w.address, h.proposer));
  if (proposerIndex < 0) throw new RangeError("the proposer is not in the parent's validator set");
  const salt = shortIdSalt(h.parentHash, h.slot);
  return {
    height: h.height,
    slot: h.slot,
    timestampDelta: h.timestamp - parent.timestamp,
    parentHash: h.parentHash,
    proposerIndex,
    randaoReveal: h.randaoReveal,
    certificate: h.certificate === null ? null : { signers: h.certificate.signers, signature: h.certificate.signature },
    signature: h.signature,
    shortIds: block.txs.map((t) => shortTxId(salt, txHash(t.bytes))),
    notarization: notarization === null ? null : { signers: notarization.signers, signature: notarization.signature },
  };
}

/** How transaction requests name a block: its slot and the start of its proposer's signature. */
export const blockRef = (signature: Uint8Array): string => toHex(signature.subarray(0, BLOCK_REF_BYTES));

export type RebuildResult =
  | { readonly kind: "block"; readonly block: Block }
  | { readonly kind: "missing"; readonly indexes: readonly number[] }
  /** The parts do not make a block the proposer signed: a short-id collision or a bad proposal. */
  | { readonly kind: "mismatch" };

/**
 * Rebuild a block from its compact form and the transactions this node holds: fill each short id,
 * recompute the roots by executing the block on the parent's state, and check that the proposer
 * signed the result. The signature check is what makes a wrong fill harmless.
 */
export function rebuildBlock(
  c: CompactBlock,
  parent: TreeBlock,
  known: Iterable<DecodedTx>,
  chainId: string,
  verifySignature: (slot: number, hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean,
): RebuildResult {
  const proposer = parent.weights[c.proposerIndex];
  if (proposer === undefined || c.height !== parent.height + 1) return { kind: "mismatch" };
  const salt = shortIdSalt(c.parentHash, c.slot);
  const wanted = new Map<string, number[]>();
  c.shortIds.forEach((id, i) => wanted.set(toHex(id), [...(wanted.get(toHex(id)) ?? []), i]));
  const txs: (DecodedTx | undefined)[] = new Array<DecodedTx | undefined>(c.shortIds.length);
  for (const tx of known) {
    const at = wanted.get(toHex(shortTxId(salt, txHash(tx.bytes))));
    for (const i of at ?? []) txs[i] ??= tx;
  }
  const missing: number[] = [];
  for (let i = 0; i < c.shortIds.length; i++) if (txs[i] === undefined) missing.push(i);
  if (missing.length > 0) return { kind: "missing", indexes: missing };
  const filled = txs as DecodedTx[];
  const certificate = c.certificate === null ? null : { height: parent.height, blockHash: c.parentHash, ...c.certificate };
  let stateRoot: Uint8Array;
  try {
    const effects = executeBlock(parent.state, { height: c.height, slot: c.slot, proposer: proposer.address, randaoReveal: c.randaoReveal, certificate }, filled, { chainId });
    stateRoot = effects.tree.root;
  } catch (e) {
    if (e instanceof MeshChainError) return { kind: "mismatch" };
    throw e;
  }
  const header: BlockHeader = {
    version: BLOCK_VERSION,
    height: c.height,
    slot: c.slot,
    timestamp: parent.timestamp + c.timestampDelta,
    parentHash: c.parentHash,
    txRoot: txRootOf(filled),
    stateRoot,
    proposer: proposer.address,
    randaoReveal: c.randaoReveal,
    certificate,
    signature: c.signature,
  };
  if (!verifySignature(c.slot, blockHash(header), c.signature, proposer.blsPublicKey)) return { kind: "mismatch" };
  return { kind: "block", block: { header, txs: filled } };
}
