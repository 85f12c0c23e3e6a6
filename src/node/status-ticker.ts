import type { Clock } from "../core/clock.js";
import { type ControlRates, StatusSuppression } from "../mesh/airtime/control-rates.js";
import { MessageType } from "../mesh/frame.js";
import type { Logger } from "./logger.js";
import type { NodeNetwork } from "./network.js";
import type { NodeStatus } from "./node-report.js";
import { type HistorySample, StatusHistory } from "./status-history.js";
import { StatusNotifier } from "./status-line.js";

/** The status page plots the last hour. */
const HISTORY_WINDOW_MS = 3_600_000;
const HISTORY_MAX_SAMPLES = 720;
/** An unchanged status line is logged again only every this many intervals. */
const QUIET_STATUS_TICKS = 30;

export interface StatusTickerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
  readonly intervalMs: number;
  readonly status: () => NodeStatus;
  readonly network: () => NodeNetwork | null;
  /** The radio's control rates; null without a radio (the signed status then goes out every interval). */
  readonly controlRates: () => ControlRates | null;
}

/**
 * Every status interval: a sample for the status page's last hour, the operator's warnings as they
 * appear and clear, the status line when worth logging, and the signed status to peers.
 */
export class StatusTicker {
  private timer: unknown = null;
  private readonly history = new StatusHistory(HISTORY_WINDOW_MS, HISTORY_MAX_SAMPLES);
  private readonly notifier = new StatusNotifier(QUIET_STATUS_TICKS);
  private warned = new Set<string>();
  /** When the signed status goes on air (null: every status interval, as over IP alone). */
  private announceGate: StatusSuppression | null = null;

  constructor(private readonly deps: StatusTickerDeps) {}

  /** Samples of the last hour, one per status interval. */
  samples(): readonly HistorySample[] {
    return this.history.list();
  }

  start(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.tick();
      this.start();
    }, this.deps.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const { clock, logger } = this.deps;
    const s = this.deps.status();
    const network = this.deps.network();
    const radio = network?.diagnostics().radio ?? null;
    this.history.add({
      at: clock.now(), height: s.height, finalizedHeight: s.finalizedHeight, peers: s.peers, mempool: s.mempool.transactions,
      airtimeSecondsByClass: radio === null ? null : Object.fromEntries(Object.entries(radio.airtime.airtimeMsByClass).map(([k, ms]) => [k.toLowerCase(), ms / 1000])),
    });
    // Each warning is logged with its reason when it appears and once when it clears, not at every tick.
    for (const w of s.warnings) if (!this.warned.has(w.code)) logger[w.severity]({ warning: w.code }, w.reason);
    for (const code of this.warned) if (!s.warnings.some((w) => w.code === code)) logger.info({ warning: code }, "warning cleared");
    this.warned = new Set(s.warnings.map((w) => w.code));
    const line = this.notifier.next(s);
    if (line !== null) {
      logger.info({ status: { height: s.height, finalized: s.finalizedHeight, sync: s.sync.state, peers: s.peers, mempool: s.mempool.transactions, warnings: s.warnings.map((w) => w.code) } }, line);
    }
    // The status line is local and comes every status interval; the signed announcement costs airtime
    // when there is a radio, so it goes out at the preset's control rate (mesh/airtime/control-rates.ts).
    // There it is a hello, not a status: it says what a status would and also introduces us to whoever
    // missed our key, so that no one has to ask and every peer answer (docs/decisions.md "Hellos
    // instead of asks"). The first waits a whole interval: the hello at start has just said it all.
    const rates = this.deps.controlRates();
    if (rates === null) {
      void network?.announce(MessageType.Status);
      return;
    }
    this.announceGate ??= new StatusSuppression(rates, this.deps.random, clock.now(), "after-interval");
    if (this.announceGate.shouldSend(clock.now())) void network?.sayHello("round");
  }
}
