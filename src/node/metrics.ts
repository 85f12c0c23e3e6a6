import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EngineStats } from "../consensus/engine.js";
import type { NetworkDiagnostics } from "./network.js";
import type { NodeStatus } from "./node-report.js";
import { WARNING_CODES } from "./warnings.js";

/**
 * Where the figures come from. Each part keeps its own plain counters where it produces them (the
 * engine's EngineStats, the scheduler's SchedulerStats, a link's LinkStats, the reassembler's
 * ReassemblyStats, the peer manager's bans); this file only maps them to Prometheus families when
 * scraped, so consensus/, mesh/ and core/ stay free of any metrics library.
 */
export interface MetricsSources {
  status(): NodeStatus;
  weightGini(): number;
  /** Null while the node runs no consensus engine. */
  engineStats(): Readonly<EngineStats> | null;
  network(): NetworkDiagnostics | null;
  peerStates(): { readonly active: number; readonly banned: number };
  bansByReason(): ReadonlyMap<string, number>;
  /** The pool's refusals since start, by reason (NONCE_GAP: held aside, not refused). */
  mempoolRefusals(): ReadonlyMap<string, number>;
  /** Range sync's rate while it runs, blocks per second; null when not measured. */
  syncRateBlocksPerSecond(): number | null;
}

const SYNC_STATES = ["idle", "syncing", "synced", "behind", "error"] as const;
/** MQTT link states, then the stream radio's own (new, waiting to reconnect, stopped). */
const LINK_STATES = ["idle", "connecting", "connected", "disconnected", "closed", "new", "waiting", "stopped"] as const;
const AIRTIME_CLASSES = ["Consensus", "Transaction", "Sync", "Control"] as const;

/**
 * A Prometheus counter that follows a component's running total. A component started again (the
 * engine after a fallback to sync) begins at zero: its whole new total is added, so the exported
 * counter never goes down.
 */
class CounterMirror<L extends string> {
  private readonly last = new Map<string, number>();
  constructor(readonly counter: Counter<L>) {}
  set(labels: Partial<Record<L, string>>, total: number): void {
    const key = JSON.stringify(labels);
    const before = this.last.get(key) ?? 0;
    const delta = total >= before ? total - before : total;
    this.last.set(key, total);
    if (delta > 0) this.counter.inc(labels, delta);
    else this.counter.inc(labels, 0);
  }
}

/** One node's metrics registry: created per node (no global registry), scraped by GET /metrics. */
export class NodeMetrics {
  readonly registry: Registry;
  private sources: MetricsSources | null = null;
  private loopDelay: IntervalHistogram | null = null;
  private readonly commitSeconds: Histogram;
  private readonly importSeconds: Counter;
  /** Seconds range sync's import pipeline spent in each step, summed (also exported as a counter). */
  readonly importStepSeconds = new Map<string, number>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    const gauge = (name: string, help: string, read: (s: MetricsSources, g: Gauge) => void, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers: r, collect: function (this: Gauge) { const s = self.sources; if (s !== null) read(s, this); } });
    const mirror = (name: string, help: string, labelNames: string[] = []) => new CounterMirror(new Counter({ name, help, labelNames, registers: r }));
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect with the metric as `this`
    const self = this;
    // One status per scrape: every gauge reads the same moment, and the node computes it once.
    const status = (s: MetricsSources) => (this.scrapeStatus ??= s.status());

    gauge("meshchain_head_height_blocks", "height of the chain tip", (s, g) => g.set(status(s).height));
    gauge("meshchain_finalized_height_blocks", "height of the last finalized block", (s, g) => g.set(status(s).finalizedHeight));
    gauge("meshchain_last_block_age_seconds", "time since the tip's timestamp", (s, g) => g.set(status(s).lastBlockAgeSeconds));
    gauge("meshchain_finality_lag_blocks", "blocks between the head and the last finalized block", (s, g) => g.set(status(s).finality.lagBlocks));
    gauge("meshchain_finality_lag_seconds", "time since the last finalized block was made", (s, g) => g.set(status(s).finality.ageSeconds));
    gauge("meshchain_peers", "peers heard from recently", (s, g) => g.set(status(s).peers));
    gauge("meshchain_peers_by_state", "known peers by state", (s, g) => {
      const p = s.peerStates();
      g.set({ state: "active" }, p.active);
      g.set({ state: "banned" }, p.banned);
    }, ["state"]);
    gauge("meshchain_mempool_transactions", "transactions waiting in the mempool", (s, g) => g.set(status(s).mempool.transactions));
    gauge("meshchain_mempool_size_bytes", "encoded size of the mempool", (s, g) => g.set(status(s).mempool.bytes));
    gauge("meshchain_sync_progress_ratio", "how far sync has come, 0 to 1", (s, g) => g.set(status(s).sync.percent / 100));
    gauge("meshchain_sync_target_height_blocks", "highest finalized height peers announced", (s, g) => g.set(status(s).sync.targetHeight));
    gauge("meshchain_sync_state_code", `sync state: ${SYNC_STATES.map((x, i) => `${i}=${x}`).join(", ")}`, (s, g) => g.set(SYNC_STATES.indexOf(status(s).sync.state)));
    gauge("meshchain_sync_rate_blocks_per_second", "range sync's measured rate (0 when not syncing)", (s, g) => g.set(s.syncRateBlocksPerSecond() ?? 0));
    gauge("meshchain_validator_weight_gini_ratio", "Gini coefficient of validator weights, 0 (equal) to 1", (s, g) => g.set(s.weightGini()));
    gauge("meshchain_airtime_last_hour_seconds", "own radio airtime in the last hour", (s, g) => g.set(status(s).airtimeSeconds ?? 0));
    gauge("meshchain_uptime_seconds", "time since the node started", (s, g) => g.set(status(s).uptimeSeconds));
    gauge("meshchain_ready_code", "1 when synced, reaching a peer link and storing blocks (see /ready for why not)", (s, g) => g.set(status(s).ready.ok ? 1 : 0));
    gauge("meshchain_storage_fault_active", "1 while a store fails its writes (production and signing paused)", (s, g) => g.set(status(s).storage.fault === null ? 0 : 1));
    const storageFaults = mirror("meshchain_storage_faults_total", "times a store started failing its writes");
    gauge("meshchain_accepted_pending_transactions", "transactions this node acknowledged that are not final yet", (s, g) => g.set(status(s).accepted.pending));
    const reannounced = mirror("meshchain_accepted_reannounced_total", "announcements of acknowledged transactions made again");
    gauge("meshchain_warning_active", `1 while the warning is active (${WARNING_CODES.join(", ")})`, (s, g) => {
      const active = new Set(status(s).warnings.map((w) => w.code));
      for (const code of WARNING_CODES) g.set({ code }, active.has(code) ? 1 : 0);
    }, ["code"]);

    const syncFallbacks = mirror("meshchain_sync_fallbacks_total", "times the running validator fell behind and dropped back into range sync");
    const consensus = {
      slots: mirror("meshchain_consensus_slots_total", "slots the consensus engine lived through"),
      led: mirror("meshchain_consensus_led_slots_total", "slots in which this node was the first-ranked proposer"),
      skipped: mirror("meshchain_consensus_led_slots_skipped_total", "slots this node led without proposing (nothing to include, or a better block already there)"),
      proposals: mirror("meshchain_consensus_proposals_total", "blocks this node proposed"),
      votesSent: mirror("meshchain_consensus_votes_sent_total", "votes this node cast", ["resent"]),
      votesReceived: mirror("meshchain_consensus_votes_received_total", "other validators' votes added to a block"),
      certificates: mirror("meshchain_consensus_certificates_total", "blocks notarized (a certificate of over 2/3 of the weight)"),
      finalized: mirror("meshchain_consensus_finalized_blocks_total", "blocks finalized by the engine"),
      refused: mirror("meshchain_consensus_refusals_total", "blocks refused and signatures withheld, by reason", ["reason"]),
      requests: mirror("meshchain_consensus_requests_total", "requests the engine sent for what it lacks, by kind", ["kind"]),
    };
    const airtime = mirror("meshchain_radio_airtime_seconds_total", "own radio airtime by traffic class", ["class"]);
    gauge("meshchain_radio_airtime_budget_seconds", "airtime this node allows itself per hour", (s, g) => g.set(s.network()?.radio?.budgetSecondsPerHour ?? 0));
    gauge("meshchain_radio_duty_cycle_ratio", "the region's duty cycle as a share of the hour", (s, g) => g.set(s.network()?.radio?.dutyCycle ?? 0));
    gauge("meshchain_radio_queue_frames", "frames waiting for airtime", (s, g) => g.set(s.network()?.radio?.airtime.queueDepth ?? 0));
    const radioDrops = mirror("meshchain_radio_frames_dropped_total", "frames not sent on air, by reason", ["reason"]);
    gauge("meshchain_link_state_code", `link state: ${LINK_STATES.map((x, i) => `${i}=${x}`).join(", ")}`, (s, g) => {
      const n = s.network();
      for (const [link, d] of [["ip", n?.ip], ["radio", n?.radio]] as const) if (d != null) g.set({ link }, LINK_STATES.indexOf(d.link.state));
    }, ["link"]);
    const connects = mirror("meshchain_link_connects_total", "MQTT connections made (first and reconnects)", ["link"]);
    const disconnects = mirror("meshchain_link_disconnects_total", "MQTT connections lost", ["link"]);
    const linkDrops = mirror("meshchain_link_queue_dropped_total", "messages dropped from the queue held while the link was down", ["link"]);
    const framesIn = mirror("meshchain_frames_received_total", "frames received and passed on", ["link"]);
    const framesOut = mirror("meshchain_frames_sent_total", "frames sent", ["link"]);
    const rejected = mirror("meshchain_frames_rejected_total", "frames dropped on arrival, by reason", ["link", "reason"]);
    const reassembled = mirror("meshchain_reassembly_messages_total", "fragmented messages by outcome", ["link", "outcome"]);
    gauge("meshchain_reassembly_partial_messages", "fragmented messages waiting for their missing parts", (s, g) => {
      const n = s.network();
      for (const [link, d] of [["ip", n?.ip], ["radio", n?.radio]] as const) if (d != null) g.set({ link }, d.reassembly.partials);
    }, ["link"]);
    gauge("meshchain_reassembly_unverified_bytes", "memory held for incomplete messages of senders not verified (their own small budget)", (s, g) => {
      const n = s.network();
      for (const [link, d] of [["ip", n?.ip], ["radio", n?.radio]] as const) if (d != null) g.set({ link }, d.reassembly.unverifiedBytes);
    }, ["link"]);
    gauge("meshchain_reassembly_partial_bytes", "memory held for incomplete fragmented messages (payload plus per-partial and per-fragment cost)", (s, g) => {
      const n = s.network();
      for (const [link, d] of [["ip", n?.ip], ["radio", n?.radio]] as const) if (d != null) g.set({ link }, d.reassembly.partialBytes);
    }, ["link"]);
    const fragmentRequests = mirror("meshchain_fragment_requests_total", "requests for missing fragments, sent and answered", ["link", "direction"]);
    const refusedMessages = mirror("meshchain_network_messages_refused_total", "peers' messages that changed nothing: unverified, replayed, from unknown senders, rejected data; never charged to a peer", ["reason"]);
    const relayRefused = mirror("meshchain_relay_refused_total", "messages a bridge did not pass to its other transport, by reason", ["reason"]);
    const oversize = mirror("meshchain_mqtt_oversize_packets_total", "MQTT connections cut for a packet over the size limit (link: ip or radio, our client; embedded_broker, a client of the broker this node runs)", ["link"]);
    const bans = mirror("meshchain_peer_bans_total", "peers banned, by the reason of their last invalid data", ["reason"]);
    const mempoolRefusals = mirror("meshchain_mempool_refusals_total", "transactions the pool refused, by reason (NONCE_GAP: held aside until the gap fills)", ["reason"]);

    this.importSeconds = new Counter({ name: "meshchain_block_import_seconds_total", help: "time range sync's import pipeline spent, by step (sanity, transition, signatures, finality, commit)", labelNames: ["step"], registers: r });
    this.commitSeconds = new Histogram({ name: "meshchain_db_commit_seconds", help: "time of one SQLite commit: one block, or a verified batch in range sync", buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r });
    gauge("meshchain_event_loop_lag_seconds", "event loop delay over the last scrape interval", (_s, g) => {
      const h = this.loopDelay;
      if (h === null) return;
      g.set({ stat: "mean" }, Number.isFinite(h.mean) ? h.mean / 1e9 : 0);
      g.set({ stat: "p99" }, h.count > 0 ? h.percentile(99) / 1e9 : 0);
      g.set({ stat: "max" }, h.count > 0 ? h.max / 1e9 : 0);
      h.reset();
    }, ["stat"]);
    gauge("meshchain_process_memory_bytes", "process memory", (_s, g) => {
      const m = process.memoryUsage();
      g.set({ kind: "rss" }, m.rss);
      g.set({ kind: "heap_used" }, m.heapUsed);
      g.set({ kind: "external" }, m.external);
    }, ["kind"]);

    // Counters are brought up to date in one pass before each scrape.
    this.refreshCounters = (s) => {
      syncFallbacks.set({}, status(s).sync.fallbacks);
      storageFaults.set({}, status(s).storage.faults);
      reannounced.set({}, status(s).accepted.reannounced);
      const e = s.engineStats();
      if (e !== null) {
        consensus.slots.set({}, e.slots);
        consensus.led.set({}, e.ledSlots);
        consensus.skipped.set({}, e.ledSlotsSkipped);
        consensus.proposals.set({}, e.proposed);
        consensus.votesSent.set({ resent: "false" }, e.voted);
        consensus.votesSent.set({ resent: "true" }, e.votesResent);
        consensus.votesReceived.set({}, e.votesReceived);
        consensus.certificates.set({}, e.notarized);
        consensus.finalized.set({}, e.finalized);
        consensus.refused.set({ reason: "invalid_block" }, e.rejectedBlocks);
        consensus.refused.set({ reason: "signer_safety" }, e.refusedBySignerSafety);
        consensus.refused.set({ reason: "lock" }, e.refusedByLock);
        consensus.refused.set({ reason: "double_vote_evidence" }, e.evidenceFound);
        consensus.requests.set({ kind: "compact_txs" }, e.compactTxRequests);
        // Every transaction of a compact block asked for again: no fill of the held ones verified (a short-id collision, or a bad proposal).
        consensus.requests.set({ kind: "compact_refetch" }, e.compactRefetches);
        consensus.requests.set({ kind: "nonces" }, e.nonceRequests);
        consensus.requests.set({ kind: "resent_txs" }, e.txsResent);
      }
      const n = s.network();
      if (n?.radio != null) {
        for (const c of AIRTIME_CLASSES) airtime.set({ class: c.toLowerCase() }, n.radio.airtime.airtimeMsByClass[c] / 1000);
        radioDrops.set({ reason: "stale_in_queue" }, n.radio.airtime.droppedForBudget);
        radioDrops.set({ reason: "queue_full" }, n.radio.airtime.refusedQueueFull);
      }
      for (const [link, d] of [["ip", n?.ip], ["radio", n?.radio]] as const) {
        if (d == null) continue;
        connects.set({ link }, d.link.connects);
        disconnects.set({ link }, d.link.disconnects);
        linkDrops.set({ link }, d.link.droppedFromQueue);
        framesIn.set({ link }, d.transport.framesReceived);
        framesOut.set({ link }, d.transport.framesSent);
        rejected.set({ link, reason: "malformed" }, d.transport.malformed + d.endpoint.badFrames);
        rejected.set({ link, reason: "undecryptable" }, d.transport.undecryptable);
        rejected.set({ link, reason: "duplicate" }, d.transport.duplicates);
        rejected.set({ link, reason: "other_port" }, d.transport.otherPorts);
        rejected.set({ link, reason: "plaintext_on_keyed_channel" }, d.transport.plaintextRefused);
        for (const outcome of ["completed", "duplicates", "expired", "evicted", "evictedUnverified", "rejected"] as const) reassembled.set({ link, outcome: outcome === "evictedUnverified" ? "evicted_unverified" : outcome }, d.reassembly[outcome]);
        fragmentRequests.set({ link, direction: "sent" }, d.endpoint.fragmentRequestsSent);
        fragmentRequests.set({ link, direction: "answered" }, d.endpoint.fragmentsResent);
        fragmentRequests.set({ link, direction: "suppressed" }, d.endpoint.fragmentRequestsSuppressed);
        fragmentRequests.set({ link, direction: "resend_refused" }, d.endpoint.resendsRefused);
        oversize.set({ link }, d.link.oversizeRefused ?? 0);
      }
      if (n != null && n.brokerOversizeRefused !== null) oversize.set({ link: "embedded_broker" }, n.brokerOversizeRefused);
      for (const [reason, count] of n?.refusals ?? []) refusedMessages.set({ reason }, count);
      for (const [reason, count] of n?.relayRefusals ?? []) relayRefused.set({ reason }, count);
      for (const [reason, count] of s.bansByReason()) bans.set({ reason }, count);
      for (const [reason, count] of s.mempoolRefusals()) mempoolRefusals.set({ reason }, count);
    };
  }

  private readonly refreshCounters: (s: MetricsSources) => void;
  private scrapeStatus: NodeStatus | null = null;

  /** Start reading from a running node (and measuring the event loop). */
  attach(sources: MetricsSources): void {
    this.sources = sources;
    if (this.loopDelay === null) {
      this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
      this.loopDelay.enable();
    }
  }

  detach(): void {
    this.sources = null;
    this.loopDelay?.disable();
    this.loopDelay = null;
  }

  /** Told by the chain store after each block commit. */
  observeCommitSeconds(seconds: number): void {
    this.commitSeconds.observe(seconds);
  }

  /** Told by range sync's importer after each step it ran. */
  observeImportStep(step: string, seconds: number): void {
    this.importSeconds.inc({ step }, seconds);
    this.importStepSeconds.set(step, (this.importStepSeconds.get(step) ?? 0) + seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything, read now. */
  async text(): Promise<string> {
    this.scrapeStatus = null;
    try {
      if (this.sources !== null) this.refreshCounters(this.sources);
      return await this.registry.metrics();
    } finally {
      this.scrapeStatus = null;
    }
  }
}
