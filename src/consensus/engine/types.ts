import type { Clock } from "../../core/clock.js";
import type { NotarizedBlockStore } from "../../core/chain/notarized-blocks.js";
import type { SignerSafety } from "../../core/chain/signer-safety.js";
import type { Identity } from "../../core/crypto/identity.js";
import type { DecodedTx } from "../../core/tx/codec.js";
import type { ControlRates } from "../../mesh/airtime/control-rates.js";
import type { TreeBlock } from "../block-tree.js";
import type { ConsensusMessage, ConsensusNetwork } from "../messages.js";
import type { SenderGap } from "../nonce-gaps.js";
import type { BlsVerifier } from "../verifier.js";
import type { LinkProfile } from "./link-profile.js";

export type VoteMessage = Extract<ConsensusMessage, { kind: "vote" }>;
export type VoteAggregateMessage = Extract<ConsensusMessage, { kind: "vote-aggregate" }>;
export type StatusMessage = Extract<ConsensusMessage, { kind: "chain-status" }>;

export interface Mempool {
  /**
   * Transactions to offer a new block, best first; with `atHead`, each sender's from its next nonce
   * there (the block's parent, above finality), not from its finalized one.
   */
  candidates(atHead?: (sender: Uint8Array) => number): DecodedTx[];
  /** Most transactions of one sender `candidates` offers a block. */
  readonly perSenderPerBlock: number;
  /**
   * Per sender whose later transactions wait in the pool's nonce window: the nonces it lacks, lowest
   * first; with `atHead`, none below the sender's next nonce there (used by blocks above finality).
   */
  missingNonces(atHead?: (sender: Uint8Array) => number): readonly SenderGap[];
  /** The pending transaction of this sender and nonce, when the pool holds it. */
  pendingTx(sender: Uint8Array, nonce: number): DecodedTx | undefined;
  /**
   * Every transaction the pool holds, pending or waiting for its nonce, past the per-block quota
   * `candidates` keeps to: a node catching up rebuilds blocks that carry a sender's later nonces.
   */
  held?(): Iterable<DecodedTx>;
  add(tx: DecodedTx): void;
  /** Forget transactions that are now final. */
  removeFinal(txHashes: readonly string[]): void;
}

export interface EngineDeps {
  readonly clock: Clock;
  readonly identity: Identity;
  readonly signer: SignerSafety;
  readonly verifier: BlsVerifier;
  readonly network: ConsensusNetwork;
  readonly mempool: Mempool;
  /**
   * Told the blocks that became final, before the engine moves its finalized root: a typed error
   * thrown here (the store could not commit) leaves the root where it was, to be tried again.
   */
  readonly onFinalized?: (blocks: readonly TreeBlock[]) => void;
  /**
   * Where the notarized blocks above finality are kept across restarts (docs/consensus.md §7): written
   * before each signature, pruned with finality, read back through the block intake at start.
   */
  readonly notarized?: NotarizedBlockStore;
  /**
   * TESTS ONLY, never set by a node: the vote rule's lock never refuses (the signing record still
   * refuses a second block in a slot). The safety tests use it as a control, to show that their
   * scripted case produces conflicting finality when the lock is gone.
   */
  readonly unsafeDisableLockForTests?: boolean;
  /** How often to announce where this node stands (the node's status interval); default 6 slots. */
  readonly statusEveryMs?: number;
  /**
   * On a radio channel: status rounds at the rates control's airtime share allows for the preset
   * (mesh/airtime/control-rates.ts), skipped when a peer's status said the same; replaces statusEveryMs.
   */
  readonly controlRates?: ControlRates;
  /** Radio or IP: how requests are answered and blocks and votes relayed (link-profile.ts); default IP_LINK. */
  readonly link?: LinkProfile;
}

export interface EngineStats {
  proposed: number;
  voted: number;
  notarized: number;
  finalized: number;
  rejectedBlocks: number;
  evidenceFound: number;
  refusedBySignerSafety: number;
  /** Votes not cast because the block's parent lies below our lock (the two-slot rule; normal after a fork). */
  refusedByLock: number;
  compactRebuilt: number;
  compactTxRequests: number;
  /** Compact proposals whose held transactions made no signed block: every transaction asked for (a short-id collision, or a bad proposal). */
  compactRefetches: number;
  /** Transactions sent again because the chain passed them over (see OverlookedTxs). */
  txsResent: number;
  /** Own votes sent a second time in the middle of their slot (docs/consensus.md §8). */
  votesResent: number;
  /** …of which for a block notarized here (an answer to a node that said it is short, or a vote left out of recent certificates). */
  votesResentNotarized: number;
  /** Requests for transactions this node's pool waits on (see NonceGaps). */
  nonceRequests: number;
  /** Signatures not made because the signing record could not be written (a storage fault). */
  signingPaused: number;
  /** Finalized blocks whose commit failed; finality waits for the store (retryFinality). */
  commitFailures: number;
  /** Slots this engine has lived through. */
  slots: number;
  /** Slots in which this node was the first-ranked proposer. */
  ledSlots: number;
  /** Slots this node led without proposing: nothing to include, or a better block was already there. */
  ledSlotsSkipped: number;
  /** Other validators' votes added to a block (duplicates and unknown blocks not counted). */
  votesReceived: number;
  /** Own votes sent as one aggregate with others' votes this node held (vote-aggregation.ts). */
  aggregatesSent: number;
  /** Checked aggregates that brought votes this node did not hold. */
  aggregatesReceived: number;
  /** Aggregates that did not verify against the block's voting set: dropped, charged to no one. */
  badAggregates: number;
  /** Own votes (first copies or mid-slot copies) not sent because an aggregate heard already carried them. */
  votesCovered: number;
  /** Own votes not sent because one frame heard already carried a quorum for the block (its turn came after it). */
  votesWithheld: number;
  /** Turn frames sent to the direct neighbours only (hop limit 0): every other validator was heard directly. */
  votesToNeighbours: number;
  /** Own votes whose turn had passed when the block came here: sent at once, carrying less than the turn would have. */
  votesLate: number;
  /** Vote frames sent at a turn that carried a quorum (each goes mesh-wide; one a block is the floor). */
  voteQuorumFrames: number;
  /** Precommits made (a chain with finalityRule 1; docs/consensus.md, "Precommits"). */
  precommitted: number;
  /** Precommit frames sent (turns and mid-slot copies). */
  precommitsSent: number;
  /** Precommit turns not sent because one frame heard already carried a precommit quorum. */
  precommitsWithheld: number;
  /** Precommit frames (turns or copies) not sent because one aggregate heard already carried every precommit held here: nothing new. */
  precommitsCovered: number;
  /** Precommit frames sent (of precommitsSent) that carried a quorum. */
  precommitQuorumFrames: number;
  /** Precommit frames sent (of precommitsSent) at once, the notarization having come after this node's turn. */
  precommitsLate: number;
  /** Copies after the last turn sent (of precommitsSent): no quorum frame heard by then. */
  precommitCopies: number;
  /** …of which this node was already final by precommits (it had the quorum from several frames). */
  precommitCopiesWhenFinal: number;
  /** Blocks found final here by their precommits. */
  finalByPrecommit: number;
  /** Precommits sent again for a head left without finality and without a child (precommit-answers.ts). */
  precommitAsks: number;
  /** Precommit certificates sent to a node whose late short frame said it missed the quorum (precommit-answers.ts). */
  precommitAnswers: number;
}

/** The last vote heard from one validator (or cast by this node), for the operator. */
export interface LastVote {
  readonly slot: number;
  readonly height: number;
  /** Local clock time when it was heard, ms. */
  readonly heardAtMs: number;
}

export function emptyStats(): EngineStats {
  return { proposed: 0, voted: 0, notarized: 0, finalized: 0, rejectedBlocks: 0, evidenceFound: 0, refusedBySignerSafety: 0, refusedByLock: 0, compactRebuilt: 0, compactTxRequests: 0, compactRefetches: 0, txsResent: 0, votesResent: 0, votesResentNotarized: 0, nonceRequests: 0, signingPaused: 0, commitFailures: 0, slots: 0, ledSlots: 0, ledSlotsSkipped: 0, votesReceived: 0, aggregatesSent: 0, aggregatesReceived: 0, badAggregates: 0, votesCovered: 0, votesWithheld: 0, votesToNeighbours: 0, votesLate: 0, voteQuorumFrames: 0, precommitted: 0, precommitsSent: 0, precommitsWithheld: 0, precommitsCovered: 0, precommitQuorumFrames: 0, precommitsLate: 0, precommitCopies: 0, precommitCopiesWhenFinal: 0, finalByPrecommit: 0, precommitAsks: 0, precommitAnswers: 0 };
}
