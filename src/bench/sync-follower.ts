import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "../core/random.js";
import { systemClock } from "../node/clock.js";
import { silentLogger } from "../node/logger.js";
import { MeshChainNode } from "../node/node.js";
import { syncChain } from "./sync-chain.js";

/*
 * The sync benchmark's follower, in a process of its own (forked by sync.ts) so that what it reports
 * — RSS, heap, event-loop delay — is the syncing node's alone, not the validator's beside it. An
 * HTTP endpoint answers the node's status as JSON, as the local API's GET /status does (bench/ does
 * not reach up to api/): the parent probes it while the node syncs, to see how long a caller waits. Messages to the parent are FollowerReport; the parent's one message, any, says
 * "stop" once the follower reported it synced.
 */

export interface FollowerArgs {
  readonly blocks: number;
  /** The parent's clock, seconds: the genesis is derived from it, so both ends build the same one. */
  readonly now: number;
  readonly dataDir: string;
  readonly brokerUrl: string;
  /** The node's import slice (SyncOptions.importSliceMs), when not its default: 0 compares with imports in one go. */
  readonly importSliceMs?: number;
}

export interface MemorySample {
  readonly height: number;
  readonly seconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** What V8 holds for its heap (live and garbage not collected yet). */
  readonly heapTotalBytes: number;
  /** Memory outside the heap that JavaScript objects own: buffers, typed arrays' backing stores. */
  readonly externalBytes: number;
  /** V8's used heap right after the last full (mark-sweep) collection before the sample: what is live, without forcing one. */
  readonly heapAfterFullGcBytes: number | null;
}

export type FollowerReport =
  | { readonly kind: "ready"; readonly apiUrl: string }
  | { readonly kind: "progress"; readonly sample: MemorySample }
  /** At the target height; the follower stops once the parent answers. */
  | { readonly kind: "synced" }
  | {
      readonly kind: "done";
      readonly seconds: number;
      readonly cpuSeconds: number;
      readonly stepSeconds: Record<string, number>;
      /** Event-loop delay over the sync, ms (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
      readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
      readonly peakRssBytes: number;
      readonly fullGcs: number;
      /** When the first synced block was committed, seconds from the start: start-up and finding the peer, before any sync. */
      readonly firstBlockSeconds: number | null;
    }
  | { readonly kind: "failed"; readonly reason: string };

const send = (report: FollowerReport): void => {
  process.send?.(report);
};

async function main(args: FollowerArgs): Promise<void> {
  const chain = syncChain(args.blocks, args.now);
  let heapAfterFullGc: number | null = null;
  let fullGcs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node 20 types a gc entry's `detail` on its own subclass only.
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      fullGcs++;
      heapAfterFullGc = getHeapStatistics().used_heap_size;
    }
  });
  gcs.observe({ entryTypes: ["gc"] });
  const node = new MeshChainNode(
    { genesis: chain.genesis, slotMs: 30_000, heartbeatSlots: 1_000_000_000, statusIntervalMs: 1_000, dataDir: args.dataDir, identity: chain.follower, network: { broker: args.brokerUrl, brokerPort: 0 }, sync: { tickMs: 50, ...(args.importSliceMs === undefined ? {} : { importSliceMs: args.importSliceMs }) } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(2) },
  );
  const api = createServer((_req, res) => {
    const body = JSON.stringify(node.status(), (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  await node.start();
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  send({ kind: "ready", apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}` });
  loop.enable();
  const sample = (height: number): MemorySample => {
    const memory = process.memoryUsage();
    return { height, seconds: (performance.now() - started) / 1000, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal, externalBytes: memory.external, heapAfterFullGcBytes: heapAfterFullGc };
  };
  send({ kind: "progress", sample: sample(node.status().height) });
  let nextTenth = 1;
  let firstBlockSeconds: number | null = null;
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const height = node.status().height;
      if (height > 0 && firstBlockSeconds === null) firstBlockSeconds = (performance.now() - started) / 1000;
      while (nextTenth <= 10 && height >= Math.ceil((args.blocks * nextTenth) / 10)) {
        nextTenth++;
        send({ kind: "progress", sample: sample(height) });
      }
      if (height >= args.blocks) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  loop.disable();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const stepSeconds = Object.fromEntries(node.metrics.importStepSeconds);
  // Synced: the parent stops its API probe before the API goes, so no probe fails on a closed socket.
  const released = new Promise<void>((resolve) => process.once("message", () => resolve()));
  send({ kind: "synced" });
  await released;
  await new Promise<void>((resolve) => api.close(() => resolve()));
  await node.stop();
  gcs.disconnect();
  send({
    kind: "done",
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    stepSeconds,
    loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    // maxRSS is in KiB: the kernel's high-water mark of the process (VmHWM), start-up included.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    fullGcs,
    firstBlockSeconds,
  });
}

const raw = process.argv[2];
if (raw === undefined) throw new Error("sync-follower: expected its arguments as JSON");
main(JSON.parse(raw) as FollowerArgs).then(
  () => process.disconnect?.(),
  (e: unknown) => {
    send({ kind: "failed", reason: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
