import { bytesEqual, toHex } from "../bytes.js";
import { type Block, encodeBlock, txRootOf } from "../block/block.js";
import { type NotarizationCertificate, signerIndices } from "../block/certificate.js";
import { blockHash } from "../block/header.js";
import { sha256 } from "../crypto/hash.js";
import type { SparseMerkleTree } from "../merkle/sparse.js";
import { txHash } from "../tx/codec.js";
import { applyTx } from "./transaction.js";
import type { TxContext } from "./context.js";
import { BlockError, TxError } from "./errors.js";
import { tallyFederationProposals } from "./federation.js";
import { enactScheduledChanges, tallyProposals } from "./governance.js";
import { Ledger } from "./ledger.js";
import { isActiveValidator, validatorStake } from "./records.js";
import { admitPendingAtEpochStart, isMember, type SetMember, votingSet } from "./validators.js";
import { payValidator } from "./rewards.js";
import { releaseUnbonding } from "./staking.js";
import type { StateChange, StateStore } from "./store.js";

/** What a block builds on: the previous block's identity and timing. */
export interface ParentInfo {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly slot: number;
  readonly timestamp: number;
}

export interface TransitionOptions {
  readonly chainId: string;
  readonly verifiedSignatures?: TxContext["verifiedSignatures"];
}

export interface AppliedBlock {
  readonly hash: Uint8Array;
  readonly changes: StateChange[];
  readonly tree: SparseMerkleTree;
  readonly stateRoot: Uint8Array;
  readonly txHashes: Uint8Array[];
  readonly passedProposals: number[];
  readonly burned: bigint;
}

export interface BlockEffects {
  readonly changes: StateChange[];
  readonly tree: SparseMerkleTree;
  readonly txHashes: Uint8Array[];
  readonly passedProposals: number[];
  readonly burned: bigint;
}

/** The header fields the state transition depends on. */
export interface BlockContext {
  readonly height: number;
  readonly slot: number;
  readonly proposer: Uint8Array;
  readonly randaoReveal: Uint8Array;
  /** Certificate for the parent block (height − 1), or null. */
  readonly certificate: NotarizationCertificate | null;
}

/** The parent's voters named by a certificate, in the parent's voting set. */
function certificateVoters(ledger: Ledger, block: BlockContext): { set: SetMember[]; voters: SetMember[] } {
  const set = votingSet(ledger, block.height - 1);
  const cert = block.certificate;
  if (cert === null) return { set, voters: [] };
  if (cert.height !== block.height - 1) throw new BlockError("CERTIFICATE_MISMATCH", `certificate is for height ${cert.height}, not the parent's ${block.height - 1}`);
  const indices = signerIndices(cert.signers);
  if (indices.some((i) => i >= set.length)) throw new BlockError("CERTIFICATE_MISMATCH", `certificate names signers beyond the ${set.length} validators`);
  return { set, voters: indices.map((i) => set[i] as SetMember) };
}

/** Exponential moving average toward 100% for voters in the certificate and toward 0 for the rest. */
function updateProximity(ledger: Ledger, set: readonly SetMember[], voters: readonly SetMember[], window: bigint): void {
  const included = new Set(voters.map((v) => toHex(v.address)));
  const w = Number(window);
  for (const member of set) {
    const v = ledger.validator(member.address);
    if (v === null) continue;
    const target = included.has(toHex(member.address)) ? 10_000 : 0;
    const step = (target - v.proximityBps) / w;
    const proximityBps = v.proximityBps + (step >= 0 ? Math.floor(step) : -Math.ceil(-step));
    if (proximityBps !== v.proximityBps) ledger.putValidator(member.address, { ...v, proximityBps });
  }
}

/**
 * Reward and fees: with a certificate, the proposer keeps `proposerShareBps` and the parent's voters
 * share the rest by stake (equally on a poa chain); without one, the proposer takes all. Remainders go to the proposer.
 */
function payRewards(ledger: Ledger, proposer: Uint8Array, voters: readonly SetMember[], total: bigint, proposerShareBps: bigint): void {
  let paid = 0n;
  if (voters.length > 0) {
    const pool = (total * (10_000n - proposerShareBps)) / 10_000n;
    // On a poa chain voters share equally, as they weigh.
    const equal = ledger.consensusMode() === "poa";
    const stakes = voters.map((v) => (equal ? 1n : validatorStake(v.validator)));
    const stakeSum = stakes.reduce((a, b) => a + b, 0n);
    if (stakeSum > 0n) {
      voters.forEach((v, i) => {
        const share = (pool * (stakes[i] as bigint)) / stakeSum;
        payValidator(ledger, v.address, share);
        paid += share;
      });
    }
  }
  payValidator(ledger, proposer, total - paid);
}

/**
 * Run a block's transactions and its end-of-block work (releases, rewards, proximity, randao,
 * governance) over the committed state, without committing. Any invalid transaction makes the
 * whole block invalid.
 */
export function executeBlock(store: StateStore, block: BlockContext, txs: Block["txs"], opts: TransitionOptions): BlockEffects {
  const ledger = new Ledger(store);
  const params = ledger.params();
  const { height, proposer } = block;
  const proposerRecord = ledger.validator(proposer);
  // A validator waiting for its epoch (or a poa candidate) has a record but no seat yet.
  if (proposerRecord === null || !isActiveValidator(proposerRecord) || !isMember(ledger, proposer)) {
    throw new BlockError("PROPOSER_NOT_VALIDATOR", "the proposer is not an active member of the voting set");
  }
  const { set, voters } = certificateVoters(ledger, block);
  // Before the transactions: one registered in this very block waits for the epoch after.
  admitPendingAtEpochStart(ledger, height, params.epochLength);
  const ctx: TxContext = { chainId: opts.chainId, height, slot: block.slot, params, verifiedSignatures: opts.verifiedSignatures };
  const seen = new Set<string>();
  const hashes: Uint8Array[] = [];
  let fees = 0n;
  let burned = 0n;
  txs.forEach((t, i) => {
    const h = txHash(t.bytes);
    const id = toHex(h);
    if (seen.has(id)) throw new BlockError("DUPLICATE_TX", `transaction ${i} appears twice`, i);
    seen.add(id);
    hashes.push(h);
    try {
      const outcome = applyTx(ledger, t, ctx);
      fees += outcome.fee;
      burned += outcome.burned;
    } catch (e) {
      if (e instanceof TxError) throw new BlockError("INVALID_TX", `transaction ${i}: ${e.code}: ${e.message}`, i, e);
      throw e;
    }
  });
  releaseUnbonding(ledger, height);
  payRewards(ledger, proposer, voters, params.blockReward + fees, params.proposerShareBps);
  if (block.certificate !== null) updateProximity(ledger, set, voters, params.proximityWindow);
  const meta = ledger.meta();
  ledger.putMeta({ ...meta, height, totalSupply: meta.totalSupply + params.blockReward, randaoMix: sha256(meta.randaoMix, sha256(block.randaoReveal)) });
  const passedProposals = tallyProposals(ledger, height);
  tallyFederationProposals(ledger, ctx);
  enactScheduledChanges(ledger, height);
  const changes = ledger.view.changes();
  return { changes, tree: store.preview(changes), txHashes: hashes, passedProposals, burned };
}

/** Full validation of a block against its parent and the committed state. */
export function applyBlock(store: StateStore, block: Block, parent: ParentInfo, opts: TransitionOptions): AppliedBlock {
  const h = block.header;
  if (h.height !== parent.height + 1) throw new BlockError("HEIGHT_MISMATCH", `expected height ${parent.height + 1}, got ${h.height}`);
  if (!bytesEqual(h.parentHash, parent.hash)) throw new BlockError("PARENT_MISMATCH", "parent hash does not match the chain tip");
  if (h.slot <= parent.slot) throw new BlockError("SLOT_NOT_INCREASING", `slot ${h.slot} is not after ${parent.slot}`);
  if (h.timestamp < parent.timestamp) throw new BlockError("TIMESTAMP_DECREASING", "timestamp is before the parent's");
  const params = new Ledger(store).params();
  if (BigInt(block.txs.length) > params.maxBlockTxs) throw new BlockError("TOO_MANY_TXS", `${block.txs.length} transactions exceed ${params.maxBlockTxs}`);
  const size = encodeBlock(block).length;
  if (BigInt(size) > params.maxBlockBytes) throw new BlockError("TOO_LARGE", `block of ${size} bytes exceeds ${params.maxBlockBytes}`);
  if (!bytesEqual(txRootOf(block.txs), h.txRoot)) throw new BlockError("TX_ROOT_MISMATCH", "transaction root does not match the body");
  if (h.certificate !== null && !bytesEqual(h.certificate.blockHash, h.parentHash)) {
    throw new BlockError("CERTIFICATE_MISMATCH", "the certificate is not for the parent block");
  }
  const effects = executeBlock(store, h, block.txs, opts);
  if (!bytesEqual(effects.tree.root, h.stateRoot)) throw new BlockError("STATE_ROOT_MISMATCH", "state root does not match the result of the block");
  return { ...effects, hash: blockHash(h), stateRoot: effects.tree.root };
}
