// What the API reads from a node's chain: accounts, blocks, transactions with their status,
// parameters, proposals, messages, proofs, and what a wallet needs before signing. Reads only; kept apart from node.ts (the wiring).
import { bytesEqual, toHex } from "../core/bytes.js";
import { type NotarizationCertificate, signerBitmap, signerIndices } from "../core/block/certificate.js";
import { verifyAggregateVote } from "../core/block/vote.js";
import { formatAddress } from "../core/crypto/address.js";
import { MeshChainError } from "../core/errors.js";
import { merkleProof } from "../core/merkle/tree.js";
import { type DeliveryProof } from "../core/proof/delivery-proof.js";
import { activeStake, passesQuorum, tallyVotes } from "../core/state/governance.js";
import { nextEpochStart } from "../core/state/epoch.js";
import { Ledger } from "../core/state/ledger.js";
import { scheduledParamChanges } from "../core/state/param-changes.js";
import { PARAM_SPECS, paramSpecById } from "../core/state/params.js";
import { validatorStake } from "../core/state/records.js";
import { registeredValidators } from "../core/state/validators.js";
import { choiceName, describeTx } from "../core/tx/describe.js";
import { finalitySlotsOf, finalizesRun } from "../consensus/finality.js";
import { gini, isQuorum, totalWeight, votingWeights } from "../consensus/weights.js";
import type { ChainStore } from "../storage/chain-store.js";
import { MessageIndexer } from "./message-indexer.js";
import { pastVotingSet, type Voter } from "./past-voting-set.js";
import type { TxPool } from "./mempool.js";

export type ReadErrorCode = "UNKNOWN_ACCOUNT" | "UNKNOWN_BLOCK" | "UNKNOWN_TX" | "UNKNOWN_PROPOSAL" | "NOT_A_MESSAGE" | "PROOF_UNAVAILABLE";
/** A read asked for something this node does not hold. */
export class ReadError extends MeshChainError<ReadErrorCode> {}

export type TxStatus = "pending" | "queued" | "included" | "final";

/** How far down from the tip finality is looked for in held certificates (above the recorded finality). */
const FINALITY_SCAN_BLOCKS = 64;

export interface ReadModelDeps {
  readonly store: () => ChainStore;
  readonly pool: () => TxPool | null;
  readonly chainId: string;
  /** The message index's file (`messages.db` in the data directory); in memory when absent. */
  readonly messageIndexPath?: string;
}

/**
 * The node's chain, read for people and programs. Messages are read through an index on disk
 * (message-indexer.ts), caught up on each read from the blocks committed since.
 */
export class ReadModel {
  private readonly messageIndexer: MessageIndexer;
  private finality: { key: string; height: number } | null = null;

  constructor(private readonly deps: ReadModelDeps) {
    this.messageIndexer = new MessageIndexer(deps.messageIndexPath ?? ":memory:");
  }

  /** The store read (blocks by height for event feeds); throws NOT_RUNNING when the node is stopped. */
  chain(): ChainStore {
    return this.deps.store();
  }

  private ledger(): Ledger {
    return new Ledger(this.deps.store().state);
  }

  /**
   * The highest block final here: the recorded finality, or above it a block whose child in the next
   * slot has its notarization held here, and it its own (consensus's rule), as a validator judges.
   */
  finalizedHeight(): number {
    const store = this.deps.store();
    const recorded = store.finalizedHeight;
    const tip = store.tip.height;
    // Asked often (every look of the live feed): the answer only changes with the tip or the record.
    const key = `${toHex(store.tip.hash)}:${recorded}`;
    if (this.finality?.key === key) return this.finality.height;
    const height = this.provenFinalHeight(store, recorded, tip);
    this.finality = { key, height };
    return height;
  }

  /** The hash of our finalized block at `height`; null above finality or below a checkpoint. */
  finalizedHashAt(height: number): string | null {
    const store = this.deps.store();
    if (height > store.finalizedHeight || height < store.baseHeight || height === 0) return null;
    return store.blockBytesAt(height) === null ? null : toHex(store.blockHashAt(height));
  }

  /** The height at which a transaction became final here, or null. */
  finalizedTxHeight(hash: Uint8Array): number | null {
    const at = this.deps.store().txLocation(hash);
    // Final from the certificates held here, as a validator judges, not only from recorded finality.
    return at !== null && at.height <= this.finalizedHeight() ? at.height : null;
  }

  /** What a wallet needs before signing: the chain id its signature binds to and the fee rate. */
  chainInfo(): { chainId: string; height: number; minFeePerByte: string; genesisHash: string } {
    const store = this.deps.store();
    return { chainId: this.deps.chainId, height: store.tip.height, minFeePerByte: new Ledger(store.state).params().minFeePerByte.toString(), genesisHash: toHex(store.genesisHash) };
  }

  /** The weights' Gini coefficient at the tip (0 when one validator holds all the weight among one). */
  weightGini(): number {
    const store = this.deps.store();
    return gini(votingWeights(new Ledger(store.state), store.tip.height));
  }

  private provenFinalHeight(store: ChainStore, recorded: number, tip: number): number {
    const slots = finalitySlotsOf(store.state);
    for (let b = tip - 1; b > Math.max(recorded, tip - FINALITY_SCAN_BLOCKS); b--) {
      // The run that makes b final: b and its child, and on a chain of Streamlet's rule b's parent first.
      const heights = Array.from({ length: slots }, (_, k) => b + 2 - slots + k);
      const blocks = heights.map((h) => (h < 1 ? null : store.blockAt(h)));
      const headers = blocks.flatMap((x) => (x === null ? [] : [x.header]));
      if (headers.length !== slots || !finalizesRun(headers, slots)) continue;
      if (heights.every((h) => this.certificateOf(h) !== null)) return b;
    }
    return recorded;
  }

  /** The certificate for the block at `height` that this node holds: its child's, a stored one, or a lone proposer's own vote. */
  certificateOf(height: number): NotarizationCertificate | null {
    const store = this.deps.store();
    const child = store.blockAt(height + 1)?.header.certificate ?? null;
    if (child !== null) return child;
    const stored = store.notarizationAt(height);
    if (stored !== null) return stored;
    // A proposer signature the audit has not passed yet is no certificate to hand out (consensus/signature-audit.ts).
    const block = height <= store.signaturesCheckedHeight ? store.blockAt(height) : null;
    if (block === null) return null;
    const ledger = this.ledger();
    const weights = votingWeights(ledger, height);
    const index = weights.findIndex((w) => bytesEqual(w.address, block.header.proposer));
    const proposer = weights[index];
    // The proposer's signature is its vote: a certificate on its own when it holds a quorum (a lone validator).
    if (proposer !== undefined && isQuorum(proposer.weight, totalWeight(weights))) return { height, blockHash: store.blockHashAt(height), signers: signerBitmap([index]), signature: block.header.signature };
    // A lone validator's block from before others joined: alone in the set then, its vote was the quorum.
    const alone: NotarizationCertificate = { height, blockHash: store.blockHashAt(height), signers: signerBitmap([0]), signature: block.header.signature };
    const then = pastVotingSet(ledger, store, height, alone, this.deps.chainId);
    return then?.length === 1 && bytesEqual((then[0] as Voter).address, block.header.proposer) ? alone : null;
  }

  account(address: Uint8Array): Record<string, unknown> {
    const ledger = this.ledger();
    const account = ledger.account(address);
    const store = this.deps.store();
    const validator = ledger.validator(address);
    const delegations: { validator: string; amount: string }[] = [];
    for (const v of registeredValidators(ledger)) {
      const d = ledger.validator(v)?.delegations.find((x) => bytesEqual(x.delegator, address));
      if (d !== undefined) delegations.push({ validator: formatAddress(v), amount: d.amount.toString() });
    }
    const unbonding: { validator: string; amount: string; releasedAt: number }[] = [];
    // Unbonding entries are keyed by release height, not owner: one in-memory lookup per height of the
    // period (2,000 by default; a governance-raised period makes this read slower, never wrong).
    const period = Number(ledger.params().unbondingPeriod);
    for (let h = store.tip.height + 1; h <= store.tip.height + period; h++) {
      for (const e of ledger.unbondingAt(h)) if (bytesEqual(e.owner, address)) unbonding.push({ validator: formatAddress(e.validator), amount: e.amount.toString(), releasedAt: h });
    }
    const known = account.balance > 0n || account.nonce > 0 || account.publicKey !== null || validator !== null || delegations.length > 0 || unbonding.length > 0;
    if (!known) throw new ReadError("UNKNOWN_ACCOUNT", `no account ${formatAddress(address)} on ${this.deps.chainId}: it has never held, sent or received anything`);
    return {
      address: formatAddress(address), height: store.tip.height, balance: account.balance.toString(), nonce: account.nonce,
      nextNonce: this.deps.pool()?.nextNonce(address) ?? account.nonce, publicKey: account.publicKey === null ? null : toHex(account.publicKey),
      validator: validator === null ? null : { selfBond: validator.selfBond.toString(), stake: validatorStake(validator).toString(), commissionBps: validator.commissionBps, jailedUntil: validator.jailedUntil, leavingAt: validator.leavingAt, proximityBps: validator.proximityBps },
      delegations, unbonding,
    };
  }

  /** The weighted voting set at the tip, in the order certificates count signers. */
  validatorSet(): { chainId: string; height: number; gini: number; validators: Record<string, unknown>[] } {
    const ledger = this.ledger();
    const height = this.deps.store().tip.height;
    const weights = votingWeights(ledger, height);
    const total = totalWeight(weights);
    return {
      chainId: this.deps.chainId, height, gini: gini(weights),
      validators: weights.map((w) => ({
        address: formatAddress(w.address), blsPublicKey: toHex(w.blsPublicKey), stake: w.stake.toString(), weight: w.weight.toString(),
        weightShare: total === 0n ? 0 : Number((w.weight * 1_000_000n) / total) / 1_000_000, proximityBps: w.proximityBps,
      })),
    };
  }

  /** A block by height, or by its hash (64 hex digits). */
  block(ref: number | Uint8Array): Record<string, unknown> {
    const store = this.deps.store();
    const height = typeof ref === "number" ? ref : store.heightOf(ref);
    const block = height === null ? null : store.blockAt(height);
    if (height === null || block === null) throw new ReadError("UNKNOWN_BLOCK", `no block ${typeof ref === "number" ? ref : toHex(ref)} here${typeof ref === "number" ? ` (heights ${store.baseHeight + 1} to ${store.tip.height})` : ""}`);
    const h = block.header;
    const certificate = this.certificateOf(height);
    return {
      height, hash: toHex(store.blockHashAt(height)), slot: h.slot, timestamp: h.timestamp, proposer: formatAddress(h.proposer), parentHash: toHex(h.parentHash),
      txRoot: toHex(h.txRoot), stateRoot: toHex(h.stateRoot), final: height <= this.finalizedHeight(),
      certificate: certificate === null ? null : { signers: signerIndices(certificate.signers), signature: toHex(certificate.signature) },
      txs: block.txs.map(describeTx),
    };
  }

  /** A transaction and where it stands: pending or queued in our pool, included at a height, or final. */
  transaction(hash: Uint8Array): Record<string, unknown> {
    const store = this.deps.store();
    const at = store.txLocation(hash);
    if (at !== null) {
      const tx = store.blockAt(at.height)?.txs[at.position];
      const final = at.height <= this.finalizedHeight();
      return { status: final ? "final" : "included", height: at.height, position: at.position, final, ...(tx === undefined ? { hash: toHex(hash) } : describeTx(tx)) };
    }
    const pool = this.deps.pool();
    const id = toHex(hash);
    if (pool?.isQueued(id) === true) return { hash: id, status: "queued", final: false, height: null };
    if (pool?.holds(id) === true) return { hash: id, status: "pending", final: false, height: null };
    throw new ReadError("UNKNOWN_TX", `transaction ${id} is neither in this node's chain nor in its pool`);
  }

  /** A transaction's status only (what `--wait` and subscriptions watch); null when unknown here. */
  txStatus(hash: Uint8Array): { status: TxStatus; height: number | null } | null {
    try {
      const t = this.transaction(hash);
      return { status: t.status as TxStatus, height: t.height as number | null };
    } catch (e) {
      if (e instanceof ReadError) return null;
      throw e;
    }
  }

  params(): Record<string, unknown> {
    const ledger = this.ledger();
    const params = ledger.params();
    return {
      height: this.deps.store().tip.height,
      params: PARAM_SPECS.map((s) => ({ id: s.id, name: s.name, value: params[s.name].toString(), min: s.min.toString(), max: s.max.toString(), description: s.description })),
      scheduled: this.scheduled(ledger),
    };
  }

  private scheduled(ledger: Ledger): Record<string, unknown>[] {
    return scheduledParamChanges(ledger).map((c) => ({ proposalId: c.proposalId, parameter: paramSpecById(c.paramId)?.name ?? `#${c.paramId}`, value: c.value.toString(), effectiveHeight: c.effectiveHeight }));
  }

  /** Open proposals with their tallies, and passed changes waiting for their epoch boundary. */
  proposals(): { height: number; open: Record<string, unknown>[]; scheduled: Record<string, unknown>[] } {
    const ledger = this.ledger();
    const height = this.deps.store().tip.height;
    const { stakeOf, totalStake } = activeStake(ledger, height);
    const open = ledger.activeProposals().flatMap(({ id }) => {
      const p = ledger.proposal(id);
      if (p === null) return [];
      const spec = paramSpecById(p.paramId);
      const tally = tallyVotes(p.votes, stakeOf);
      return [{
        id, proposer: formatAddress(p.proposer), parameter: spec?.name ?? `#${p.paramId}`, current: spec === undefined ? null : ledger.params()[spec.name].toString(), value: p.value.toString(),
        endHeight: p.endHeight, takesEffectIfPassedAtEnd: nextEpochStart(p.endHeight, ledger.params().epochLength), yes: tally.yes.toString(), no: tally.no.toString(), abstain: tally.abstain.toString(), totalStake: totalStake.toString(),
        quorum: "more than 2/3 of active stake voting yes", passing: passesQuorum(tally.yes, totalStake),
        votes: p.votes.map((v) => ({ validator: formatAddress(v.validator), choice: choiceName(v.choice) })),
      }];
    });
    return { height, open, scheduled: this.scheduled(ledger) };
  }

  proposal(id: number): Record<string, unknown> {
    const { open, scheduled } = this.proposals();
    const found = open.find((p) => p.id === id);
    if (found !== undefined) return { status: "open", ...found };
    const passed = scheduled.find((s) => s.proposalId === id);
    if (passed !== undefined) return { status: "passed", id, ...passed };
    throw new ReadError("UNKNOWN_PROPOSAL", `no open or scheduled proposal ${id} (closed proposals leave the state once enacted or rejected)`);
  }

  /** Messages to or from an address in the chain, newest first (bodies a pruning follower still holds). */
  messagesFor(filter: { to?: Uint8Array; from?: Uint8Array }, limit: number): Record<string, unknown>[] {
    const store = this.deps.store();
    const found = this.messageIndexer.caughtUp(store).find(filter, store.oldestBody, limit);
    const finalized = this.finalizedHeight();
    return found.flatMap((m) => {
      const tx = store.blockAt(m.height)?.txs[m.position];
      if (tx === undefined) return [];
      return [{ ...describeTx(tx), height: m.height, final: m.height <= finalized, status: m.height <= finalized ? "final" : "included" }];
    });
  }

  /** A message and the acknowledgements its recipient put on chain (a message back naming its hash). */
  messageStatus(hash: Uint8Array): Record<string, unknown> {
    const t = this.transaction(hash);
    if (t.kind !== undefined && t.kind !== "message") throw new ReadError("NOT_A_MESSAGE", `${toHex(hash)} is a ${String(t.kind)} transaction, not a message`);
    const index = this.messageIndexer.caughtUp(this.deps.store());
    const message = index.byHash(hash);
    const finalized = this.finalizedHeight();
    const acks = message === null ? [] : index.acknowledgementsOf(hash)
      .filter((a) => bytesEqual(a.sender, message.recipient) && bytesEqual(a.recipient, message.sender))
      .map((a) => ({ hash: toHex(a.hash), height: a.height, final: a.height <= finalized }));
    return { ...t, acknowledged: acks.length > 0, acks };
  }

  /** Close the message index's database (the node stops). */
  close(): void {
    this.messageIndexer.close();
  }

  /** The proof of delivery of a transaction in a block this node holds with its certificate. */
  deliveryProof(hash: Uint8Array): DeliveryProof {
    const store = this.deps.store();
    const at = store.txLocation(hash);
    if (at === null) throw new ReadError("UNKNOWN_TX", `transaction ${toHex(hash)} is not in this node's chain (yet): wait until it is included`);
    const block = store.blockAt(at.height);
    const tx = block?.txs[at.position];
    const certificate = this.certificateOf(at.height);
    if (block === undefined || block === null || tx === undefined) throw new ReadError("UNKNOWN_TX", `block ${at.height} is not held here (pruned or below a checkpoint)`);
    if (certificate === null) throw new ReadError("PROOF_UNAVAILABLE", `block ${at.height} has no certificate here yet: try again once its successor arrives`);
    const ledger = this.ledger();
    const senderPublicKey = tx.tx.publicKey ?? ledger.account(tx.tx.sender).publicKey;
    if (senderPublicKey === null) throw new ReadError("PROOF_UNAVAILABLE", "the sender's public key is not known to this node");
    const weights = votingWeights(ledger, at.height);
    let votingSetList: Voter[] = weights.map((w) => ({ address: w.address, blsPublicKey: w.blsPublicKey }));
    // Today's set names the signers unless it changed since the block: then the set of that block is worked out and checked.
    const signers = signerIndices(certificate.signers);
    if (signers.some((i) => i >= votingSetList.length) || !verifyAggregateVote(this.deps.chainId, block.header.slot, certificate.blockHash, certificate.signature, signers.map((i) => (votingSetList[i] as Voter).blsPublicKey))) {
      const then = pastVotingSet(ledger, store, at.height, certificate, this.deps.chainId);
      if (then === null) throw new ReadError("PROOF_UNAVAILABLE", `the validator set changed since block ${at.height} in a way this node cannot retrace: it cannot name its signers`);
      votingSetList = then;
    }
    return {
      chainId: this.deps.chainId, tx, senderPublicKey,
      inclusion: merkleProof(block.txs.map((t) => t.bytes), at.position), header: block.header, certificate, votingSet: votingSetList,
    };
  }

}
