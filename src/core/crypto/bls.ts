import { pippenger } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8 } from "../bytes.js";
import { CryptoError } from "../errors.js";
import { cachedDomain, SigningKind } from "./domain.js";

/**
 * Consensus signatures: BLS12-381 in the short-signature variant (signatures in G1, 48 bytes; public
 * keys in G2, 96 bytes), because votes go on air far more often than keys do, and any number of
 * votes aggregate into one 48-byte signature.
 */
const bls = bls12_381.shortSignatures;
export const BLS_PUBLIC_KEY_LENGTH = 96;
export const BLS_SIGNATURE_LENGTH = 48;
export const BLS_SECRET_KEY_LENGTH = 32;

const DST = utf8.encode("MESHCHAIN_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");
const POP_DST = utf8.encode("MESHCHAIN_BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");

export interface BlsKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The BLS key is derived from the node's one 32-byte seed, so a key file holds a single secret. */
export function blsFromSeed(seed: Uint8Array): BlsKeyPair {
  if (seed.length !== 32) throw new CryptoError("INVALID_KEY", "seed must be 32 bytes");
  const ikm = hkdf(sha256, seed, utf8.encode("meshchain-bls-salt"), utf8.encode("meshchain-bls-keygen"), 48);
  const { secretKey, publicKey } = bls.keygen(ikm);
  return { secretKey, publicKey: publicKey.toBytes() };
}

type G2Point = ReturnType<typeof bls.getPublicKey>;
type G1Point = ReturnType<typeof bls.hash>;

/** Bounded memo: decoded keys keep noble's pairing precomputation, hashed messages skip hash-to-curve. */
function lru<V>(limit: number): { get(k: string, make: () => V): V } {
  const m = new Map<string, V>();
  return {
    get(k, make) {
      let v = m.get(k);
      if (v === undefined) {
        v = make();
        m.set(k, v);
        if (m.size > limit) m.delete(m.keys().next().value as string);
      }
      return v;
    },
  };
}
const keyPoints = lru<G2Point>(2048);
type Lines = ReturnType<typeof bls12_381.utils.calcPairingPrecomputes>;
/**
 * A G2 point's Miller-loop line coefficients, kept per signer key (and for −G2): computing them is
 * about a third of a pairing, and range sync pairs the same few keys over and over.
 */
const lineCache = lru<Lines>(256);
function linesOf(point: G2Point): Lines {
  if (point.is0()) throw new CryptoError("INVALID_KEY", "the point at infinity is no key");
  point.assertValidity();
  return bls12_381.utils.calcPairingPrecomputes(point);
}
const messagePoints = lru<G1Point>(512);
const signaturePoints = lru<G1Point>(4096);

/** Throws for bytes that are not a valid public key (callers turn that into `false`). */
function publicKeyPoint(bytes: Uint8Array): G2Point {
  return keyPoints.get(Buffer.from(bytes).toString("latin1"), () => bls12_381.G2.Point.fromBytes(bytes));
}

function messagePoint(kind: SigningKind, chainId: string, message: Uint8Array): G1Point {
  const input = concatBytes(cachedDomain(kind, chainId), message);
  return messagePoints.get(Buffer.from(input).toString("latin1"), () => bls.hash(input, DST));
}

export function blsSign(kind: SigningKind, chainId: string, message: Uint8Array, key: BlsKeyPair): Uint8Array {
  return bls.sign(messagePoint(kind, chainId, message), key.secretKey).toBytes();
}

/** False for a bad signature and for bytes that are not valid points. */
export function blsVerify(kind: SigningKind, chainId: string, message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== BLS_SIGNATURE_LENGTH || publicKey.length !== BLS_PUBLIC_KEY_LENGTH) return false;
  try {
    return bls.verify(signature, messagePoint(kind, chainId, message), publicKeyPoint(publicKey));
  } catch {
    return false;
  }
}

/** Verify one aggregate signature of many keys over the same message (keys must have proven possession). */
export function blsVerifyAggregate(kind: SigningKind, chainId: string, message: Uint8Array, signature: Uint8Array, publicKeys: Uint8Array[]): boolean {
  if (publicKeys.length === 0 || signature.length !== BLS_SIGNATURE_LENGTH) return false;
  try {
    const aggregateKey = bls.aggregatePublicKeys(publicKeys.map(publicKeyPoint));
    return bls.verify(signature, messagePoint(kind, chainId, message), aggregateKey);
  } catch {
    return false;
  }
}

export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new CryptoError("INVALID_SIGNATURE_ENCODING", "nothing to aggregate");
  try {
    return bls.aggregateSignatures(signatures.map((s) => signaturePoints.get(Buffer.from(s).toString("latin1"), () => bls12_381.G1.Point.fromBytes(s)))).toBytes();
  } catch {
    throw new CryptoError("INVALID_SIGNATURE_ENCODING", "not a valid BLS signature");
  }
}

/**
 * An aggregate with some of its parts taken out: what the remaining signers' votes aggregate to.
 * Lets a node that holds some signers' votes recover the rest from an aggregate that overlaps them.
 */
export function blsSubtractSignatures(aggregate: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  try {
    const point = (s: Uint8Array) => signaturePoints.get(Buffer.from(s).toString("latin1"), () => bls12_381.G1.Point.fromBytes(s));
    return parts.reduce((acc, s) => acc.subtract(point(s)), point(aggregate)).toBytes();
  } catch {
    throw new CryptoError("INVALID_SIGNATURE_ENCODING", "not a valid BLS signature, or the parts cancel the whole aggregate");
  }
}

/**
 * Proof of possession: the key signs itself under its own DST. Required at registration so that no
 * validator can register a rogue key that cancels others' keys in an aggregate.
 */
export function blsProvePossession(chainId: string, key: BlsKeyPair): Uint8Array {
  const point = bls.hash(concatBytes(cachedDomain(SigningKind.ProofOfPossession, chainId), key.publicKey), POP_DST);
  return bls.sign(point, key.secretKey).toBytes();
}

export function blsVerifyPossession(chainId: string, publicKey: Uint8Array, proof: Uint8Array): boolean {
  if (proof.length !== BLS_SIGNATURE_LENGTH || publicKey.length !== BLS_PUBLIC_KEY_LENGTH) return false;
  try {
    const point = bls.hash(concatBytes(cachedDomain(SigningKind.ProofOfPossession, chainId), publicKey), POP_DST);
    return bls.verify(proof, point, publicKey);
  } catch {
    return false;
  }
}

export interface BlsBatchItem {
  readonly kind: SigningKind;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  /** One key, or several whose aggregate signed (each must have proven possession). */
  readonly publicKeys: readonly Uint8Array[];
}

/**
 * Verify many signatures at once: Σ rᵢ·σᵢ against Σ rᵢ·H(mᵢ) per distinct signer key, so a run of
 * blocks by the same signers costs two pairings instead of two per signature. The coefficients rᵢ
 * (128 bits) are derived from every input, so signatures that cancel each other in a plain
 * aggregate cannot be chosen to pass, and the result stays a pure function of the inputs.
 * True only if every item would verify on its own (except with probability about 2⁻¹²⁸).
 */
export function blsVerifyBatch(chainId: string, items: readonly BlsBatchItem[]): boolean {
  if (items.length === 0) return true;
  if (items.some((i) => i.signature.length !== BLS_SIGNATURE_LENGTH || i.publicKeys.length === 0)) return false;
  try {
    const transcript = sha256(concatBytes(...items.flatMap((i) => [i.signature, sha256(i.message), Uint8Array.of(i.kind), ...i.publicKeys])));
    const signatures: G1Point[] = [];
    const coefficients: bigint[] = [];
    const byKey = new Map<string, { key: G2Point; messages: G1Point[]; coefficients: bigint[] }>();
    items.forEach((item, index) => {
      const seed = sha256(concatBytes(transcript, Uint8Array.of(index >>> 24, index >>> 16, index >>> 8, index)));
      const r = BigInt(`0x${Buffer.from(seed.subarray(0, 16)).toString("hex")}`) | 1n;
      const signature = signaturePoints.get(Buffer.from(item.signature).toString("latin1"), () => bls12_381.G1.Point.fromBytes(item.signature));
      signature.assertValidity();
      signatures.push(signature);
      coefficients.push(r);
      const keyId = item.publicKeys.map((k) => Buffer.from(k).toString("latin1")).join("|");
      const entry = byKey.get(keyId) ?? { key: item.publicKeys.length === 1 ? publicKeyPoint(item.publicKeys[0] as Uint8Array) : bls.aggregatePublicKeys(item.publicKeys.map(publicKeyPoint)), messages: [], coefficients: [] };
      entry.messages.push(messagePoint(item.kind, chainId, item.message));
      entry.coefficients.push(r);
      byKey.set(keyId, entry);
    });
    // Multi-scalar multiplication (Pippenger): several times cheaper than one multiplication per point.
    // Variable time is fine here: signatures, messages and coefficients are all public.
    const sigma = pippenger(bls12_381.G1.Point, signatures, coefficients);
    const pairs = [{ g1: sigma, lines: lineCache.get("-G2", () => linesOf(bls12_381.G2.Point.BASE.negate())) }, ...[...byKey.entries()].map(([id, e]) => ({ g1: pippenger(bls12_381.G1.Point, e.messages, e.coefficients), lines: lineCache.get(id, () => linesOf(e.key)) }))];
    // A zero term would make the product neutral whatever the rest: never a valid batch.
    if (pairs.some((p) => p.g1.is0())) return false;
    const terms = pairs.map(({ g1, lines }) => {
      g1.assertValidity();
      const { x, y } = g1.toAffine();
      return [lines, x, y] as Parameters<typeof bls12_381.millerLoopBatch>[0][number];
    });
    const { Fp12 } = bls12_381.fields;
    return Fp12.eql(Fp12.finalExponentiate(bls12_381.millerLoopBatch(terms)), Fp12.ONE);
  } catch {
    return false;
  }
}
