import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiServer } from "../../src/api/server.js";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { systemClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();

/** Prometheus's own checker: .ci/run installs it from Debian's prometheus package. */
function promtoolPath(): string | null {
  for (const p of [process.env.PROMTOOL, "promtool", "/usr/local/bin/promtool", "/usr/bin/promtool"]) {
    if (p !== undefined && spawnSync(p, ["--version"], { stdio: "ignore" }).error === undefined) return p;
  }
  return null;
}
const promtool = promtoolPath();
if (promtool === null && process.env.CI !== undefined) throw new Error("promtool is missing under CI (.ci/run installs it)");

/** The families GET /metrics must carry, by the part of the node that produces them. */
const FAMILIES: Record<string, string> = {
  meshchain_head_height_blocks: "gauge", meshchain_finalized_height_blocks: "gauge", meshchain_finality_lag_blocks: "gauge", meshchain_finality_lag_seconds: "gauge",
  meshchain_consensus_slots_total: "counter", meshchain_consensus_proposals_total: "counter", meshchain_consensus_led_slots_skipped_total: "counter",
  meshchain_consensus_votes_sent_total: "counter", meshchain_consensus_votes_received_total: "counter", meshchain_consensus_certificates_total: "counter",
  meshchain_sync_fallbacks_total: "counter", meshchain_sync_rate_blocks_per_second: "gauge",
  meshchain_radio_airtime_seconds_total: "counter", meshchain_radio_airtime_budget_seconds: "gauge", meshchain_radio_duty_cycle_ratio: "gauge", meshchain_radio_queue_frames: "gauge",
  meshchain_radio_frames_dropped_total: "counter", meshchain_frames_rejected_total: "counter",
  meshchain_link_state_code: "gauge", meshchain_link_connects_total: "counter", meshchain_link_disconnects_total: "counter",
  meshchain_peers_by_state: "gauge", meshchain_peer_bans_total: "counter",
  meshchain_reassembly_messages_total: "counter", meshchain_reassembly_partial_bytes: "gauge", meshchain_fragment_requests_total: "counter",
  meshchain_db_commit_seconds: "histogram", meshchain_block_import_seconds_total: "counter", meshchain_event_loop_lag_seconds: "gauge", meshchain_process_memory_bytes: "gauge", meshchain_warning_active: "gauge",
};

/** Value of one sample line, by its exact name and labels. */
function sample(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  it.skipIf(promtool === null)("passes promtool check metrics and carries every family, read where each figure is produced", async () => {
    const dataDir = dir();
    const dev = ensureDevNetwork(dataDir, () => systemClock.now());
    const node = new MeshChainNode(
      {
        dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 200, heartbeatSlots: 1, statusIntervalMs: 200,
        network: { broker: "embedded", brokerPort: 0, radio: { broker: "embedded", region: "EU_868", preset: "LONG_FAST", channel: channelKey("MeshChain", new Uint8Array(16).fill(7)), portnum: 256, hopLimit: 3, budgetSecondsPerHour: 180 } },
      },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(3) },
    );
    await node.start();
    const api = new ApiServer({ host: "127.0.0.1", port: 0 }, node);
    const url = await api.start();
    try {
      // Blocks committed (the commit histogram), and status announcements sent on air (airtime).
      await waitFor(() => node.status().height >= 3 && (node.status().airtimeSeconds ?? 0) > 0, 20_000, "blocks and airtime");
      const res = await fetch(`${url}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const check = spawnSync(promtool as string, ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(check.stderr + check.stdout).toBe("");
      expect(check.status).toBe(0);

      const types = new Map(text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ").slice(2, 4) as [string, string]));
      for (const [name, type] of Object.entries(FAMILIES)) expect([name, types.get(name)]).toEqual([name, type]);
      expect(sample(text, "meshchain_head_height_blocks")).toBeGreaterThanOrEqual(3);
      expect(sample(text, "meshchain_db_commit_seconds_count")).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'meshchain_link_state_code{link="ip"}')).toBe(2);
      expect(sample(text, 'meshchain_link_state_code{link="radio"}')).toBe(2);
      expect(sample(text, 'meshchain_radio_airtime_seconds_total{class="control"}')).toBeGreaterThan(0);
      expect(sample(text, "meshchain_radio_airtime_budget_seconds")).toBe(180);
      expect(sample(text, "meshchain_radio_duty_cycle_ratio")).toBeCloseTo(0.1);
      expect(sample(text, 'meshchain_process_memory_bytes{kind="rss"}')).toBeGreaterThan(1_000_000);
      // A lone dev validator with a radio: every warning code is exported, none active.
      expect(sample(text, 'meshchain_warning_active{code="RADIO_LINK_DOWN"}')).toBe(0);

      // The Grafana dashboard in the repository queries only families the node exports.
      const dashboard = readFileSync(join(import.meta.dirname, "../../docs/grafana/meshchain-dashboard.json"), "utf8");
      const queried = new Set([...dashboard.matchAll(/meshchain_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")));
      expect(queried.size).toBeGreaterThan(20);
      for (const name of queried) expect([name, types.has(name)]).toEqual([name, true]);

      // Counters never go down between scrapes.
      const again = await (await fetch(`${url}/metrics`)).text();
      expect(sample(again, "meshchain_db_commit_seconds_count")).toBeGreaterThanOrEqual(sample(text, "meshchain_db_commit_seconds_count") as number);
    } finally {
      await api.stop();
      await node.stop();
    }
  });
});
