import { bytesEqual } from "../bytes.js";
import { HASH_LENGTH, sha256, ZERO_HASH } from "../crypto/hash.js";

/*
 * Sparse Merkle tree over 256-bit paths (SHA-256 of the state key). A subtree holding one leaf is
 * that leaf, at the shallowest depth where its path is unique, so the root depends only on the set
 * of (path, value) pairs, never on the order of updates. Nodes are immutable and shared between
 * versions: an update costs O(depth) new nodes, and an uncommitted version is dropped for free.
 */
const LEAF_PREFIX = Uint8Array.of(0);
const BRANCH_PREFIX = Uint8Array.of(1);
const PATH_BITS = 256;

interface Leaf {
  readonly isLeaf: true;
  readonly path: Uint8Array;
  readonly valueHash: Uint8Array;
  readonly hash: Uint8Array;
}
interface Branch {
  readonly isLeaf: false;
  readonly left: Node | null;
  readonly right: Node | null;
  readonly hash: Uint8Array;
}
type Node = Leaf | Branch;

const hashOf = (n: Node | null): Uint8Array => (n === null ? ZERO_HASH : n.hash);

function makeLeaf(path: Uint8Array, valueHash: Uint8Array): Leaf {
  return { isLeaf: true, path, valueHash, hash: sha256(LEAF_PREFIX, path, valueHash) };
}

function makeBranch(left: Node | null, right: Node | null): Branch {
  return { isLeaf: false, left, right, hash: sha256(BRANCH_PREFIX, hashOf(left), hashOf(right)) };
}

const bitAt = (path: Uint8Array, depth: number): number => ((path[depth >> 3] as number) >> (7 - (depth & 7))) & 1;

function split(a: Leaf, b: Leaf, depth: number): Branch {
  const ba = bitAt(a.path, depth);
  const bb = bitAt(b.path, depth);
  if (ba !== bb) return ba === 0 ? makeBranch(a, b) : makeBranch(b, a);
  const child = split(a, b, depth + 1);
  return ba === 0 ? makeBranch(child, null) : makeBranch(null, child);
}

function insert(node: Node | null, depth: number, leaf: Leaf): Node {
  if (node === null) return leaf;
  if (node.isLeaf) return bytesEqual(node.path, leaf.path) ? leaf : split(node, leaf, depth);
  return bitAt(leaf.path, depth) === 0
    ? makeBranch(insert(node.left, depth + 1, leaf), node.right)
    : makeBranch(node.left, insert(node.right, depth + 1, leaf));
}

function remove(node: Node | null, depth: number, path: Uint8Array): Node | null {
  if (node === null) return null;
  if (node.isLeaf) return bytesEqual(node.path, path) ? null : node;
  const goLeft = bitAt(path, depth) === 0;
  const left = goLeft ? remove(node.left, depth + 1, path) : node.left;
  const right = goLeft ? node.right : remove(node.right, depth + 1, path);
  if (left === node.left && right === node.right) return node;
  // Keep the canonical shape: a lone leaf moves up to replace its parent.
  if (left === null && (right === null || right.isLeaf)) return right;
  if (right === null && left !== null && left.isLeaf) return left;
  return makeBranch(left, right);
}

export interface SparseProof {
  /** Sibling hashes from the root downwards. */
  readonly siblings: readonly Uint8Array[];
  /** The leaf found where the path ends: the key's own, another key's (non-inclusion), or none. */
  readonly terminal: { readonly path: Uint8Array; readonly valueHash: Uint8Array } | null;
}

export class SparseMerkleTree {
  private constructor(private readonly rootNode: Node | null) {}

  static empty(): SparseMerkleTree {
    return new SparseMerkleTree(null);
  }

  get root(): Uint8Array {
    return hashOf(this.rootNode);
  }

  /** A new version with the given paths set (value hash) or removed (null). */
  update(entries: Iterable<readonly [Uint8Array, Uint8Array | null]>): SparseMerkleTree {
    let root = this.rootNode;
    for (const [path, valueHash] of entries) {
      if (path.length !== HASH_LENGTH) throw new RangeError("tree paths are 32 bytes");
      root = valueHash === null ? remove(root, 0, path) : insert(root, 0, makeLeaf(path, valueHash));
    }
    return new SparseMerkleTree(root);
  }

  prove(path: Uint8Array): SparseProof {
    const siblings: Uint8Array[] = [];
    let node = this.rootNode;
    let depth = 0;
    while (node !== null && !node.isLeaf) {
      const goLeft = bitAt(path, depth) === 0;
      siblings.push(hashOf(goLeft ? node.right : node.left));
      node = goLeft ? node.left : node.right;
      depth++;
    }
    return { siblings, terminal: node === null ? null : { path: node.path, valueHash: node.valueHash } };
  }
}

/**
 * Checks that `path` holds `valueHash` (or, with null, holds nothing) under `root`, from the proof
 * alone, in O(depth) hashes.
 */
export function verifySparseProof(root: Uint8Array, path: Uint8Array, valueHash: Uint8Array | null, proof: SparseProof): boolean {
  const { siblings, terminal } = proof;
  if (path.length !== HASH_LENGTH || siblings.length > PATH_BITS) return false;
  if (valueHash !== null) {
    if (terminal === null || !bytesEqual(terminal.path, path) || !bytesEqual(terminal.valueHash, valueHash)) return false;
  } else if (terminal !== null) {
    if (bytesEqual(terminal.path, path)) return false;
    // The other leaf must share the path walked so far, or it would not sit here.
    for (let d = 0; d < siblings.length; d++) if (bitAt(terminal.path, d) !== bitAt(path, d)) return false;
  }
  let h = terminal === null ? ZERO_HASH : sha256(LEAF_PREFIX, terminal.path, terminal.valueHash);
  for (let d = siblings.length - 1; d >= 0; d--) {
    const s = siblings[d] as Uint8Array;
    if (s.length !== HASH_LENGTH) return false;
    h = bitAt(path, d) === 0 ? sha256(BRANCH_PREFIX, h, s) : sha256(BRANCH_PREFIX, s, h);
  }
  return bytesEqual(h, root);
}
