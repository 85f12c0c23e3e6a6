import type { ChainParams } from "./params.js";

export interface TxContext {
  readonly chainId: string;
  /** Height of the block the transaction goes into. */
  readonly height: number;
  /** Slot of that block. */
  readonly slot: number;
  readonly params: ChainParams;
  /**
   * Transaction hashes (hex) whose signatures were already verified under this chain id, e.g. by
   * the mempool, so that block application does not verify them twice.
   */
  readonly verifiedSignatures?: { has(txHashHex: string): boolean };
}
