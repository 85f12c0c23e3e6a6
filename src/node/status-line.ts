import type { NodeStatus } from "./node-report.js";

/** Seconds as the operator reads them: 42s, 7m, 3h, 2d. */
export function formatAge(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/**
 * One line for the operator, in the style of Lodestar's notifier: where sync stands, the head and
 * finalized heights with their age, peers, mempool, airtime used of this hour's budget, and the links.
 */
export function formatStatusLine(s: NodeStatus): string {
  const parts: string[] = [];
  if (s.sync.state === "synced") parts.push("Synced");
  else if (s.sync.state === "syncing") {
    const rate = s.sync.blocksPerSecond === null ? "" : ` ${s.sync.blocksPerSecond} blocks/s`;
    const eta = s.sync.etaSeconds === null ? "" : ` eta ${formatAge(s.sync.etaSeconds)}`;
    parts.push(`Syncing ${s.sync.percent}% of ${s.sync.targetHeight}${rate}${eta}`);
  } else parts.push(`Sync ${s.sync.state}`);
  parts.push(`head ${s.height} (${formatAge(s.lastBlockAgeSeconds)} ago)`);
  parts.push(`finalized ${s.finalizedHeight} (${formatAge(s.finality.ageSeconds)} ago)`);
  parts.push(`peers ${s.peers}`);
  parts.push(`mempool ${s.mempool.transactions}`);
  if (s.airtime !== null) parts.push(`airtime ${s.airtime.lastHourSeconds.toFixed(1)}/${s.airtime.budgetSecondsPerHour}s this hour`);
  if (s.links.radio !== null) parts.push(`radio ${s.links.radio}`);
  if (s.links.ip !== null && s.links.ip !== "connected") parts.push(`broker ${s.links.ip}`);
  const warnings = s.warnings.filter((w) => w.severity === "warn");
  if (warnings.length > 0) parts.push(`warnings ${warnings.map((w) => w.code).join(",")}`);
  return parts.join(" - ");
}

/**
 * Decides when the status line is worth a log record: whenever what it says (ages aside) changed, and
 * otherwise only every `quietEvery` intervals, so an idle node does not fill the journal with copies.
 */
export class StatusNotifier {
  private lastKey: string | null = null;
  private silentTicks = 0;

  constructor(private readonly quietEvery: number) {}

  /** The line to log at this tick, or null to stay quiet. */
  next(s: NodeStatus): string | null {
    const key = JSON.stringify([s.sync.state, s.sync.percent, s.height, s.finalizedHeight, s.peers, s.mempool.transactions, s.links, s.warnings.map((w) => w.code)]);
    if (key === this.lastKey && ++this.silentTicks < this.quietEvery) return null;
    this.lastKey = key;
    this.silentTicks = 0;
    return formatStatusLine(s);
  }
}
