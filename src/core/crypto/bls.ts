import { createHash } from "node:crypto";
import { pippenger } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes, utf8 } from "../bytes.js";
import { CryptoError } from "../errors.js";
import { cachedDomain, SigningKind } from "./domain.js";

// Over 400 lines on purpose: the result memo below is exact only as long as it stays next to, and in
// step with, the checks and the encoding it stands in for.

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

/**
 * The BLS key is derived from the node's one 32-byte seed, so a key file holds a single secret.
 * Derivation (a G2 multiplication) is memoised by the seed's hash: a simulation or test file derives
 * the same validators' keys for every node and every test. Each caller gets its own copies.
 */
export function blsFromSeed(seed: Uint8Array): BlsKeyPair {
  if (seed.length !== 32) throw new CryptoError("INVALID_KEY", "seed must be 32 bytes");
  const pair = derivedKeys.get(memoKey(SEED_TAG, [seed]), () => {
    const ikm = hkdf(sha256, seed, utf8.encode("meshchain-bls-salt"), utf8.encode("meshchain-bls-keygen"), 48);
    const { secretKey, publicKey } = bls.keygen(ikm);
    const derived = { secretKey, publicKey: publicKey.toBytes() };
    ownPublicKeys.set(memoKey(SECRET_KEY_TAG, [secretKey]), derived.publicKey);
    return derived;
  });
  return { secretKey: pair.secretKey.slice(), publicKey: pair.publicKey.slice() };
}

type G2Point = ReturnType<typeof bls.getPublicKey>;
type G1Point = ReturnType<typeof bls.hash>;

interface Lru<V> {
  get(k: string, make: () => V): V;
  peek(k: string): V | undefined;
  set(k: string, v: V): void;
  clear(): void;
  readonly size: number;
}

/** Bounded memo, the entry used least recently forgotten first: decoded points, hashed messages, results. */
function lru<V>(limit: number): Lru<V> {
  const m = new Map<string, V>();
  const set = (k: string, v: V): void => {
    m.delete(k);
    m.set(k, v);
    if (m.size > limit) m.delete(m.keys().next().value as string);
  };
  const peek = (k: string): V | undefined => {
    const v = m.get(k);
    if (v !== undefined) set(k, v);
    return v;
  };
  return {
    get(k, make) {
      let v = peek(k);
      if (v === undefined) {
        v = make();
        set(k, v);
      }
      return v;
    },
    peek,
    set,
    clear: () => m.clear(),
    get size() {
      return m.size;
    },
  };
}

/**
 * A memo key: SHA-256 over a relation tag and every input, each prefixed with its length, so no two
 * different input lists (a byte moved from the message into the signature, one key more or fewer,
 * another kind, chain or DST) share a key.
 */
function memoKey(tag: number, parts: readonly Uint8Array[]): string {
  const h = createHash("sha256");
  const head = Buffer.alloc(5);
  head.writeUInt8(tag, 0);
  head.writeUInt32BE(parts.length, 1);
  h.update(head);
  for (const p of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length, 0);
    h.update(len);
    h.update(p);
  }
  return h.digest("base64");
}
const SEED_TAG = 0;
const VERIFY_TAG = 1;
const SIGN_TAG = 2;
const SECRET_KEY_TAG = 3;

/**
 * What verification found, for every (DST, domain and message, signature, signer keys in order) it
 * was asked about. Verification is a pure function of these inputs, so the memo is exact and may serve
 * every node of the process: in a simulation N nodes check the same votes and certificates, and a node
 * meets the same aggregate again (relayed copies, a certificate in a block and in a vote, sync
 * re-checks). A bad signature is remembered too: a peer repeating it costs no second pairing.
 */
export const BLS_VERIFIED_MEMO_LIMIT = 8192;
const verified = lru<boolean>(BLS_VERIFIED_MEMO_LIMIT);
/** Signatures already made, by (DST, domain and message, secret key): BLS signing is deterministic. */
export const BLS_SIGNED_MEMO_LIMIT = 4096;
const signed = lru<Uint8Array>(BLS_SIGNED_MEMO_LIMIT);
const derivedKeys = lru<BlsKeyPair>(1024);
/** The public key of each secret key this process signed with, by the secret key's memo key. */
const ownPublicKeys = lru<Uint8Array>(1024);

/** Forget every remembered verification result: for benchmarks that time the pairing itself. */
export function blsForgetResults(): void {
  verified.clear();
  goodFacts.clear();
}

/** How full the process-wide memos are (for tests and diagnostics). */
export function blsMemoSizes(): { verified: number; goodFacts: number; signed: number; derivedKeys: number; ownPublicKeys: number } {
  return { verified: verified.size, goodFacts: goodFacts.size, signed: signed.size, derivedKeys: derivedKeys.size, ownPublicKeys: ownPublicKeys.size };
}

/**
 * A public key's name in the memos: its SHA-256 (32 bytes where the key is 96, and collision-resistant,
 * so a memo key over names is as exact as one over the keys). Facts about aggregates of hundreds of
 * signers then hold a third of the bytes.
 */
const KEY_ID_LENGTH = 32;
const keyIds = lru<Uint8Array>(2048);
function keyId(publicKey: Uint8Array): Uint8Array {
  return keyIds.get(latin1(publicKey), () => sha256(publicKey));
}

/** Key names sorted: an aggregate key is the keys' sum, whatever their order (a key twice counts twice). */
function sortedIds(publicKeys: readonly Uint8Array[]): Uint8Array[] {
  return publicKeys.map(keyId).sort((a, b) => Buffer.compare(a, b));
}

function verifyKey(dst: Uint8Array, input: Uint8Array, signature: Uint8Array, ids: readonly Uint8Array[]): string {
  return memoKey(VERIFY_TAG, [dst, input, signature, ...ids]);
}

/**
 * For each signature known to verify (one key's or an aggregate): over what, and under which keys.
 * Signatures known good over the same message add up to one good under all their keys (e(Σσᵢ, G2) =
 * Πe(H(m), pkᵢ)), and taking known-good parts out of a known-good aggregate leaves one good under
 * the remaining keys; so what bls.ts aggregates or subtracts from known-good signatures is known good
 * when it is made: a node's certificates and vote aggregates are built from votes it checked, and in
 * a simulation the other nodes then meet them. A fact holds 32 bytes a signer: 2,048 facts take about
 * 0.5 MB with the seven to twenty signers of today's chains, and at most 16 MB with aggregates of all
 * 256 validators the parameters allow (a peer relaying aggregates of many subsets fills it no further).
 */
interface GoodFact {
  readonly dst: Uint8Array;
  readonly input: Uint8Array;
  /** The signers' key names (keyId), concatenated in sorted order. */
  readonly ids: Uint8Array;
}
export const BLS_GOOD_FACTS_LIMIT = 2048;
const goodFacts = lru<GoodFact>(BLS_GOOD_FACTS_LIMIT);

/** `ids` sorted (sortedIds). */
function rememberGood(dst: Uint8Array, input: Uint8Array, signature: Uint8Array, ids: readonly Uint8Array[]): void {
  verified.set(verifyKey(dst, input, signature, ids), true);
  goodFacts.set(latin1(signature), { dst, input, ids: concatBytes(...ids) });
}

function idsOf(fact: GoodFact): Uint8Array[] {
  const ids: Uint8Array[] = [];
  for (let at = 0; at < fact.ids.length; at += KEY_ID_LENGTH) ids.push(fact.ids.subarray(at, at + KEY_ID_LENGTH));
  return ids;
}

/** The facts about these signatures when all are known and over one message, else undefined. */
function factsOverOneMessage(signatures: readonly Uint8Array[]): GoodFact[] | undefined {
  const facts: GoodFact[] = [];
  for (const s of signatures) {
    const fact = goodFacts.peek(latin1(s));
    if (fact === undefined) return undefined;
    const first = facts[0];
    if (first !== undefined && (fact.dst !== first.dst || !bytesEqual(fact.input, first.input))) return undefined;
    facts.push(fact);
  }
  return facts;
}

/**
 * A signature made here, remembered, and remembered as verifying under the signer's public key: σ =
 * sk·H(m) and pk = sk·G2 give e(σ, G2) = e(H(m), pk), so the pairing would say true. That holds only if
 * the pair's public key is its secret key's, which is checked (once per secret key), not assumed: a
 * pair whose halves do not match signs as before, and its signatures are verified by the pairing.
 * In a simulation every node's votes are signed in the process that checks them; a node meets its
 * own votes again in relayed copies and certificates.
 */
function memoSigned(dst: Uint8Array, input: Uint8Array, key: BlsKeyPair, sign: () => Uint8Array): Uint8Array {
  const signature = signed.get(memoKey(SIGN_TAG, [dst, input, key.secretKey]), sign);
  const publicKey = ownPublicKeys.get(memoKey(SECRET_KEY_TAG, [key.secretKey]), () => bls.getPublicKey(key.secretKey).toBytes());
  if (bytesEqual(publicKey, key.publicKey)) rememberGood(dst, input, signature, [keyId(key.publicKey)]);
  return signature.slice();
}

const keyPoints = lru<G2Point>(2048);
type Lines = ReturnType<typeof bls12_381.utils.calcPairingPrecomputes>;
/**
 * A G2 point's Miller-loop line coefficients, kept per signer key, per set of keys an aggregate was
 * checked against, and for −G2: noble's `verify` recomputes them for both of its pairs every time,
 * and nodes pair the same few keys over and over. Sets of keys repeat less (nodes reach quorum with
 * different subsets), so they have their own, smaller memo and evict no single key. An entry is
 * about 35 KB: these two bound the lines kept to about 11 MB.
 */
const keyLines = lru<Lines>(256);
const keySetLines = lru<Lines>(64);
function linesOf(point: G2Point): Lines {
  if (point.is0()) throw new CryptoError("INVALID_KEY", "the point at infinity is no key");
  point.assertValidity();
  return bls12_381.utils.calcPairingPrecomputes(point);
}
const negG2Lines = lru<Lines>(1);
const messagePoints = lru<G1Point>(512);
/**
 * Signatures as points, each checked (on the curve, in the subgroup: noble's `fromBytes`) once, when
 * decoded, or made here: a subgroup check costs about a tenth of a pairing, and noble repeats it in
 * every `toBytes` and aggregation.
 */
const signaturePoints = lru<G1Point>(4096);

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

/** Throws for bytes that are not a valid signature point. */
function signaturePoint(bytes: Uint8Array): G1Point {
  return signaturePoints.get(latin1(bytes), () => bls12_381.G1.Point.fromBytes(bytes));
}

const FP_ORDER = bls12_381.fields.Fp.ORDER;

/**
 * The bytes of a signature point made here from checked points (a signature, a sum or difference of
 * valid ones), kept decoded. The compressed encoding (x big-endian, flag bits: compressed, and y's
 * sign) is written here because noble's `toBytes` runs the subgroup check again first, which was a
 * third of signing's cost. The same bytes as noble's (test/unit/bls-memo.test.ts compares them).
 */
function signatureBytes(point: G1Point): Uint8Array {
  // Noble's own for the point at infinity: its encoding and its refusals are noble's to decide.
  if (point.is0()) return point.toBytes();
  const { x, y } = point.toAffine();
  const bytes = new Uint8Array(Buffer.from(x.toString(16).padStart(2 * BLS_SIGNATURE_LENGTH, "0"), "hex"));
  bytes[0] = (bytes[0] as number) | 0x80 | (y * 2n >= FP_ORDER ? 0x20 : 0);
  signaturePoints.set(latin1(bytes), point);
  return bytes;
}

/** sk·H: H is a hashed message (in the subgroup by construction); the scalar is checked by noble. */
function signPoint(hashed: G1Point, secretKey: Uint8Array): G1Point {
  return hashed.multiply(bls12_381.G2.Point.Fn.fromBytes(secretKey));
}

/** Throws for bytes that are not a valid public key (callers turn that into `false`). */
function publicKeyPoint(bytes: Uint8Array): G2Point {
  if (bytes.length !== BLS_PUBLIC_KEY_LENGTH) throw new CryptoError("INVALID_KEY", "a BLS public key is 96 bytes");
  return keyPoints.get(latin1(bytes), () => bls12_381.G2.Point.fromBytes(bytes));
}

/** The lines of one key, or of the aggregate of several (every key exactly 96 bytes, so the join is unambiguous). */
function linesOfKeys(publicKeys: readonly Uint8Array[]): Lines {
  if (publicKeys.length === 1) {
    const key = publicKeys[0] as Uint8Array;
    return keyLines.get(latin1(key), () => linesOf(publicKeyPoint(key)));
  }
  const points = publicKeys.map(publicKeyPoint);
  return keySetLines.get(publicKeys.map(latin1).join(""), () => linesOf(bls.aggregatePublicKeys(points)));
}

function signingInput(kind: SigningKind, chainId: string, message: Uint8Array): Uint8Array {
  return concatBytes(cachedDomain(kind, chainId), message);
}

/** The signing input for a check: null where no domain can be built (a chain id no chain has), which verifies nothing. */
function checkedInput(kind: SigningKind, chainId: string, message: Uint8Array): Uint8Array | null {
  try {
    return signingInput(kind, chainId, message);
  } catch {
    return null;
  }
}

function messagePoint(input: Uint8Array): G1Point {
  return messagePoints.get(latin1(input), () => bls.hash(input, DST));
}

/**
 * Whether the product of the pairings e(g1, Q) over the given points and Q's lines is one. Every G1
 * point here is a checked signature point, a hashed message, or a sum of multiples of those, so in
 * the subgroup already; every Q was checked in `linesOf`.
 */
function pairingProductIsOne(pairs: readonly { g1: G1Point; lines: Lines }[]): boolean {
  // A zero term would make its pairing neutral whatever the rest: never a valid signature.
  if (pairs.some((p) => p.g1.is0())) return false;
  const terms = pairs.map(({ g1, lines }) => {
    const { x, y } = g1.toAffine();
    return [lines, x, y] as Parameters<typeof bls12_381.millerLoopBatch>[0][number];
  });
  const { Fp12 } = bls12_381.fields;
  return Fp12.eql(Fp12.finalExponentiate(bls12_381.millerLoopBatch(terms)), Fp12.ONE);
}

const minusG2Lines = (): Lines => negG2Lines.get("-G2", () => linesOf(bls12_381.G2.Point.BASE.negate()));

/** e(σ, −G2) · e(H(m), pk) = 1, pk the key or the aggregate of the keys; throws for bytes that are no points. */
function checkSignature(dst: Uint8Array, input: Uint8Array, signature: Uint8Array, publicKeys: readonly Uint8Array[]): boolean {
  // The cheap rejections first: bytes that are no point fail before hashing to the curve.
  const sigma = signaturePoint(signature);
  const lines = linesOfKeys(publicKeys);
  const hashed = dst === DST ? messagePoint(input) : bls.hash(input, dst);
  return pairingProductIsOne([
    { g1: sigma, lines: minusG2Lines() },
    { g1: hashed, lines },
  ]);
}

/** The memoised check; false for a bad signature and for bytes that are not valid points. */
function verifySignature(dst: Uint8Array, input: Uint8Array, signature: Uint8Array, publicKeys: readonly Uint8Array[]): boolean {
  if (signature.length !== BLS_SIGNATURE_LENGTH || publicKeys.length === 0 || publicKeys.some((k) => k.length !== BLS_PUBLIC_KEY_LENGTH)) return false;
  const ids = sortedIds(publicKeys);
  const key = verifyKey(dst, input, signature, ids);
  const known = verified.peek(key);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = checkSignature(dst, input, signature, publicKeys);
  } catch {
    ok = false;
  }
  if (ok) rememberGood(dst, input, signature, ids);
  else verified.set(key, false);
  return ok;
}

export function blsSign(kind: SigningKind, chainId: string, message: Uint8Array, key: BlsKeyPair): Uint8Array {
  const input = signingInput(kind, chainId, message);
  return memoSigned(DST, input, key, () => signatureBytes(signPoint(messagePoint(input), key.secretKey)));
}

/** False for a bad signature and for bytes that are not valid points. */
export function blsVerify(kind: SigningKind, chainId: string, message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  const input = checkedInput(kind, chainId, message);
  return input !== null && verifySignature(DST, input, signature, [publicKey]);
}

/** Verify one aggregate signature of many keys over the same message (keys must have proven possession). */
export function blsVerifyAggregate(kind: SigningKind, chainId: string, message: Uint8Array, signature: Uint8Array, publicKeys: Uint8Array[]): boolean {
  const input = checkedInput(kind, chainId, message);
  return input !== null && verifySignature(DST, input, signature, publicKeys);
}

export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new CryptoError("INVALID_SIGNATURE_ENCODING", "nothing to aggregate");
  let aggregate: Uint8Array;
  let sum: G1Point;
  try {
    sum = signatures.map(signaturePoint).reduce((a, b) => a.add(b));
    aggregate = signatureBytes(sum);
  } catch {
    throw new CryptoError("INVALID_SIGNATURE_ENCODING", "not a valid BLS signature");
  }
  const facts = factsOverOneMessage(signatures);
  const first = facts?.[0];
  // Never the point at infinity: the pairing check refuses it whatever the keys (a key and its negation sum to zero).
  if (facts !== undefined && first !== undefined && !sum.is0()) rememberGood(first.dst, first.input, aggregate, facts.flatMap(idsOf).sort((a, b) => Buffer.compare(a, b)));
  return aggregate;
}

/**
 * An aggregate with some of its parts taken out: what the remaining signers' votes aggregate to.
 * Lets a node that holds some signers' votes recover the rest from an aggregate that overlaps them.
 */
export function blsSubtractSignatures(aggregate: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  let rest: Uint8Array;
  let restPoint: G1Point;
  try {
    restPoint = parts.reduce((acc, s) => acc.subtract(signaturePoint(s)), signaturePoint(aggregate));
    rest = signatureBytes(restPoint);
  } catch {
    throw new CryptoError("INVALID_SIGNATURE_ENCODING", "not a valid BLS signature, or the parts cancel the whole aggregate");
  }
  // Known good only if every part's keys are among the whole's (as a multiset): what is left is then
  // exactly the remaining keys' signatures.
  const facts = factsOverOneMessage([aggregate, ...parts]);
  const whole = facts?.[0];
  if (facts !== undefined && whole !== undefined && !restPoint.is0()) {
    const remaining = idsOf(whole).map(latin1);
    const removed = facts.slice(1).flatMap(idsOf).map(latin1);
    const contained = removed.every((k) => {
      const at = remaining.indexOf(k);
      if (at >= 0) remaining.splice(at, 1);
      return at >= 0;
    });
    // `remaining` keeps the whole's sorted order.
    if (contained && remaining.length > 0) rememberGood(whole.dst, whole.input, rest, remaining.map((k) => new Uint8Array(Buffer.from(k, "latin1"))));
  }
  return rest;
}

/**
 * Proof of possession: the key signs itself under its own DST. Required at registration so that no
 * validator can register a rogue key that cancels others' keys in an aggregate.
 */
export function blsProvePossession(chainId: string, key: BlsKeyPair): Uint8Array {
  const input = signingInput(SigningKind.ProofOfPossession, chainId, key.publicKey);
  return memoSigned(POP_DST, input, key, () => signatureBytes(signPoint(bls.hash(input, POP_DST), key.secretKey)));
}

export function blsVerifyPossession(chainId: string, publicKey: Uint8Array, proof: Uint8Array): boolean {
  const input = checkedInput(SigningKind.ProofOfPossession, chainId, publicKey);
  return input !== null && verifySignature(POP_DST, input, proof, [publicKey]);
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
 *
 * Items whose result the memo knows are not checked again: one known bad makes the batch false, and
 * only the unknown ones are batched. Each of those is remembered as good only when their batch
 * passes; after a failed one nothing is remembered, so the caller's item-by-item search for the
 * culprit checks each item itself.
 */
export function blsVerifyBatch(chainId: string, items: readonly BlsBatchItem[]): boolean {
  if (items.length === 0) return true;
  if (items.some((i) => i.signature.length !== BLS_SIGNATURE_LENGTH || i.publicKeys.length === 0 || i.publicKeys.some((k) => k.length !== BLS_PUBLIC_KEY_LENGTH))) return false;
  const checked = items.map((i) => checkedInput(i.kind, chainId, i.message));
  if (checked.includes(null)) return false;
  const inputs = checked as Uint8Array[];
  const ids = items.map((i) => sortedIds(i.publicKeys));
  const keys = items.map((i, index) => verifyKey(DST, inputs[index] as Uint8Array, i.signature, ids[index] as Uint8Array[]));
  const known = keys.map((k) => verified.peek(k));
  if (known.includes(false)) return false;
  const unknown = items.flatMap((item, index) => (known[index] === undefined ? [{ item, input: inputs[index] as Uint8Array, ids: ids[index] as Uint8Array[] }] : []));
  if (unknown.length === 0) return true;
  if (unknown.length === 1) {
    const [{ item, input }] = unknown as [(typeof unknown)[number]];
    return verifySignature(DST, input, item.signature, item.publicKeys);
  }
  const ok = checkBatch(unknown);
  if (ok) for (const u of unknown) rememberGood(DST, u.input, u.item.signature, u.ids);
  return ok;
}

function checkBatch(items: readonly { item: BlsBatchItem; input: Uint8Array }[]): boolean {
  try {
    const transcript = sha256(concatBytes(...items.flatMap(({ item: i }) => [i.signature, sha256(i.message), Uint8Array.of(i.kind), ...i.publicKeys])));
    const signatures: G1Point[] = [];
    const coefficients: bigint[] = [];
    const byKey = new Map<string, { keys: readonly Uint8Array[]; messages: G1Point[]; coefficients: bigint[] }>();
    items.forEach(({ item, input }, index) => {
      const seed = sha256(concatBytes(transcript, Uint8Array.of(index >>> 24, index >>> 16, index >>> 8, index)));
      const r = BigInt(`0x${Buffer.from(seed.subarray(0, 16)).toString("hex")}`) | 1n;
      signatures.push(signaturePoint(item.signature));
      coefficients.push(r);
      // Every key is exactly 96 bytes (checked above), so the joined bytes name the key list.
      const keyId = item.publicKeys.map(latin1).join("");
      const entry = byKey.get(keyId) ?? { keys: item.publicKeys, messages: [], coefficients: [] };
      entry.messages.push(messagePoint(input));
      entry.coefficients.push(r);
      byKey.set(keyId, entry);
    });
    // Multi-scalar multiplication (Pippenger): several times cheaper than one multiplication per point.
    // Variable time is fine here: signatures, messages and coefficients are all public.
    const sigma = pippenger(bls12_381.G1.Point, signatures, coefficients);
    return pairingProductIsOne([{ g1: sigma, lines: minusG2Lines() }, ...[...byKey.values()].map((e) => ({ g1: pippenger(bls12_381.G1.Point, e.messages, e.coefficients), lines: linesOfKeys(e.keys) }))]);
  } catch {
    return false;
  }
}
