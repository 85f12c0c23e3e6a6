import { bytesEqual } from "../bytes.js";
import { Reader } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { HASH_LENGTH, sha256 } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";

/*
 * Ordered Merkle tree in the RFC 9162 (Certificate Transparency v2) shape: leaves hashed with a 0x00
 * prefix and interior nodes with 0x01, so no leaf can pass for an interior node; the left subtree
 * holds the largest power of two below n. A proof is the audit path: ceil(log2 n) hashes.
 */
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
export const MAX_PROOF_HASHES = 48;

export const leafHash = (data: Uint8Array): Uint8Array => sha256(LEAF, data);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE, left, right);
export const EMPTY_ROOT: Uint8Array = sha256();

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOf(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leaves[start] as Uint8Array;
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(rootOf(leaves, start, start + k), rootOf(leaves, start + k, end));
}

/** Root over already-hashed leaves. */
export function merkleRootOfLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  return leafHashes.length === 0 ? EMPTY_ROOT : rootOf(leafHashes, 0, leafHashes.length);
}

export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  return merkleRootOfLeafHashes(items.map(leafHash));
}

export interface MerkleProof {
  readonly index: number;
  readonly treeSize: number;
  readonly path: readonly Uint8Array[];
}

function pathOf(leaves: readonly Uint8Array[], m: number, start: number, end: number, out: Uint8Array[]): void {
  const n = end - start;
  if (n === 1) return;
  const k = largestPowerOfTwoBelow(n);
  if (m < k) {
    pathOf(leaves, m, start, start + k, out);
    out.push(rootOf(leaves, start + k, end));
  } else {
    pathOf(leaves, m - k, start + k, end, out);
    out.push(rootOf(leaves, start, start + k));
  }
}

export function merkleProof(items: readonly Uint8Array[], index: number): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) throw new RangeError(`leaf index ${index} out of range`);
  const path: Uint8Array[] = [];
  pathOf(items.map(leafHash), index, 0, items.length, path);
  return { index, treeSize: items.length, path };
}

/** RFC 9162 §2.1.3.2: needs only the leaf, the proof and the root. */
export function verifyMerkleProof(item: Uint8Array, proof: MerkleProof, root: Uint8Array): boolean {
  const { index, treeSize, path } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash(item);
  for (const p of path) {
    if (p.length !== HASH_LENGTH || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

export function encodeMerkleProof(p: MerkleProof): Uint8Array {
  const w = new Writer().varint(p.index).varint(p.treeSize).u8(p.path.length);
  for (const h of p.path) w.fixed(h, HASH_LENGTH);
  return w.finish();
}

export function readMerkleProof(r: Reader): MerkleProof {
  const index = r.varint();
  const treeSize = r.varint();
  const count = r.u8();
  if (count > MAX_PROOF_HASHES) throw new DecodeError("LENGTH_TOO_LARGE", `proof of ${count} hashes exceeds ${MAX_PROOF_HASHES}`);
  const path: Uint8Array[] = [];
  for (let i = 0; i < count; i++) path.push(r.fixed(HASH_LENGTH));
  return { index, treeSize, path };
}
