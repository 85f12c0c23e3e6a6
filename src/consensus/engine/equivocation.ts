import type { Block } from "../../core/block/block.js";
import { blockHash } from "../../core/block/header.js";
import { BoundedMap } from "../../core/bounded.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { Ledger } from "../../core/state/ledger.js";
import { signTx } from "../../core/tx/sign.js";
import { type Evidence, EvidenceType, TxKind } from "../../core/tx/types.js";
import { type EngineContext, FIRST_SIGHTINGS_KEPT } from "./context.js";

/**
 * Equivocation: a validator that signs two votes, or two proposals, for one slot. The first of each
 * is remembered; a conflicting second (both signatures checked) becomes an evidence transaction of
 * our own, for the next block to carry (the chain slashes the offender).
 */
export class Equivocation {
  /** First vote heard per (validator, slot). */
  private readonly firstVote = new BoundedMap<string, { blockHash: Uint8Array; signature: Uint8Array }>(FIRST_SIGHTINGS_KEPT);
  /** First proposal heard per (proposer, slot). */
  private readonly firstProposal = new BoundedMap<string, Block>(FIRST_SIGHTINGS_KEPT);

  constructor(private readonly ctx: EngineContext) {}

  vote(validator: Uint8Array, publicKey: Uint8Array, slot: number, hash: Uint8Array, signature: Uint8Array): void {
    const key = `${toHex(validator)}:${slot}`;
    const first = this.firstVote.get(key);
    if (first === undefined) {
      this.firstVote.set(key, { blockHash: hash, signature });
      return;
    }
    if (bytesEqual(first.blockHash, hash)) return;
    const v = this.ctx.deps.verifier;
    if (!v.vote(slot, first.blockHash, first.signature, publicKey) || !v.vote(slot, hash, signature, publicKey)) return;
    this.report({ type: EvidenceType.DoubleVote, validator, slot, first, second: { blockHash: hash, signature } });
  }

  /** Called for a proposal whose signature already checked. */
  proposal(block: Block): void {
    const key = `${toHex(block.header.proposer)}:${block.header.slot}`;
    const first = this.firstProposal.get(key);
    if (first === undefined) {
      this.firstProposal.set(key, block);
      return;
    }
    if (bytesEqual(blockHash(first.header), blockHash(block.header))) return;
    this.report({ type: EvidenceType.DoubleProposal, first: first.header, second: block.header });
  }

  private report(evidence: Evidence): void {
    const ctx = this.ctx;
    ctx.stats.evidenceFound++;
    const state = ctx.head().state;
    const me = ctx.deps.identity;
    const account = new Ledger(state).account(me.address);
    const params = new Ledger(state).params();
    const draft = { sender: me.address, nonce: account.nonce, fee: 0n, expiresAt: null, publicKey: account.publicKey === null ? me.ed25519.publicKey : null, body: { kind: TxKind.Evidence as const, evidence } };
    const size = signTx(draft, ctx.chainId, me.ed25519).bytes.length;
    // The fee's own varint may lengthen the transaction: allow for it.
    const tx = signTx({ ...draft, fee: BigInt(size + 10) * params.minFeePerByte }, ctx.chainId, me.ed25519);
    ctx.deps.mempool.add(tx);
  }
}
