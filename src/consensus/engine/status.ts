import { bytesEqual, toHex } from "../../core/bytes.js";
import { StatusSuppression } from "../../mesh/airtime/control-rates.js";
import type { EngineContext } from "./context.js";
import type { StatusMessage } from "./types.js";

/**
 * Where this node stands (finalized height, head, the witness of its finality), announced every
 * statusEveryMs or, on the radio, at the rates control's airtime share allows; and a peer's status
 * that shows it ahead, answered by asking for its head (missing parents follow).
 */
export class ChainStatus {
  /** Status rounds on a radio channel (null: every statusEveryMs). */
  private gate: StatusSuppression | null = null;
  private timer: unknown = null;

  constructor(private readonly ctx: EngineContext) {}

  start(): void {
    const ctx = this.ctx;
    if (ctx.deps.controlRates !== undefined) this.gate ??= new StatusSuppression(ctx.deps.controlRates, ctx.random, ctx.now());
  }

  stop(): void {
    if (this.timer !== null) this.ctx.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  schedule(): void {
    const ctx = this.ctx;
    if (!ctx.running) return;
    const gate = this.gate;
    const every = gate !== null ? gate.msUntilDue(ctx.now()) : (ctx.deps.statusEveryMs ?? 6 * ctx.slotMs);
    this.timer = ctx.later(() => {
      const head = ctx.head();
      if (gate === null || gate.shouldSend(ctx.now())) {
        ctx.broadcast({ kind: "chain-status", finalizedHeight: ctx.root.height, headHeight: head.height, headHash: head.hash, witnessHash: ctx.witness?.hash ?? null });
      }
      this.schedule();
    }, every);
  }

  /** A peer is ahead of us: fetch its head (with its notarization); missing parents follow. */
  onStatus(m: StatusMessage): void {
    const ctx = this.ctx;
    const head = ctx.head();
    this.gate?.heard(m.finalizedHeight === ctx.root.height && bytesEqual(m.headHash, head.hash));
    if (m.finalizedHeight > ctx.root.height || m.headHeight > head.height) ctx.peerAheadAt = ctx.now();
    const known = ctx.blocks.get(toHex(m.headHash));
    const behind = m.headHeight > head.height || (known !== undefined && !known.notarized);
    if (behind && ctx.onceASlot(ctx.asked, toHex(m.headHash))) ctx.broadcast({ kind: "get-block", hash: m.headHash });
    if (m.finalizedHeight > ctx.root.height && m.witnessHash !== null && ctx.onceASlot(ctx.asked, toHex(m.witnessHash))) {
      ctx.broadcast({ kind: "get-block", hash: m.witnessHash });
    }
  }
}
