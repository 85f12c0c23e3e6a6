import { bytesEqual, toHex } from "../bytes.js";
import { type Block, encodeBlock, txRootOf } from "../block/block.js";
import { blockHash } from "../block/header.js";
import type { SparseMerkleTree } from "../merkle/sparse.js";
import { txHash } from "../tx/codec.js";
import { applyTx } from "./transaction.js";
import type { TxContext } from "./context.js";
import { BlockError, TxError } from "./errors.js";
import { tallyProposals } from "./governance.js";
import { Ledger } from "./ledger.js";
import { isActiveValidator } from "./records.js";
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

/**
 * Run a block's transactions and its end-of-block work (releases, rewards, governance) over the
 * committed state, without committing. Any invalid transaction makes the whole block invalid.
 */
export function executeBlock(store: StateStore, height: number, proposer: Uint8Array, txs: Block["txs"], opts: TransitionOptions): BlockEffects {
  const ledger = new Ledger(store);
  const params = ledger.params();
  const proposerRecord = ledger.validator(proposer);
  if (proposerRecord === null || !isActiveValidator(proposerRecord, height)) {
    throw new BlockError("PROPOSER_NOT_VALIDATOR", "the proposer is not an active validator");
  }
  const ctx: TxContext = { chainId: opts.chainId, height, params, verifiedSignatures: opts.verifiedSignatures };
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
  payValidator(ledger, proposer, params.blockReward + fees);
  const meta = ledger.meta();
  ledger.putMeta({ ...meta, height, totalSupply: meta.totalSupply + params.blockReward });
  const passedProposals = tallyProposals(ledger, height);
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
  const effects = executeBlock(store, h.height, h.proposer, block.txs, opts);
  if (!bytesEqual(effects.tree.root, h.stateRoot)) throw new BlockError("STATE_ROOT_MISMATCH", "state root does not match the result of the block");
  return { ...effects, hash: blockHash(h), stateRoot: effects.tree.root };
}
