import type { Block } from "../core/block/block.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import type { DecodedTx } from "../core/tx/codec.js";
import type { CompactBlock } from "../mesh/messages/relay.js";

/** What consensus engines say to each other (carried by the mesh as frames; by the harness in simulations). */
export type ConsensusMessage =
  | { readonly kind: "proposal"; readonly block: Block }
  /** A proposal as it goes on air: receivers rebuild it from the transactions they hold. */
  | { readonly kind: "compact-proposal"; readonly compact: CompactBlock }
  /** Transactions a compact proposal named that this node lacks, by position; answered with tx messages. */
  | { readonly kind: "get-txs"; readonly slot: number; readonly blockRef: Uint8Array; readonly indexes: readonly number[] }
  /** The answer to get-txs. */
  | { readonly kind: "block-txs"; readonly slot: number; readonly blockRef: Uint8Array; readonly txs: readonly DecodedTx[] }
  /** A vote names its block by hash and height; the slot it signs is the block's. */
  | { readonly kind: "vote"; readonly height: number; readonly blockHash: Uint8Array; readonly voter: number; readonly signature: Uint8Array }
  /** Several validators' votes for one block in one frame: the block by height and hash prefix, who signed (bitmap), their BLS aggregate (vote-aggregation.ts). */
  | { readonly kind: "vote-aggregate"; readonly height: number; readonly blockRef: Uint8Array; readonly signers: Uint8Array; readonly signature: Uint8Array }
  /** Precommits for one notarized block (docs/consensus.md, "Precommits"), carried like a vote aggregate: same fields, the Precommit signing kind. */
  | { readonly kind: "precommit-aggregate"; readonly height: number; readonly blockRef: Uint8Array; readonly signers: Uint8Array; readonly signature: Uint8Array }
  | { readonly kind: "get-block"; readonly hash: Uint8Array }
  /** A sender's transactions a pool waits on (later nonces arrived, these did not); answered with tx messages. */
  | { readonly kind: "get-nonces"; readonly sender: Uint8Array; readonly nonces: readonly number[] }
  /** Radio catch-up: consecutive blocks by height, answered one compact block each. */
  | { readonly kind: "get-range"; readonly fromHeight: number; readonly count: number }
  | { readonly kind: "certified-block"; readonly block: Block; readonly certificate: NotarizationCertificate | null }
  | { readonly kind: "tx"; readonly tx: DecodedTx }
  /** Where a node stands: lets a peer that missed votes or blocks notice and catch up. */
  | {
      readonly kind: "chain-status";
      readonly finalizedHeight: number;
      readonly headHeight: number;
      /** The head's slot: what the fork choice ranks heads by (a claim, checked only by fetching the head). */
      readonly headSlot: number;
      readonly headHash: Uint8Array;
      /** The notarized block that completed our latest finality triple: fetching it lets a peer finalize too. */
      readonly witnessHash: Uint8Array | null;
    };

/**
 * How far a message should travel on a radio mesh: "neighbours", only the radios in direct range
 * hear it (hop limit 0, never relayed); "mesh", as far as the configured hop limit floods it (the
 * default). It changes no content and no timing, only the relays: links without relays ignore it.
 */
export type Reach = "neighbours" | "mesh";

export interface ConsensusNetwork {
  broadcast(message: ConsensusMessage, reach?: Reach): void;
  /**
   * Whether every one of these validators (by address) was heard directly, at 0 hops, recently: a
   * frame meant for them alone need not be relayed. A frame's sender and hop count are unsigned, so
   * the answer only ever chooses how far our own frames travel. Absent: never (frames go mesh-wide).
   */
  heardDirectly?(validators: readonly Uint8Array[]): boolean;
}
