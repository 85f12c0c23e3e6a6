import type { Block } from "../core/block/block.js";
import { blockHash } from "../core/block/header.js";
import { bytesEqual } from "../core/bytes.js";
import type { ChainStore } from "../storage/chain-store.js";
import type { BlsVerifier } from "./verifier.js";

/**
 * The audit behind range sync by finality proof (docs/decisions.md): a block's proposer signature
 * is not covered by its hash, so a finality proof does not vouch for it. Blocks committed on a
 * proof have their proposer signatures checked here afterwards, a batch at a time, while the node
 * is not importing; the sync server serves only blocks the audit has passed.
 */
export type AuditOutcome =
  | { readonly kind: "done" }
  | { readonly kind: "checked"; readonly through: number }
  /** The stored block at `height` carries a signature that is not its proposer's (a peer altered it). */
  | { readonly kind: "bad"; readonly height: number; readonly reason: string };

/** Check the next `maxBlocks` unchecked proposer signatures, in one batched pairing check. */
export function auditSignatures(store: ChainStore, verifier: BlsVerifier, maxBlocks: number): AuditOutcome {
  const from = store.signaturesCheckedHeight + 1;
  const to = Math.min(store.tip.height, from + maxBlocks - 1);
  if (from > to) return { kind: "done" };
  const items: { slot: number; blockHash: Uint8Array; signature: Uint8Array; publicKeys: Uint8Array[] }[] = [];
  for (let height = from; height <= to; height++) {
    const header = store.headerAt(height);
    if (header === null) return { kind: "bad", height, reason: "the block is not stored" };
    const key = store.auditKey(header.proposer);
    if (key === null) return { kind: "bad", height, reason: "no key was kept for its proposer" };
    items.push({ slot: header.slot, blockHash: store.blockHashAt(height), signature: header.signature, publicKeys: [key] });
  }
  const result = verifier.votes(items);
  if (!result.ok) {
    // Those before the first bad one were each checked on their own in finding it.
    store.markSignaturesChecked(from + result.firstBad - 1);
    return { kind: "bad", height: from + result.firstBad, reason: "the proposer signature does not verify" };
  }
  store.markSignaturesChecked(to);
  return { kind: "checked", through: to };
}

/**
 * Mend a block that failed the audit with a copy another peer sent: the same block (same hash) whose
 * signature is its proposer's. Returns false, changing nothing, for anything else.
 */
export function repairSignature(store: ChainStore, verifier: BlsVerifier, height: number, offered: Block): boolean {
  const h = offered.header;
  if (h.height !== height || height > store.tip.height) return false;
  const hash = blockHash(h);
  if (!bytesEqual(hash, store.blockHashAt(height))) return false;
  const key = store.auditKey(h.proposer);
  if (key === null || !verifier.vote(h.slot, hash, h.signature, key)) return false;
  store.replaceProposerSignature(height, h.signature);
  return true;
}
