import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes, toHex } from "../../src/core/bytes.js";
import { decodeExact } from "../../src/core/codec/reader.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { SparseMerkleTree, verifySparseProof } from "../../src/core/merkle/sparse.js";
import {
  EMPTY_ROOT, encodeMerkleProof, leafHash, merkleProof, merkleRoot, nodeHash, readMerkleProof, verifyMerkleProof,
} from "../../src/core/merkle/tree.js";

const items = fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 70 });

describe("ordered Merkle tree", () => {
  it("follows the RFC 9162 shape for small trees", () => {
    const [a, b, c] = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    expect(toHex(merkleRoot([]))).toBe(toHex(EMPTY_ROOT));
    expect(toHex(merkleRoot([a]))).toBe(toHex(leafHash(a)));
    expect(toHex(merkleRoot([a, b, c]))).toBe(toHex(nodeHash(nodeHash(leafHash(a), leafHash(b)), leafHash(c))));
  });

  it("proves every leaf of every tree with ceil(log2 n) hashes", () => {
    fc.assert(fc.property(items, (xs) => {
      const root = merkleRoot(xs);
      xs.forEach((x, i) => {
        const proof = merkleProof(xs, i);
        expect(proof.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(xs.length)));
        expect(verifyMerkleProof(x, proof, root)).toBe(true);
        const decoded = decodeExact(encodeMerkleProof(proof), readMerkleProof);
        expect(verifyMerkleProof(x, decoded, root)).toBe(true);
      });
    }), { numRuns: 60 });
  });

  it("rejects proofs for other data, other positions and other sizes", () => {
    fc.assert(fc.property(items.filter((xs) => xs.length >= 2), fc.nat(), (xs, k) => {
      const root = merkleRoot(xs);
      const i = k % xs.length;
      const proof = merkleProof(xs, i);
      expect(verifyMerkleProof(concatBytes(xs[i]!, Uint8Array.of(0)), proof, root)).toBe(false);
      const j = (i + 1) % xs.length;
      if (toHex(xs[j]!) !== toHex(xs[i]!)) expect(verifyMerkleProof(xs[i]!, { ...proof, index: j }, root)).toBe(false);
      // A size whose path has a different shape (sizes with the same shape give the same root, as in RFC 9162;
      // the block header binds the count through its body, not the proof).
      expect(verifyMerkleProof(xs[i]!, { ...proof, treeSize: xs.length * 4 + 1 }, root)).toBe(false);
      expect(verifyMerkleProof(xs[i]!, { ...proof, index: xs.length }, root)).toBe(false);
    }), { numRuns: 100 });
  });

  it("does not accept an interior node as a leaf (second preimage)", () => {
    const xs = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3), Uint8Array.of(4)];
    const root = merkleRoot(xs);
    const interior = concatBytes(leafHash(xs[0]!), leafHash(xs[1]!));
    const forged = { index: 0, treeSize: 2, path: [nodeHash(leafHash(xs[2]!), leafHash(xs[3]!))] };
    expect(verifyMerkleProof(interior, forged, root)).toBe(false);
  });
});

describe("sparse Merkle tree", () => {
  const entries = fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 8 })), { selector: ([k]) => toHex(k), maxLength: 60 });
  const path = (k: Uint8Array) => sha256(k);

  it("has a root that depends only on the contents, not the order of updates", () => {
    fc.assert(fc.property(entries, fc.integer(), (es, seed) => {
      const shuffled = [...es].sort((a, b) => ((toHex(a[0]).length * 31 + seed) % 7) - ((toHex(b[0]).length * 31 + seed) % 7));
      const one = SparseMerkleTree.empty().update(es.map(([k, v]) => [path(k), sha256(v)]));
      let two = SparseMerkleTree.empty();
      for (const [k, v] of shuffled) two = two.update([[path(k), sha256(v)]]);
      expect(toHex(one.root)).toBe(toHex(two.root));
    }), { numRuns: 60 });
  });

  it("returns to the same root after inserting and deleting extra keys", () => {
    fc.assert(fc.property(entries, entries, (base, extra) => {
      const baseKeys = new Set(base.map(([k]) => toHex(k)));
      const others = extra.filter(([k]) => !baseKeys.has(toHex(k)));
      const t = SparseMerkleTree.empty().update(base.map(([k, v]) => [path(k), sha256(v)]));
      const grown = t.update(others.map(([k, v]) => [path(k), sha256(v)]));
      const shrunk = grown.update(others.map(([k]) => [path(k), null]));
      expect(toHex(shrunk.root)).toBe(toHex(t.root));
    }), { numRuns: 60 });
  });

  it("leaves older versions untouched", () => {
    const t1 = SparseMerkleTree.empty().update([[path(Uint8Array.of(1)), sha256(Uint8Array.of(1))]]);
    const r1 = toHex(t1.root);
    t1.update([[path(Uint8Array.of(2)), sha256(Uint8Array.of(2))]]);
    expect(toHex(t1.root)).toBe(r1);
  });

  it("proves inclusion and non-inclusion, and rejects wrong values", () => {
    fc.assert(fc.property(entries.filter((e) => e.length > 0), fc.uint8Array({ minLength: 9, maxLength: 12 }), (es, absent) => {
      const t = SparseMerkleTree.empty().update(es.map(([k, v]) => [path(k), sha256(v)]));
      for (const [k, v] of es) {
        const proof = t.prove(path(k));
        expect(verifySparseProof(t.root, path(k), sha256(v), proof)).toBe(true);
        expect(verifySparseProof(t.root, path(k), sha256(concatBytes(v, Uint8Array.of(1))), proof)).toBe(false);
        expect(verifySparseProof(t.root, path(k), null, proof)).toBe(false);
      }
      const proof = t.prove(path(absent));
      expect(verifySparseProof(t.root, path(absent), null, proof)).toBe(true);
      expect(verifySparseProof(t.root, path(absent), sha256(absent), proof)).toBe(false);
    }), { numRuns: 40 });
  });
});
