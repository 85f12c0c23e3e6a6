import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { Genesis } from "../core/genesis.js";
import { systemClock } from "../node/clock.js";
import { silentLogger } from "../node/logger.js";
import { MeshChainNode } from "../node/node.js";
import { seededRandom } from "../core/random.js";
import { ChainStore } from "../storage/chain-store.js";
import { auditSignatures } from "../consensus/signature-audit.js";
import { BlsVerifier } from "../consensus/verifier.js";
import type { Measurement } from "./harness.js";
import { storageMeasurements } from "./storage.js";
import { copySyncChain, SYNC_CHAIN_ID, syncChain } from "./sync-chain.js";
import type { FollowerArgs, FollowerReport, MemorySample } from "./sync-follower.js";

/** Audited here at most: the audit's rate is the figure, and 100,000 blocks of it would take minutes. */
const AUDIT_SAMPLE_BLOCKS = 2_000;

/**
 * The proposer signatures range sync by finality proof left to the audit (consensus/signature-audit.ts),
 * checked on the stopped follower's store: what serving the synced blocks waits for.
 */
function auditRemaining(path: string, genesis: Genesis): Measurement {
  const store = ChainStore.open(path, genesis);
  try {
    const verifier = new BlsVerifier(SYNC_CHAIN_ID);
    const from = store.signaturesCheckedHeight;
    const until = Math.min(store.tip.height, from + AUDIT_SAMPLE_BLOCKS);
    const started = performance.now();
    while (store.signaturesCheckedHeight < until) {
      const outcome = auditSignatures(store, verifier, 64);
      if (outcome.kind === "bad") throw new Error(`audit failed at block ${outcome.height}: ${outcome.reason}`);
      if (outcome.kind === "done") break;
    }
    const seconds = (performance.now() - started) / 1000;
    const audited = store.signaturesCheckedHeight - from;
    const left = store.tip.height - from;
    return { name: "sync: proposer-signature audit after it, per 64-block batch", value: seconds > 0 ? audited / seconds : Number.NaN, unit: "blocks/s", note: `${left.toLocaleString("en-US")} blocks left to audit when sync ended (the rest audited while syncing); timed over the first ${audited.toLocaleString("en-US")}, ${seconds.toFixed(0)} s` };
  } finally {
    store.close();
  }
}

interface ProbeResult {
  readonly count: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/*
 * The API probe runs on a thread of its own: its timings are the follower's answers, not the delays
 * of this thread's event loop, which runs the validator serving the sync. Plain JavaScript, since a
 * worker's source is not compiled with the rest.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const times = [];
let failed = 0;
let stopping = false;
parentPort.on("message", () => { stopping = true; });
(async () => {
  for (let i = 0; !stopping; i++) {
    const started = performance.now();
    try {
      const res = await fetch(workerData.url + "/status");
      await res.text();
      if (!res.ok) failed++;
      times.push(performance.now() - started);
    } catch {
      failed++;
    }
    await new Promise((r) => setTimeout(r, workerData.everyMs));
  }
  times.sort((a, b) => a - b);
  const at = (q) => times.length === 0 ? NaN : times[Math.min(times.length - 1, Math.floor(q * times.length))];
  parentPort.postMessage({ count: times.length, failed, p50: at(0.5), p99: at(0.99), max: times.length === 0 ? NaN : times[times.length - 1] });
})();
`;

const NO_PROBE: ProbeResult = { count: 0, failed: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };

function startProbe(url: string, everyMs: number): { stop: () => Promise<ProbeResult> } {
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { url, everyMs } });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    worker.once("message", (r: ProbeResult) => resolve(r));
    worker.once("error", reject);
  });
  return {
    stop: async () => {
      worker.postMessage("stop");
      const r = await result;
      await worker.terminate();
      return r;
    },
  };
}

/** The follower's module: compiled JavaScript next to this one, or the TypeScript source under tsx. */
function followerModule(): { path: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith(".ts");
  return { path: new URL(ts ? "./sync-follower.ts" : "./sync-follower.js", import.meta.url).pathname, execArgv: ts ? ["--import", "tsx"] : [] };
}

interface FollowerRun {
  readonly samples: MemorySample[];
  readonly done: Extract<FollowerReport, { kind: "done" }>;
  readonly probe: ProbeResult;
}

function runFollower(args: FollowerArgs, deadlineMs: number): Promise<FollowerRun> {
  const { path, execArgv } = followerModule();
  const child = fork(path, [JSON.stringify(args)], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const samples: MemorySample[] = [];
  let probe: ReturnType<typeof startProbe> | null = null;
  let probed: ProbeResult = NO_PROBE;
  return new Promise<FollowerRun>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the follower did not sync ${args.blocks} blocks in ${deadlineMs / 60_000} min (last at ${samples[samples.length - 1]?.height ?? 0})`)), deadlineMs);
    let settled = false;
    const finish = (outcome: Error | Extract<FollowerReport, { kind: "done" }>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stopped = probe?.stop() ?? Promise.resolve(probed);
      void stopped.then((p) => {
        if (outcome instanceof Error) {
          child.kill();
          reject(outcome);
        } else resolve({ samples, done: outcome, probe: p });
      }, reject);
    };
    child.on("message", (report: FollowerReport) => {
      if (report.kind === "ready") probe = startProbe(report.apiUrl, 100);
      else if (report.kind === "progress") samples.push(report.sample);
      else if (report.kind === "synced") {
        const stopped = probe?.stop() ?? Promise.resolve(NO_PROBE);
        probe = null;
        void stopped.then((p) => {
          probed = p;
          child.send("stop");
        }, (e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
      }
      else if (report.kind === "done") finish(report);
      else finish(new Error(`the follower failed: ${report.reason}`));
    });
    child.on("exit", (code) => finish(new Error(`the follower exited (code ${code}) before it synced`)));
  });
}

const mb = (bytes: number): number => Math.round(bytes / 1e6);

/**
 * Blocks per second when a fresh node syncs a validator's chain over the IP transport (MQTT through
 * the validator's embedded broker, on loopback): every block linked, executed (its transactions'
 * signatures checked) and committed to SQLite, one finality proof pairing-checked per run, the
 * proposer signatures left to the audit (docs/consensus.md §16), measured separately. The follower
 * runs in a process of its own: its RSS and live heap by tenths of the run, its event-loop delay, and
 * how fast it answers a status request over HTTP while it syncs. 10,000 blocks unless
 * MESHCHAIN_BENCH_SYNC_BLOCKS says otherwise (100,000 is the memory case: docs/benchmarks.md; the chain
 * is built once per code version and cached, see sync-chain.ts),
 * and MESHCHAIN_BENCH_SYNC_SLICE_MS the follower's import slice (0: each run imported in one go).
 */
export async function syncBenchmark(blocks = Number(process.env.MESHCHAIN_BENCH_SYNC_BLOCKS ?? 10_000)): Promise<Measurement[]> {
  const root = mkdtempSync(join(tmpdir(), "meshchain-bench-sync-"));
  const now = Math.floor(Date.now() / 1000);
  const chain = syncChain(blocks, now);
  const sourceDir = join(root, "source");
  const followerDir = join(root, "follower");
  mkdirSync(sourceDir);
  copySyncChain(chain, join(sourceDir, "chain.db"), (line) => process.stderr.write(`${line}\n`));
  const source = new MeshChainNode(
    { genesis: chain.genesis, slotMs: 30_000, heartbeatSlots: 1_000_000_000, statusIntervalMs: 1_000, dataDir: sourceDir, identity: chain.validator, network: { broker: "embedded", brokerPort: 0 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(1) },
  );
  let sourceStopped = false;
  const stopSource = async (): Promise<void> => {
    if (sourceStopped) return;
    sourceStopped = true;
    await source.stop();
  };
  try {
    await source.start();
    const cpuAtStart = process.cpuUsage();
    const slice = process.env.MESHCHAIN_BENCH_SYNC_SLICE_MS;
    const run = await runFollower({ blocks, now, dataDir: followerDir, brokerUrl: source.brokerUrl as string, ...(slice === undefined ? {} : { importSliceMs: Number(slice) }) }, 30 * 60_000);
    const sourceCpu = process.cpuUsage(cpuAtStart);
    await stopSource();
    const { done, samples, probe } = run;
    const shares = ["sanity", "transition", "signatures", "finality", "commit"].map((step) => `${step} ${Math.round(((done.stepSeconds[step] ?? 0) / done.seconds) * 100)}%`).join(", ");
    const inSteps = Object.values(done.stepSeconds).reduce((a, b) => a + b, 0);
    const tenths = samples.slice(1);
    const sync: Measurement = {
      name: `sync: ${blocks.toLocaleString("en-US")} blocks over MQTT on loopback`,
      value: blocks / done.seconds,
      unit: "blocks/s",
      note: `${done.seconds.toFixed(1)} s (first block committed at ${done.firstBlockSeconds?.toFixed(1) ?? "–"} s: start-up, peer found, first run); CPU ${done.cpuSeconds.toFixed(1)} s follower (${Math.round(blocks / done.cpuSeconds)} blocks per CPU second, ${Math.round((done.cpuSeconds * 1e6) / blocks)} µs a block, start-up included) + ${((sourceCpu.user + sourceCpu.system) / 1e6).toFixed(1)} s validator; time share: ${shares}, other (network, decoding, waiting) ${Math.round((1 - inSteps / done.seconds) * 100)}%`,
    };
    const memory: Measurement = {
      name: `sync: follower's memory over ${blocks.toLocaleString("en-US")} blocks (its own process)`,
      value: mb(Math.max(...tenths.map((s) => s.rssBytes))),
      unit: "MB RSS, highest tenth",
      note: `RSS by tenths ${tenths.map((s) => mb(s.rssBytes)).join("→")} MB (start ${mb(samples[0]?.rssBytes ?? 0)}, high-water ${mb(done.peakRssBytes)}); heap after the last full GC ${tenths.map((s) => (s.heapAfterFullGcBytes === null ? "–" : mb(s.heapAfterFullGcBytes))).join("→")} MB (${done.fullGcs} full GCs); V8 heap held ${tenths.map((s) => mb(s.heapTotalBytes)).join("→")} MB, external ${tenths.map((s) => mb(s.externalBytes)).join("→")} MB`,
    };
    const responsive: Measurement = {
      name: "sync: follower's event loop while it syncs",
      value: done.loopDelayMs.p99,
      unit: "ms delay, p99",
      note: `event-loop delay p50 ${done.loopDelayMs.p50} ms, p99 ${done.loopDelayMs.p99} ms, max ${done.loopDelayMs.max} ms; its status over HTTP (one request every 100 ms, ${probe.count} answered, ${probe.failed} failed) answered in p50 ${probe.p50.toFixed(1)} ms, p99 ${probe.p99.toFixed(0)} ms, max ${probe.max.toFixed(0)} ms`,
    };
    const audit = auditRemaining(join(followerDir, "chain.db"), chain.genesis);
    return [sync, memory, responsive, audit, ...storageMeasurements(chain.genesis, SYNC_CHAIN_ID, join(sourceDir, "chain.db"), join(followerDir, "chain.db"), root)];
  } finally {
    await stopSource();
    rmSync(root, { recursive: true, force: true });
  }
}
