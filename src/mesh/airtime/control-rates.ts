import { meshtasticFrameAirtimeMs } from "./airtime.js";
import type { LoraModulation } from "./presets.js";
import { DEFAULT_AIRTIME_POLICY } from "./scheduler.js";

/*
 * How often a node may speak for control's sake (status, hello), from the preset and the slot, so
 * that control stays within its share of the airtime budget. One home for these rates: the node's
 * announcer, the consensus engine's chain status and the devnet all read them from here.
 */

/** Frame bytes of a hello (docs/protocol.md) and of a chain status with its witness and a three-byte head slot (consensus/wire.ts). */
const CHAIN_STATUS_FRAME_BYTES = 75;
const HELLO_FRAME_BYTES = 127;
/**
 * Transmissions per flood of one frame: the origin's and, on average, one relay (managed flooding
 * cancels the rest when the first relay is heard).
 */
const TRANSMISSIONS_PER_FLOOD = 2;
/**
 * Status rounds get half of control's share: the other half pays for what comes when it comes (the
 * hello at start, answers to newcomers, gap and fragment requests). With the whole share each, the
 * rounds and the hellos were twice control's 2% between them (issue 20, docs/benchmarks.md sixth round).
 */
const ROUND_SHARE_OF_CONTROL = 0.5;
/** Statuses never come closer than this many slots (docs/consensus.md §8). */
const MIN_STATUS_SLOTS = 6;
/**
 * A node speaks at least every 3 h whatever it hears. Peers forget a node silent for 8 h
 * (node/peers.ts): more than two rounds at their longest (3 h + 25% jitter), so one round lost at a
 * peer does not make it forget us.
 */
const MAX_SILENCE_MS = 3 * 3_600_000;

export interface ControlRates {
  /** Between one node's status rounds on the radio (its hello and its chain status): whole slots. */
  readonly statusIntervalMs: number;
  /**
   * A node whose peers' statuses already said what its own would (same finalized height, same head)
   * skips its round, but not for longer than this.
   */
  readonly maxStatusSilenceMs: number;
  /** Between two hellos of one node outside its rounds (a flapping link, newcomers to answer). */
  readonly helloMinIntervalMs: number;
}

export interface ControlBudget {
  /** The node's airtime budget, seconds an hour (the scheduler's). */
  readonly budgetSecondsPerHour: number;
  /** Control's share of it. */
  readonly controlShare: number;
}

/**
 * The rates for a preset and a slot length: a status round at most as often as half of control's
 * share of the budget pays for, in whole slots, never under six slots and never over two hours. On a
 * radio the round's signed announcement is a hello (node/status-ticker.ts): it refreshes what peers
 * know of us as a status would and introduces us to any that missed our key, so that no one has to
 * ask. LongFast, 180 s slots: a round every 53 slots (159 min).
 */
export function controlRates(modulation: LoraModulation, slotMs: number, budget: ControlBudget = DEFAULT_AIRTIME_POLICY): ControlRates {
  if (!(slotMs > 0)) throw new RangeError(`slot length must be positive, not ${slotMs}`);
  if (!(budget.budgetSecondsPerHour > 0 && budget.controlShare > 0 && budget.controlShare <= 1)) throw new RangeError("control budget must be positive");
  const roundMsPerHour = budget.budgetSecondsPerHour * 1000 * budget.controlShare * ROUND_SHARE_OF_CONTROL;
  const affordable = (3_600_000 * statusRoundAirtimeMs(modulation)) / roundMsPerHour;
  const slots = Math.max(MIN_STATUS_SLOTS, Math.ceil(affordable / slotMs));
  const statusIntervalMs = Math.min(slots * slotMs, Math.max(MAX_SILENCE_MS, MIN_STATUS_SLOTS * slotMs));
  return { statusIntervalMs, maxStatusSilenceMs: Math.max(statusIntervalMs, MAX_SILENCE_MS), helloMinIntervalMs: helloMinIntervalMs(modulation, budget) };
}

/** Airtime of one status round on the channel: a hello and a chain status, each flooded. */
export function statusRoundAirtimeMs(modulation: LoraModulation): number {
  return TRANSMISSIONS_PER_FLOOD * (meshtasticFrameAirtimeMs(modulation, HELLO_FRAME_BYTES) + meshtasticFrameAirtimeMs(modulation, CHAIN_STATUS_FRAME_BYTES));
}

/**
 * The window a hello at start (and an answer) goes out in after a random pause: a hundred hellos'
 * airtime, at least 10 s (LongFast: 138 s), so that nodes powered together do not collide.
 */
export function helloSpreadMs(modulation: LoraModulation): number {
  return Math.max(10_000, Math.ceil(100 * meshtasticFrameAirtimeMs(modulation, HELLO_FRAME_BYTES)));
}

/** A flooded hello at most as often as control's share pays for, and never more than once a minute. LongFast: every 46 min. */
export function helloMinIntervalMs(modulation: LoraModulation, budget: ControlBudget = DEFAULT_AIRTIME_POLICY): number {
  const helloMs = TRANSMISSIONS_PER_FLOOD * meshtasticFrameAirtimeMs(modulation, HELLO_FRAME_BYTES);
  return Math.max(60_000, Math.ceil((3_600_000 * helloMs) / (budget.budgetSecondsPerHour * 1000 * budget.controlShare)));
}

/**
 * When a node's status round is due, and whether to skip it: rounds come every status interval
 * (jittered ±25%, the first one anywhere in the first interval, so nodes started together do not
 * speak together, or, for a node that has just said it all in its hello at start, one to one and a
 * quarter intervals away), and a round is skipped when a peer's status heard since the last decision said
 * what ours would, unless the node has been silent for the longest allowed.
 */
export class StatusSuppression {
  private nextDueAt: number;
  private lastSentAt: number;
  private echoed = false;
  /** Rounds skipped because a peer had said the same (a counter for diagnosis). */
  suppressed = 0;

  constructor(
    private readonly rates: ControlRates,
    private readonly random: () => number,
    now: number,
    first: "spread" | "after-interval" = "spread",
  ) {
    // After a hello at start (a flood like a round's, without its chain status) the next round is a
    // whole interval away at least: up to a quarter more spreads the nodes started together, and the
    // latest first round is no later than a jittered one (peers' memory counts on 1.25 intervals).
    this.nextDueAt = now + Math.floor(rates.statusIntervalMs * (first === "spread" ? random() : 1 + 0.25 * random()));
    this.lastSentAt = now;
  }

  /** A peer's status: `same` when it names our finalized height and our head. */
  heard(same: boolean): void {
    if (same) this.echoed = true;
  }

  /** Milliseconds until the next decision. */
  msUntilDue(now: number): number {
    return Math.max(0, this.nextDueAt - now);
  }

  /** Decide at `now`: false before the round is due or when it is skipped; true counts as sending. */
  shouldSend(now: number): boolean {
    if (now < this.nextDueAt) return false;
    this.nextDueAt = now + Math.floor(this.rates.statusIntervalMs * (0.75 + 0.5 * this.random()));
    const echoed = this.echoed;
    this.echoed = false;
    if (echoed && now - this.lastSentAt < this.rates.maxStatusSilenceMs) {
      this.suppressed++;
      return false;
    }
    this.lastSentAt = now;
    return true;
  }
}
