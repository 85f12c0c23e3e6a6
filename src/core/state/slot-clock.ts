import type { ChainParams } from "./params.js";

/**
 * The chain's slots on the wall clock: slot(t) = floor((t − genesisTime·1000) / slotMs) for t in
 * milliseconds (docs/consensus.md §1); slot 0 is genesis. The one place slot arithmetic is done: the
 * consensus engine, the lone validator's block producer and `meshchain status` all read it.
 *
 * `slotMs` is the chain's parameter at the state the caller reads it from; the clock does not
 * follow a change of it over time (slots would be renumbered), so it is made again from the state
 * whenever a caller needs it.
 */
export class SlotClock {
  private constructor(
    /** Unix seconds of genesis. */
    readonly genesisTime: number,
    readonly slotMs: number,
  ) {}

  /** From the genesis time and the chain's parameters (their `slotMs`). */
  static of(genesis: { readonly genesisTime: number }, params: Pick<ChainParams, "slotMs">): SlotClock {
    return SlotClock.withSlotMs(genesis.genesisTime, Number(params.slotMs));
  }

  /**
   * With a slot length other than the chain's: only a lone validator's producer at `node.slot_ms`
   * (docs/operations.md warns what that costs when the chain grows).
   */
  static withSlotMs(genesisTime: number, slotMs: number): SlotClock {
    if (!Number.isSafeInteger(genesisTime) || genesisTime < 0) throw new RangeError(`genesis time must be Unix seconds, not ${genesisTime}`);
    if (!Number.isSafeInteger(slotMs) || slotMs <= 0) throw new RangeError(`slot length must be a positive whole number of milliseconds, not ${slotMs}`);
    return new SlotClock(genesisTime, slotMs);
  }

  /** The slot at `ms` (negative before genesis: nothing can be proposed then). */
  slotAt(ms: number): number {
    return Math.floor((ms - this.genesisTime * 1000) / this.slotMs);
  }

  /** The slot at `ms`, counting any time before genesis as slot 0 (what status shows). */
  currentSlot(ms: number): number {
    return Math.max(0, this.slotAt(ms));
  }

  /** When `slot` starts, wall-clock milliseconds. */
  startOf(slot: number): number {
    return this.genesisTime * 1000 + slot * this.slotMs;
  }

  /** Milliseconds from `ms` until the next slot starts (always > 0). */
  untilNextSlot(ms: number): number {
    return this.startOf(this.slotAt(ms) + 1) - ms;
  }
}
