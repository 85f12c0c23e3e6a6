import type { ConsensusMessage } from "../consensus/messages.js";
import type { Mempool, SenderGap } from "../consensus/engine.js";
import type { DecodedTx } from "../core/tx/codec.js";
import { Priority } from "../mesh/transport.js";
import { MempoolError, type TxPool } from "./mempool.js";

/** The engine's mempool interface over the pool: gossip of an unacceptable transaction is dropped, not thrown. */
export class PoolAdapter implements Mempool {
  constructor(readonly pool: TxPool) {}
  candidates(): DecodedTx[] {
    return this.pool.candidates();
  }
  get perSenderPerBlock(): number {
    return this.pool.perSenderPerBlock;
  }
  missingNonces(): readonly SenderGap[] {
    return this.pool.missingNonces();
  }
  pendingTx(sender: Uint8Array, nonce: number): DecodedTx | undefined {
    return this.pool.pendingTx(sender, nonce);
  }
  add(tx: DecodedTx): void {
    try {
      this.pool.add(tx);
    } catch (e) {
      if (!(e instanceof MempoolError)) throw e;
    }
  }
  removeFinal(ids: readonly string[]): void {
    this.pool.removeFinal(ids);
  }
}

/** How urgently each consensus message goes out (DESIGN.md §6): votes and proposals first. */
export const MESSAGE_PRIORITY: Record<ConsensusMessage["kind"], Priority> = {
  proposal: Priority.Consensus, "compact-proposal": Priority.Consensus, "get-txs": Priority.Sync, "block-txs": Priority.Sync, vote: Priority.Consensus, "vote-aggregate": Priority.Consensus, block: Priority.Consensus, tx: Priority.Transaction, "get-block": Priority.Sync, "get-nonces": Priority.Sync, "get-range": Priority.Sync, status: Priority.Control,
};
