import { type Block, txRootOf } from "../core/block/block.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import { blockHash, type BlockHeader } from "../core/block/header.js";
import { BLOCK_VERSION } from "../core/block/limits.js";
import { bytesEqual, toHex } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { executeBlock } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import { type DecodedTx, txHash } from "../core/tx/codec.js";
import { BLOCK_REF_BYTES, type CompactBlock, shortIdSalt, shortTxId } from "../mesh/messages/relay.js";
import type { TreeBlock } from "./block-tree.js";

/** A compact block whose short ids are not the chain's length: a node of another chain, or a forger. */
export class CompactBlockError extends MeshChainError<"SHORT_ID_LENGTH"> {}

/** The chain's short-id length (genesis-only, so any state of the chain gives the same). */
export const shortIdBytesOf = (state: TreeBlock["state"]): number => Number(new Ledger(state).params().shortIdBytes);

export function assertShortIdLength(c: CompactBlock, chainShortIdBytes: number): void {
  if (c.shortIdBytes !== chainShortIdBytes) throw new CompactBlockError("SHORT_ID_LENGTH", `compact block ${c.height} has ${c.shortIdBytes}-byte short ids; this chain's are ${chainShortIdBytes}`);
}

/** The compact form of a block whose parent (and so the proposer's index) this node holds. */
export function compactBlock(block: Block, parent: TreeBlock, notarization: NotarizationCertificate | null = null): CompactBlock {
  const h = block.header;
  const proposerIndex = parent.weights.findIndex((w) => bytesEqual(w.address, h.proposer));
  if (proposerIndex < 0) throw new RangeError("the proposer is not in the parent's validator set");
  const salt = shortIdSalt(h.parentHash, h.slot);
  const shortIdBytes = shortIdBytesOf(parent.state);
  return {
    height: h.height,
    slot: h.slot,
    timestampDelta: h.timestamp - parent.timestamp,
    parentHash: h.parentHash,
    proposerIndex,
    randaoReveal: h.randaoReveal,
    certificate: h.certificate === null ? null : { signers: h.certificate.signers, signature: h.certificate.signature },
    signature: h.signature,
    shortIdBytes,
    shortIds: block.txs.map((t) => shortTxId(salt, txHash(t.bytes), shortIdBytes)),
    notarization: notarization === null ? null : { signers: notarization.signers, signature: notarization.signature },
  };
}

/** How transaction requests name a block: its slot and the start of its proposer's signature. */
export const blockRef = (signature: Uint8Array): string => toHex(signature.subarray(0, BLOCK_REF_BYTES));

/**
 * Fills a rebuild tries when short ids match more than one held transaction. Each try executes the
 * block and checks a BLS signature (a few ms); a pool flooded with colliding transactions makes the
 * node fetch the transactions rather than try them all.
 */
export const MAX_REBUILD_TRIES = 8;

export type RebuildResult =
  | { readonly kind: "block"; readonly block: Block }
  | { readonly kind: "missing"; readonly indexes: readonly number[] }
  /**
   * No fill of the held transactions makes a block the proposer signed: a held transaction that
   * shares a short id with one of the block's we lack (a collision), or a bad proposal. The two look
   * alike, so the proposer is not blamed: the caller fetches the transactions and tries again.
   * `tries`: fills tried; `ambiguous`: some position matched more than one held transaction.
   */
  | { readonly kind: "mismatch"; readonly tries: number; readonly ambiguous: boolean };

/**
 * The fills of the positions from their candidates, in order, the first `limit` of them; one that
 * uses a transaction twice is passed over unyielded (a block cannot hold it twice) but counts.
 */
function* fills(candidates: readonly (readonly DecodedTx[])[], limit: number): Generator<DecodedTx[]> {
  const at = candidates.map(() => 0);
  for (let step = 0; step < limit; step++) {
    const fill = candidates.map((c, i) => c[at[i] as number] as DecodedTx);
    if (new Set(fill).size === fill.length) yield fill;
    let i = candidates.length - 1;
    for (; i >= 0; i--) {
      at[i] = (at[i] as number) + 1;
      if ((at[i] as number) < (candidates[i] as DecodedTx[]).length) break;
      at[i] = 0;
    }
    if (i < 0) return;
  }
}

/**
 * Rebuild a block from its compact form and the transactions this node holds: fill each short id,
 * recompute the roots by executing the block on the parent's state, and check that the proposer
 * signed the result. The signature check is what makes a wrong fill harmless; where a short id
 * matches several held transactions (a collision), the fills are tried in turn against it.
 */
export function rebuildBlock(
  c: CompactBlock,
  parent: TreeBlock,
  known: Iterable<DecodedTx>,
  chainId: string,
  verifySignature: (slot: number, hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean,
  /**
   * Told the candidates found for every position (a fingerprint of their ids); true when exactly these
   * were tried before, so the fills (a block execution each) are not run again for nothing new.
   */
  triedBefore: (fingerprint: string) => boolean = () => false,
): RebuildResult {
  const proposer = parent.weights[c.proposerIndex];
  if (proposer === undefined || c.height !== parent.height + 1 || c.shortIdBytes !== shortIdBytesOf(parent.state)) return { kind: "mismatch", tries: 0, ambiguous: false };
  const salt = shortIdSalt(c.parentHash, c.slot);
  const wanted = new Map<string, number[]>();
  c.shortIds.forEach((id, i) => wanted.set(toHex(id), [...(wanted.get(toHex(id)) ?? []), i]));
  const candidates: DecodedTx[][] = c.shortIds.map(() => []);
  const seen = new Set<string>();
  for (const tx of known) {
    const hash = txHash(tx.bytes);
    const id = toHex(hash);
    if (seen.has(id)) continue;
    seen.add(id);
    for (const i of wanted.get(toHex(shortTxId(salt, hash, c.shortIdBytes))) ?? []) candidates[i]?.push(tx);
  }
  const missing: number[] = [];
  for (let i = 0; i < c.shortIds.length; i++) if (candidates[i]?.length === 0) missing.push(i);
  if (missing.length > 0) return { kind: "missing", indexes: missing };
  const ambiguous = candidates.some((list) => list.length > 1);
  if (triedBefore(candidates.map((list) => list.map((tx) => toHex(txHash(tx.bytes))).join(",")).join(";"))) return { kind: "mismatch", tries: 0, ambiguous };
  let tries = 0;
  for (const filled of fills(candidates, MAX_REBUILD_TRIES)) {
    tries++;
    const block = tryFill(c, parent, proposer, filled, chainId, verifySignature);
    if (block !== null) return { kind: "block", block };
  }
  return { kind: "mismatch", tries, ambiguous };
}

/** The block this fill makes, if the proposer signed it. */
function tryFill(
  c: CompactBlock,
  parent: TreeBlock,
  proposer: TreeBlock["weights"][number],
  filled: DecodedTx[],
  chainId: string,
  verifySignature: (slot: number, hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean,
): Block | null {
  const certificate = c.certificate === null ? null : { height: parent.height, blockHash: c.parentHash, ...c.certificate };
  let stateRoot: Uint8Array;
  try {
    const effects = executeBlock(parent.state, { height: c.height, slot: c.slot, proposer: proposer.address, randaoReveal: c.randaoReveal, certificate }, filled, { chainId });
    stateRoot = effects.tree.root;
  } catch (e) {
    if (e instanceof MeshChainError) return null;
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
  if (!verifySignature(c.slot, blockHash(header), c.signature, proposer.blsPublicKey)) return null;
  return { header, txs: filled };
}
