import type { Mempool, SenderGap } from "../consensus/engine.js";
import { toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { type DecodedTx, txHash } from "../core/tx/codec.js";
import type { AirWait } from "./air-wait.js";
import { MempoolError, type TxPool } from "./mempool.js";

/** The engine's mempool interface over the pool: gossip of an unacceptable transaction is dropped, not thrown. */
export class PoolAdapter implements Mempool {
  constructor(
    readonly pool: TxPool,
    /** Our users' transactions not on air yet, left out of our blocks (air-wait.ts); absent: none held. */
    private readonly air?: { readonly wait: AirWait; readonly clock: Clock },
  ) {}
  candidates(): DecodedTx[] {
    const all = this.pool.candidates();
    const air = this.air;
    if (air === undefined || air.wait.size === 0) return all;
    const now = air.clock.now();
    return all.filter((t) => !air.wait.waiting(toHex(txHash(t.bytes)), now));
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

