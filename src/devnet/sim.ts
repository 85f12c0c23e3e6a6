import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import type { Identity } from "../core/crypto/identity.js";
import { seededRandom } from "../core/random.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { txHash } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { BlsVerifier } from "../consensus/verifier.js";
import { PRESETS } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { PRIVATE_APP_PORT } from "../mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel, type SimRadio } from "../mesh/sim/channel.js";
import { SimTransport } from "../mesh/sim/transport.js";
import { silentLogger } from "../node/logger.js";
import { MeshChainNode } from "../node/node.js";
import { DEFAULT_SPACING_METERS, DEVNET_CHANNEL, DEVNET_NODE_DEFAULTS, type DevnetOptions, type DevnetReport, type DevnetSample, devnetChain, devnetLayout, devnetSample, sampleIntervalMs, summarise } from "./common.js";
import { LatencyPhases } from "./latency-phases.js";
import { DevnetUsers, type TransferAnswer, transferAnswer } from "./users.js";
import { VirtualTime } from "./virtual-time.js";

export { DEFAULT_SPACING_METERS, type DevnetOptions, type DevnetReport } from "./common.js";

export interface SimDevnetOptions extends DevnetOptions {
  /** Shown the nodes at each sample (null: down), to read their status or metrics mid-run. */
  readonly inspect?: (nodes: readonly (MeshChainNode | null)[]) => void;
}

/** One simulated machine: its radio and data directory outlive the node process run on them. */
interface Station {
  readonly index: number;
  readonly radio: SimRadio;
  readonly dataDir: string;
  /** The running node; null while down (killed, or not yet joined). */
  node: MeshChainNode | null;
  /** Finalized height this station's node has already been looked at up to. */
  seenFinal: number;
  stopWatching: () => void;
}

/**
 * N `MeshChainNode`s, the composition `meshchain start` runs, over the LoRa simulator in virtual
 * time: each node is radio-only (no broker), its radio a `SimTransport` on the shared channel, and
 * every timer of it on one `ManualClock`. Users' transfers go in through each node's own submission
 * path; `--kill` stops a node and starts a new one over the same data directory, as a restarted
 * process would.
 */
export async function runSimDevnet(opts: SimDevnetOptions): Promise<DevnetReport> {
  const random = seededRandom(opts.seed);
  const region = opts.region ?? "EU_868";
  const { users, ids, genesis, genesisTime } = devnetChain(opts, 1_767_225_600);
  const clock = new ManualClock(genesisTime * 1000);
  const slots = SlotClock.of(genesis, genesis.params);
  const phases = new LatencyPhases(Number(genesis.params.maxBlockTxs), (ms) => slots.slotAt(ms));
  // Each validator's notarized head after every event: when each height was first notarized.
  const time = new VirtualTime(clock, () => {
    for (const s of stations) {
      const head = s.node?.engineView()?.headHeight;
      if (head !== undefined) phases.noteNotarizedHead(head, clock.now());
    }
  });
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS[opts.preset], random, defaultLoss: opts.loss, dutyCycle: dutyCycleFraction(region), rangeMeters: 5_000 }, clock);
  const lateJoin = opts.lateJoin ?? 0;
  if (lateJoin < 0 || lateJoin >= opts.nodes) throw new RangeError("lateJoin must leave at least one node to start with");
  // Bad options throw here, before anything is written to disk.
  const layout = devnetLayout(opts.nodes, opts.spacingMeters ?? DEFAULT_SPACING_METERS, opts.routers ?? 0);
  const root = mkdtempSync(join(tmpdir(), "meshchain-devnet-"));
  // One verification cache for all the nodes: its results are pure, and pairings dominate the CPU otherwise.
  const verifier = new BlsVerifier(genesis.chainId, 200_000);
  const submittedAt = new Map<string, number>();
  const finalizedAt = new Map<string, Set<number>>();
  const latencies: number[] = [];
  const heightIds = new Map<number, string>();
  let conflicting = 0;
  let restarts = 0;
  let txsSubmitted = 0;

  const stations: Station[] = layout.map(({ position, router }, index) => {
    const dataDir = join(root, `n${index}`);
    mkdirSync(dataDir);
    return { index, radio: channel.addRadio(index + 1, { position, role: router ? "ROUTER" : "CLIENT" }), dataDir, node: null, seenFinal: 0, stopWatching: () => undefined };
  });

  /** What a station's node finalized since we last looked: conflicts, and transactions now final everywhere. */
  const observe = (s: Station) => {
    const node = s.node;
    if (node === null) return;
    const store = node.reads.chain();
    for (let h = s.seenFinal + 1; h <= store.finalizedHeight; h++) {
      const block = store.blockAt(h);
      if (block === null) continue;
      const id = toHex(store.blockHashAt(h));
      const seen = heightIds.get(h);
      if (seen === undefined) heightIds.set(h, id);
      else if (seen !== id) conflicting++;
      phases.noteFinalBlock(h, block.header.slot, block.header.timestamp, block.txs.length);
      for (const t of block.txs) {
        const hash = toHex(txHash(t.bytes));
        const set = finalizedAt.get(hash) ?? new Set<number>();
        set.add(s.index);
        finalizedAt.set(hash, set);
        // Final at every running node (one that was down meanwhile may have finalized it before it went down).
        const at = submittedAt.get(hash);
        if (at !== undefined && stations.every((o) => o.node === null || set.has(o.index))) {
          latencies.push((clock.now() - at) / 1000);
          phases.noteFinal(at, h, clock.now());
          submittedAt.delete(hash);
        }
      }
    }
    s.seenFinal = Math.max(s.seenFinal, store.finalizedHeight);
  };

  const bringUp = async (s: Station) => {
    const radio = s.radio;
    const node = new MeshChainNode(
      {
        dataDir: s.dataDir, genesis, identity: ids[s.index] as Identity, heartbeatSlots: Number(genesis.params.heartbeatSlots), statusIntervalMs: DEVNET_NODE_DEFAULTS.statusIntervalMs,
        network: {
          broker: "none", brokerPort: 0, ipPeers: false,
          radio: { broker: "sim", region, preset: opts.preset, channel: DEVNET_CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: opts.hopLimit ?? DEVNET_NODE_DEFAULTS.hopLimit, budgetSecondsPerHour: DEVNET_NODE_DEFAULTS.budgetSecondsPerHour },
        },
      },
      {
        clock, logger: silentLogger(), random: seededRandom(Math.floor(random() * 2 ** 31)), verifier,
        // The simulated radio sends as itself (node number index + 1), with the node's own packet ids.
        radioTransport: ({ packetIds, hopLimit }) => new SimTransport(radio, { nodeNumber: s.index + 1, hopLimit, packetIds }),
      },
    );
    await node.start();
    s.node = node;
    // What it finalized before it went down was seen then; a new store starts from nothing.
    s.seenFinal = node.reads.chain().finalizedHeight;
    s.stopWatching = node.onCommitted(() => observe(s));
  };
  const takeDown = async (s: Station) => {
    const node = s.node;
    if (node === null) return;
    s.stopWatching();
    s.node = null;
    await node.stop();
  };

  const late = stations.slice(opts.nodes - lateJoin);
  try {
    for (const s of stations) if (!late.includes(s)) await bringUp(s);

    // User u sends from its own node (station u), which is running.
    const userModel = new DevnetUsers((u) => {
      const node = (stations[u] as Station).node as MeshChainNode;
      const from = users[u] as Identity;
      const nonce = node.nextNonce(from.address);
      const tx = signTx({ sender: from.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: (users[(u + 1) % users.length] as Identity).address, amount: 1_000n + BigInt(nonce) } }, genesis.chainId, from.ed25519);
      let answer: TransferAnswer;
      try {
        answer = transferAnswer(node.submitTransaction(tx.bytes));
      } catch (e) {
        answer = transferAnswer(e);
      }
      if (answer === "taken") submittedAt.set(toHex(txHash(tx.bytes)), clock.now());
      return answer;
    });
    const running = (u: number) => stations[u]?.node != null;
    const submit = () => {
      const live = stations.filter((s) => s.node !== null);
      const at = live[Math.floor(random() * live.length)];
      userModel.turn(running, at === undefined ? null : at.index);
      txsSubmitted = userModel.submitted;
    };

    const joinAt = clock.now() + (late.length > 0 ? Math.floor(opts.durationMs / 3) : Number.POSITIVE_INFINITY);
    const txSpacing = opts.txPerMinute > 0 ? 60_000 / opts.txPerMinute : Number.POSITIVE_INFINITY;
    const end = clock.now() + opts.durationMs;
    let nextTx = clock.now() + txSpacing;
    let nextKill = clock.now() + 20 * 60_000;
    // The node killed and when it comes back. Users go on submitting while it is down: a pause of
    // three minutes and then a burst of nine transfers in one instant is not the scenario's load.
    let down: { station: Station; upAt: number } | null = null;
    const startedAt = clock.now();
    const sampleEvery = sampleIntervalMs(opts.durationMs);
    let nextSample = startedAt + sampleEvery;
    const timeline: DevnetSample[] = [];
    const sample = () => {
      const up = stations.flatMap((s) => (s.node === null ? [] : [s.node]));
      const heights = up.map((n) => ({ finalized: n.reads.chain().finalizedHeight, head: n.engineView()?.headHeight ?? n.reads.chain().tip.height }));
      const s = devnetSample((clock.now() - startedAt) / 1000, heights, { submitted: txsSubmitted, final: latencies.length }, channel);
      timeline.push(s);
      opts.onProgress?.(s);
      opts.inspect?.(stations.map((st) => st.node));
    };
    while (clock.now() < end) {
      const step = Math.min(end, nextTx, nextSample, opts.kill && down === null ? nextKill : Number.POSITIVE_INFINITY, down?.upAt ?? Number.POSITIVE_INFINITY, late.some((s) => s.node === null && s !== down?.station) ? joinAt : Number.POSITIVE_INFINITY);
      await time.runUntil(step);
      if (clock.now() >= nextSample) {
        sample();
        nextSample += sampleEvery;
      }
      if (clock.now() >= joinAt) for (const s of late) if (s.node === null && s !== down?.station) await bringUp(s);
      if (clock.now() >= nextTx && clock.now() < end) {
        submit();
        nextTx += txSpacing;
      }
      if (down !== null && clock.now() >= down.upAt) {
        restarts++;
        await bringUp(down.station);
        down = null;
        nextKill += 20 * 60_000;
      }
      if (opts.kill && down === null && clock.now() >= nextKill && clock.now() < end) {
        const up = stations.filter((s) => s.node !== null);
        const victim = up[Math.floor(random() * up.length)] as Station;
        await takeDown(victim);
        down = { station: victim, upAt: clock.now() + 3 * 60_000 };
      }
    }

    if (down !== null) {
      // Killed less than three minutes before the end: back for the drain, as it would have been.
      await time.runUntil(down.upAt);
      restarts++;
      await bringUp(down.station);
    }
    // Let the last transactions through: no new ones, until all are final or eight slots have passed.
    const drainStart = clock.now();
    const drainEnd = drainStart + 8 * Number(genesis.params.slotMs);
    // Transfers refused for now are sent again at the scenario's pace; none new.
    let nextRetry = clock.now() + txSpacing;
    while ((submittedAt.size > 0 || userModel.owedCount > 0) && clock.now() < drainEnd) {
      await time.runUntil(Math.min(drainEnd, clock.now() + 10_000, nextRetry));
      if (clock.now() >= nextRetry) {
        userModel.turn(running, null);
        txsSubmitted = userModel.submitted;
        nextRetry += txSpacing;
      }
    }
    const drainSeconds = (clock.now() - drainStart) / 1000;
    sample();
    return report(stations, channel, {
      virtualSeconds: opts.durationMs / 1000, drainSeconds, conflictingFinalized: conflicting, txsSubmitted, txsOwed: userModel.owedCount, txsRefused: userModel.refused, restarts, timeline, latencies, phases,
    });
  } finally {
    for (const s of stations) await takeDown(s);
    rmSync(root, { recursive: true, force: true });
  }
}

/** The report, from the running nodes' own stores and status and the channel's accounting. */
function report(stations: readonly Station[], channel: LoraChannel, run: { virtualSeconds: number; drainSeconds: number; conflictingFinalized: number; txsSubmitted: number; txsOwed: number; txsRefused: number; restarts: number; timeline: DevnetSample[]; latencies: number[]; phases: LatencyPhases }): DevnetReport {
  const live = stations.flatMap((s) => (s.node === null ? [] : [s.node]));
  // A restarted node's store holds what it finalized before; compare chains by height.
  const byHeight = new Map<number, Set<string>>();
  for (const n of live) {
    const store = n.reads.chain();
    for (let h = Math.max(1, store.baseHeight); h <= store.finalizedHeight; h++) {
      const id = n.finalizedHashAt(h);
      if (id !== null) byHeight.set(h, (byHeight.get(h) ?? new Set()).add(id));
    }
  }
  return {
    virtualSeconds: run.virtualSeconds,
    drainSeconds: run.drainSeconds,
    finalizedHeight: Math.min(...live.map((n) => n.reads.chain().finalizedHeight)),
    finalizedHashesAgree: [...byHeight.values()].every((ids) => ids.size === 1),
    conflictingFinalized: run.conflictingFinalized,
    txsSubmitted: run.txsSubmitted,
    txsOwed: run.txsOwed,
    txsRefused: run.txsRefused,
    ...summarise(channel.report(), run.latencies),
    restarts: run.restarts,
    timeline: run.timeline,
    finalityLatenciesSeconds: run.latencies.map((l) => Math.round(l * 10) / 10),
    finalityPhasesSeconds: run.phases.summary(),
    nodes: stations.map((s) => {
      const n = s.node;
      if (n === null) return { running: false, radio: { ...s.radio.stats, txAirtimeMsByClass: undefined } };
      const status = n.status();
      const engine = n.engineView();
      return {
        running: true, finalized: n.reads.chain().finalizedHeight, head: engine?.headHeight ?? status.height, mode: status.consensus.mode, peers: status.peers,
        warnings: status.warnings.map((w) => w.code), engine: engine?.stats ?? null, radioLink: status.radio, radio: { ...s.radio.stats, txAirtimeMsByClass: undefined },
      };
    }),
  };
}
