import { bytesEqual, fromHex, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { blockHash } from "../core/block/header.js";
import { signerIndices } from "../core/block/certificate.js";
import { addressFromPublicKey } from "../core/crypto/address.js";
import { MeshChainError } from "../core/errors.js";
import { Ledger } from "../core/state/ledger.js";
import type { StateStore } from "../core/state/store.js";
import type { DecodedTx } from "../core/tx/codec.js";
import type { Block } from "../core/block/block.js";
import { verifyTxSignature } from "../core/tx/sign.js";
import type { BlsVerifier } from "../consensus/verifier.js";
import { votingWeights, type WeightedValidator } from "../consensus/weights.js";
import { carriesQuorum, HeardAggregates } from "../consensus/vote-aggregation.js";
import { precommitRuleOf } from "../consensus/finality.js";
import { TokenBucket } from "../mesh/token-bucket.js";
import type { MessageType } from "../mesh/frame.js";
import { messageSpec } from "../mesh/messages/registry.js";
import type { VoteAggregateMessage } from "../mesh/messages/relay.js";

/** Why a message was not passed across transports. */
/** ("covered": an aggregate whose signers all crossed already, or any after a quorum crossed, for its block and kind.) */
export type RelayRefusal = "unverified" | "not_relayable" | "unknown_block" | "check_budget" | "request_budget" | "covered";

export interface RelayGateDeps {
  readonly chainId: string;
  readonly clock: Clock;
  readonly verifier: BlsVerifier;
  /** The state and height at the node's tip: accounts for transaction keys, the voting set for consensus signatures. */
  readonly tip: () => { readonly state: StateStore; readonly height: number } | null;
  /** The slot of a block the consensus engine holds (by hash, hex), when the node runs one. */
  readonly slotOf?: (blockId: string) => number | undefined;
  /** The block (by hash, hex) an aggregate's height and hash prefix name, when the engine holds it. */
  readonly blockIdByRef?: (height: number, ref: Uint8Array) => string | undefined;
}

/** BLS pairings the gate may spend per second: a flood of well-formed junk costs a bounded amount of CPU. */
const BLS_CHECKS_PER_SECOND = 20;
/** Requests (unsigned by nature) passed onto the radio per minute: each costs airtime of everyone. */
const REQUESTS_PER_MINUTE = 12;
/** Block hashes (and their slots) learned from verified headers: votes for them can be checked. */
const KNOWN_BLOCKS = 512;

/**
 * What a bridging node checks before it passes a peer's message to its other transport (IP ↔ LoRa):
 * transactions by their sender's signature (an existing account's), blocks and votes by their validator's BLS signature,
 * compact proposals by the proposer's reveal for the slot, vote and precommit aggregates by their signers' keys (each under its own signing kind), transaction answers by each transaction.
 * Requests carry no signature: they pass when well-formed, within a small rate. Which check a type
 * gets is its relay rule in mesh/messages/registry.ts (one handler per rule here); types whose rule is
 * "never" (hellos, statuses, chain statuses, sync) are not relayed. Nothing unchecked crosses.
 */
export class RelayGate {
  readonly refused = new Map<RelayRefusal, number>();
  /** Verified headers' slot and height, by hash (hex): an aggregate names its block by height and hash prefix. */
  private readonly blockSlots = new Map<string, { readonly slot: number; readonly height: number }>();
  /**
   * Aggregates passed, by kind and block: one whose signers all crossed already brings the other side
   * nothing, and any subset of honest signers verifies, so without this one block's signers could cross
   * as 2^n − 1 frames (and each costs the whole mesh airtime). With it, at most n a block and kind.
   */
  private readonly crossed = { vote: new HeardAggregates<never>(KNOWN_BLOCKS), precommit: new HeardAggregates<never>(KNOWN_BLOCKS) };
  private readonly blsBudget: TokenBucket;
  private readonly requestBudget: TokenBucket;

  constructor(private readonly deps: RelayGateDeps) {
    this.blsBudget = new TokenBucket(BLS_CHECKS_PER_SECOND, 1_000, deps.clock.now());
    this.requestBudget = new TokenBucket(REQUESTS_PER_MINUTE, 60_000, deps.clock.now());
  }

  /** True when the message may cross; `onAir` when it would go onto the radio. */
  check(type: MessageType, payload: Uint8Array, onAir: boolean): boolean {
    const verdict = this.judge(type, payload, onAir);
    if (verdict === true) return true;
    this.refused.set(verdict, (this.refused.get(verdict) ?? 0) + 1);
    return false;
  }

  private judge(type: MessageType, payload: Uint8Array, onAir: boolean): true | RelayRefusal {
    // Before the node has a chain (fetching a checkpoint) it can check nothing, so it passes nothing on.
    const tip = this.deps.tip();
    if (tip === null) return "not_relayable";
    // What each type needs is the registry's relay rule (mesh/messages/registry.ts); "never" is refused here.
    if (messageSpec(type).relay === "never") return "not_relayable";
    try {
      const subject = messageSpec(type).subjectOf(payload);
      switch (subject.rule) {
        case "request":
          return !onAir || this.requestBudget.take(this.deps.clock.now()) ? true : "request_budget";
        case "signed-transactions":
          return subject.txs.every((t) => this.txSigned(tip.state, t)) ? true : "unverified";
        case "proposer-signature":
          return this.blockSigned(tip, subject.block);
        case "proposer-reveal": {
          const c = subject.compact;
          const proposer = this.weights(tip)[c.proposerIndex];
          if (proposer === undefined) return "unverified";
          return this.bls(() => this.deps.verifier.randao(c.slot, c.randaoReveal, proposer.blsPublicKey));
        }
        case "validator-signature": {
          const v = subject.vote;
          const voter = this.weights(tip)[v.validatorIndex];
          if (voter === undefined) return "unverified";
          const id = toHex(v.blockHash);
          const slot = this.blockSlots.get(id)?.slot ?? this.deps.slotOf?.(id);
          if (slot === undefined) return "unknown_block";
          return this.bls(() => this.deps.verifier.vote(slot, v.blockHash, v.signature, voter.blsPublicKey));
        }
        case "validators-aggregate":
          return this.aggregateSigned(tip, subject.aggregate, "vote", (slot, hash, signature, keys) => this.deps.verifier.aggregate(slot, hash, signature, keys));
        case "validators-precommit":
          // On a chain without the precommit rule only a faulty validator signs one, and nobody counts it.
          if (!precommitRuleOf(tip.state)) return "not_relayable";
          return this.aggregateSigned(tip, subject.aggregate, "precommit", (slot, hash, signature, keys) => this.deps.verifier.precommitAggregate(slot, hash, signature, keys));
      }
    } catch (e) {
      if (e instanceof MeshChainError) return "unverified";
      throw e;
    }
  }

  /**
   * Every named signer in the voting set and the aggregate verifying over exactly their keys, for a
   * block the gate knows at the height the aggregate names (the signature covers the slot and hash, not
   * the height: a copy under another height must not cross as a new message), bringing signers that
   * have not crossed yet.
   */
  private aggregateSigned(
    tip: { readonly state: StateStore; readonly height: number },
    a: VoteAggregateMessage,
    kind: "vote" | "precommit",
    verify: (slot: number, blockHash: Uint8Array, signature: Uint8Array, publicKeys: readonly Uint8Array[]) => boolean,
  ): true | RelayRefusal {
    const weights = this.weights(tip);
    const indices = signerIndices(a.signers);
    const signers = indices.map((i) => weights[i]);
    if (signers.some((w) => w === undefined)) return "unverified";
    const prefix = toHex(a.blockRef);
    const id = [...this.blockSlots].find(([k, b]) => b.height === a.height && k.startsWith(prefix))?.[0] ?? this.deps.blockIdByRef?.(a.height, a.blockRef);
    const slot = id === undefined ? undefined : (this.blockSlots.get(id)?.slot ?? this.deps.slotOf?.(id));
    if (id === undefined || slot === undefined) return "unknown_block";
    const crossed = this.crossed[kind];
    if (crossed.covers(id, indices) || crossed.of(id).some((c) => carriesQuorum(c.signers, weights))) return "covered";
    const verdict = this.bls(() => verify(slot, fromHex(id), a.signature, signers.map((w) => (w as WeightedValidator).blsPublicKey)));
    if (verdict === true) crossed.add(id, { signers: indices, signature: a.signature });
    return verdict;
  }

  private weights(tip: { readonly state: StateStore; readonly height: number }): WeightedValidator[] {
    const ledger = new Ledger(tip.state);
    return votingWeights(ledger, tip.height);
  }

  /**
   * From an account that exists (fresh keys cost nothing; an account with funds does), signed by the key
   * the account holds, or by a key it reveals that hashes to the sender.
   */
  private txSigned(state: StateStore, t: DecodedTx): boolean {
    const account = new Ledger(state).account(t.tx.sender);
    if (account.publicKey === null && account.balance === 0n && account.nonce === 0) return false;
    const key = t.tx.publicKey ?? account.publicKey;
    if (key === null || !bytesEqual(addressFromPublicKey(key), t.tx.sender)) return false;
    return verifyTxSignature(t, this.deps.chainId, key);
  }

  private blockSigned(tip: { readonly state: StateStore; readonly height: number }, block: Block): true | RelayRefusal {
    const h = block.header;
    const proposer = this.weights(tip).find((w) => bytesEqual(w.address, h.proposer));
    if (proposer === undefined) return "unverified";
    const hash = blockHash(h);
    const verdict = this.bls(() => this.deps.verifier.vote(h.slot, hash, h.signature, proposer.blsPublicKey));
    if (verdict === true) {
      this.blockSlots.set(toHex(hash), { slot: h.slot, height: h.height });
      if (this.blockSlots.size > KNOWN_BLOCKS) this.blockSlots.delete(this.blockSlots.keys().next().value as string);
    }
    return verdict;
  }

  private bls(check: () => boolean): true | RelayRefusal {
    if (!this.blsBudget.take(this.deps.clock.now())) return "check_budget";
    return check() ? true : "unverified";
  }
}
