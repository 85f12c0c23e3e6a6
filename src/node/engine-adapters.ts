import type { Mempool, SenderGap } from "../consensus/engine.js";
import type { DecodedTx } from "../core/tx/codec.js";
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
  held(): DecodedTx[] {
    return this.pool.held();
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

