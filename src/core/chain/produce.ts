import { type Block, txRootOf } from "../block/block.js";
import type { NotarizationCertificate } from "../block/certificate.js";
import { blockHash, type UnsignedHeader } from "../block/header.js";
import { BLOCK_VERSION } from "../block/limits.js";
import { signRandao, signVote } from "../block/vote.js";
import type { BlsKeyPair } from "../crypto/bls.js";
import type { DecodedTx } from "../tx/codec.js";
import { type AppliedBlock, executeBlock, type ParentInfo, type TransitionOptions } from "../state/block-transition.js";
import { TxError } from "../state/errors.js";
import { Ledger } from "../state/ledger.js";
import type { StateStore } from "../state/store.js";
import { applyTx } from "../state/transaction.js";

export interface ProposerKeys {
  readonly address: Uint8Array;
  readonly bls: BlsKeyPair;
}

export interface ProduceRequest extends TransitionOptions {
  readonly parent: ParentInfo;
  readonly slot: number;
  /** Unix seconds; never before the parent's. */
  readonly timestamp: number;
  /** In order of preference; those that do not apply are left out and reported. */
  readonly candidates: readonly DecodedTx[];
  readonly certificate: NotarizationCertificate | null;
  readonly proposer: ProposerKeys;
}

export interface ProducedBlock {
  readonly block: Block;
  readonly applied: AppliedBlock;
  readonly rejected: readonly { readonly tx: DecodedTx; readonly error: TxError }[];
}

/** Header overhead budgeted when filling a block, so the encoded block stays within maxBlockBytes. */
const HEADER_ALLOWANCE = 320;

/** Select the candidates that apply in order, within the block limits, then build and sign the block. */
export function produceBlock(store: StateStore, req: ProduceRequest): ProducedBlock {
  const height = req.parent.height + 1;
  const trial = new Ledger(store);
  const params = trial.params();
  const ctx = { chainId: req.chainId, height, slot: req.slot, params, verifiedSignatures: req.verifiedSignatures };
  const chosen: DecodedTx[] = [];
  const rejected: { tx: DecodedTx; error: TxError }[] = [];
  let bytes = HEADER_ALLOWANCE;
  for (const tx of req.candidates) {
    if (BigInt(chosen.length) >= params.maxBlockTxs) break;
    if (BigInt(bytes + tx.bytes.length + 3) > params.maxBlockBytes) continue;
    try {
      applyTx(trial, tx, ctx);
      chosen.push(tx);
      bytes += tx.bytes.length + 3;
    } catch (e) {
      if (!(e instanceof TxError)) throw e;
      rejected.push({ tx, error: e });
    }
  }
  const randaoReveal = signRandao(req.chainId, req.slot, req.proposer.bls);
  const effects = executeBlock(store, { height, slot: req.slot, proposer: req.proposer.address, randaoReveal, certificate: req.certificate }, chosen, req);
  const unsigned: UnsignedHeader = {
    version: BLOCK_VERSION,
    height,
    slot: req.slot,
    timestamp: Math.max(req.timestamp, req.parent.timestamp),
    parentHash: req.parent.hash,
    txRoot: txRootOf(chosen),
    stateRoot: effects.tree.root,
    proposer: req.proposer.address,
    randaoReveal,
    certificate: req.certificate,
  };
  const hash = blockHash(unsigned);
  const block: Block = { header: { ...unsigned, signature: signVote(req.chainId, req.slot, hash, req.proposer.bls) }, txs: chosen };
  return { block, applied: { ...effects, hash, stateRoot: effects.tree.root }, rejected };
}
