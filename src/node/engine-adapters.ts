import type { Mempool, SenderGap } from "../consensus/engine.js";
import type { DecodedTx } from "../core/tx/codec.js";
import { MempoolError, type NonceAt, type TxPool } from "./mempool.js";

/** The engine's mempool interface over the pool: gossip of an unacceptable transaction is dropped, not thrown. */
export class PoolAdapter implements Mempool {
  constructor(readonly pool: TxPool) {}
  candidates(atHead?: NonceAt): DecodedTx[] {
    return this.pool.candidates(atHead);
  }
  get perSenderPerBlock(): number {
    return this.pool.perSenderPerBlock;
  }
  missingNonces(atHead?: NonceAt): readonly SenderGap[] {
    return this.pool.missingNonces(atHead);
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

