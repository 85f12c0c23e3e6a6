import { BoundedMap } from "../core/bounded.js";
import { toHex } from "../core/bytes.js";
import { verifyAggregatePrecommit, verifyAggregateVote, verifyPrecommit, verifyRandao, verifyVote, voteMessage } from "../core/block/vote.js";
import { blsVerifyBatch } from "../core/crypto/bls.js";
import { SigningKind } from "../core/crypto/domain.js";
import { sha256 } from "../core/crypto/hash.js";

/**
 * BLS verification with memory: a pairing costs tens of milliseconds in pure JavaScript, and the
 * same vote or reveal reaches a node several times (relays, bridges, certificates in blocks).
 * Results are pure functions of their inputs, so a cache may be shared by any number of nodes.
 */
export class BlsVerifier {
  private readonly results: BoundedMap<string, boolean>;
  verifications = 0;

  constructor(private readonly chainId: string, limit = 20_000) {
    this.results = new BoundedMap(limit);
  }

  private memo(parts: Uint8Array[], run: () => boolean): boolean {
    const key = toHex(sha256(...parts));
    const known = this.results.get(key);
    if (known !== undefined) return known;
    this.verifications++;
    const ok = run();
    this.results.set(key, ok);
    return ok;
  }

  vote(slot: number, blockHash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    return this.memo([Uint8Array.of(1), new Uint8Array(new Float64Array([slot]).buffer), blockHash, signature, publicKey], () => verifyVote(this.chainId, slot, blockHash, signature, publicKey));
  }

  aggregate(slot: number, blockHash: Uint8Array, signature: Uint8Array, publicKeys: readonly Uint8Array[]): boolean {
    return this.memo([Uint8Array.of(2), new Uint8Array(new Float64Array([slot]).buffer), blockHash, signature, ...publicKeys], () => verifyAggregateVote(this.chainId, slot, blockHash, signature, [...publicKeys]));
  }

  /** A single precommit (its own signing kind, memoised apart from votes by the tag byte). */
  precommit(slot: number, blockHash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    return this.memo([Uint8Array.of(4), new Uint8Array(new Float64Array([slot]).buffer), blockHash, signature, publicKey], () => verifyPrecommit(this.chainId, slot, blockHash, signature, publicKey));
  }

  precommitAggregate(slot: number, blockHash: Uint8Array, signature: Uint8Array, publicKeys: readonly Uint8Array[]): boolean {
    return this.memo([Uint8Array.of(5), new Uint8Array(new Float64Array([slot]).buffer), blockHash, signature, ...publicKeys], () => verifyAggregatePrecommit(this.chainId, slot, blockHash, signature, [...publicKeys]));
  }

  randao(slot: number, reveal: Uint8Array, publicKey: Uint8Array): boolean {
    return this.memo([Uint8Array.of(3), new Uint8Array(new Float64Array([slot]).buffer), reveal, publicKey], () => verifyRandao(this.chainId, slot, reveal, publicKey));
  }

  /**
   * Many votes (single or aggregate) at once, for sync: one batched pairing check. On failure the
   * caller learns the first bad entry by checking them one at a time.
   */
  votes(items: readonly { slot: number; blockHash: Uint8Array; signature: Uint8Array; publicKeys: readonly Uint8Array[] }[]): { ok: true } | { ok: false; firstBad: number } {
    this.verifications++;
    if (blsVerifyBatch(this.chainId, items.map((i) => ({ kind: SigningKind.BlockVote, message: voteMessage(i.slot, i.blockHash), signature: i.signature, publicKeys: i.publicKeys })))) return { ok: true };
    const firstBad = items.findIndex((i) => !this.aggregate(i.slot, i.blockHash, i.signature, i.publicKeys));
    return { ok: false, firstBad: firstBad < 0 ? 0 : firstBad };
  }
}
