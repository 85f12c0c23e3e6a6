import type { NodeStatus } from "../node/node.js";

export interface MetricSample {
  readonly name: string;
  readonly help: string;
  readonly type: "gauge" | "counter";
  readonly value: number;
}

/** The node's status as Prometheus gauges; every name ends in its unit (or says it counts). */
export function statusMetrics(s: NodeStatus, weightGini: number): MetricSample[] {
  const gauge = (name: string, help: string, value: number): MetricSample => ({ name, help, type: "gauge", value });
  const counter = (name: string, help: string, value: number): MetricSample => ({ name, help, type: "counter", value });
  const syncStates = ["idle", "syncing", "synced", "behind", "error"] as const;
  return [
    gauge("meshchain_head_height_blocks", "height of the chain tip", s.height),
    gauge("meshchain_finalized_height_blocks", "height of the last finalized block", s.finalizedHeight),
    gauge("meshchain_last_block_age_seconds", "time since the tip's timestamp", s.lastBlockAgeSeconds),
    gauge("meshchain_peers_count", "peers heard from recently", s.peers),
    gauge("meshchain_mempool_transactions_count", "transactions waiting in the mempool", s.mempool.transactions),
    gauge("meshchain_mempool_size_bytes", "encoded size of the mempool", s.mempool.bytes),
    gauge("meshchain_sync_progress_ratio", "how far sync has come, 0 to 1", s.sync.percent / 100),
    gauge("meshchain_sync_target_height_blocks", "highest finalized height peers announced", s.sync.targetHeight),
    counter("meshchain_sync_fallbacks_total", "times the running validator fell behind and dropped back into range sync", s.sync.fallbacks),
    gauge("meshchain_sync_state_code", `sync state: ${syncStates.map((x, i) => `${i}=${x}`).join(", ")}`, syncStates.indexOf(s.sync.state)),
    gauge("meshchain_validator_weight_gini_ratio", "Gini coefficient of validator weights, 0 (equal) to 1", weightGini),
    gauge("meshchain_airtime_last_hour_seconds", "own radio airtime in the last hour", s.airtimeSeconds ?? 0),
    gauge("meshchain_uptime_seconds", "time since the node started", s.uptimeSeconds),
    gauge("meshchain_ready_code", "1 when synced, reaching a peer link and storing blocks", s.ready.ok ? 1 : 0),
    gauge("meshchain_link_ip_up_code", "1 while the link to the IP broker is up (absent link: 0)", s.links.ip?.state === "connected" ? 1 : 0),
    gauge("meshchain_link_radio_up_code", "1 while the link to the radio is up (absent link: 0)", s.links.radio?.state === "connected" ? 1 : 0),
    gauge("meshchain_storage_fault_code", "1 while a store fails its writes (production and signing paused)", s.storage.fault === null ? 0 : 1),
    counter("meshchain_storage_faults_total", "times a store started failing its writes", s.storage.faults),
    gauge("meshchain_accepted_pending_transactions_count", "transactions this node acknowledged that the chain has not included yet", s.accepted.pending),
    counter("meshchain_accepted_reannounced_total", "announcements of acknowledged transactions made again", s.accepted.reannounced),
  ];
}

/** Prometheus text exposition format 0.0.4. */
export function renderMetrics(samples: readonly MetricSample[]): string {
  return samples.map((m) => `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${Number.isFinite(m.value) ? m.value : "NaN"}\n`).join("");
}
