import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { seededRandom } from "../core/random.js";
import type { Identity } from "../core/crypto/identity.js";
import { txHash } from "../core/tx/codec.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { commitFinalized } from "../consensus/block-import.js";
import { ConsensusEngine, RADIO_LINK } from "../consensus/engine.js";
import type { ConsensusMessage } from "../consensus/messages.js";
import { BlsVerifier } from "../consensus/verifier.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../consensus/wire.js";
import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { controlRates } from "../mesh/airtime/control-rates.js";
import { PRESETS } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import { MessageEndpoint } from "../mesh/endpoint.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel, type SimRadio } from "../mesh/sim/channel.js";
import { SimTransport } from "../mesh/sim/transport.js";
import { ChainStore } from "../storage/chain-store.js";
import { SqliteMempoolStore } from "../storage/mempool-store.js";
import { SqliteSignerSafety } from "../storage/signer-store.js";
import { DEFAULT_MEMPOOL_OPTIONS, TxPool } from "./mempool.js";
import { PoolAdapter } from "./engine-adapters.js";
import { DEFAULT_SPACING_METERS, DEVNET_CHAIN_ID, type DevnetOptions, type DevnetReport, type DevnetSample, devnetChain, devnetLayout, devnetSample, sampleIntervalMs, summarise } from "./devnet-common.js";

export { DEFAULT_SPACING_METERS, type DevnetOptions, type DevnetReport } from "./devnet-common.js";

interface DevnetNode {
  readonly index: number;
  readonly identity: Identity;
  readonly radio: SimRadio;
  readonly dir: string;
  store: ChainStore;
  signer: SqliteSignerSafety;
  poolStore: SqliteMempoolStore;
  pool: TxPool;
  engine: ConsensusEngine;
  endpoint: MessageEndpoint;
  transport: SimTransport;
  alive: boolean;
  /** Consensus messages this node sent, by kind (diagnosis). */
  readonly sentByKind: Record<string, number>;

}

/**
 * N full nodes on one machine, over the LoRa simulator in virtual time: each with its own SQLite
 * chain store and signing record, mempool, consensus engine, message endpoint, airtime scheduler and
 * simulated radio.
 */
export async function runSimDevnet(opts: DevnetOptions): Promise<DevnetReport> {
  const random = seededRandom(opts.seed);
  const modulation = PRESETS[opts.preset];
  const { users, ids, genesis, genesisTime } = devnetChain(opts, 1_767_225_600);
  const clock = new ManualClock(genesisTime * 1000);
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation, random, defaultLoss: opts.loss, dutyCycle: dutyCycleFraction(opts.region ?? "EU_868"), rangeMeters: 5_000 }, clock);
  const verifier = new BlsVerifier(DEVNET_CHAIN_ID, 200_000);
  const root = mkdtempSync(join(tmpdir(), "meshchain-devnet-"));
  const spacing = opts.spacingMeters ?? DEFAULT_SPACING_METERS;
  const submittedAt = new Map<string, number>();
  const finalizedAt = new Map<string, Set<number>>();
  const latencies: number[] = [];
  const heightIds = new Map<number, string>();
  let conflicting = 0;
  let restarts = 0;

  const nodes: DevnetNode[] = [];
  const build = (node: Omit<DevnetNode, "store" | "signer" | "poolStore" | "pool" | "engine" | "endpoint" | "transport"> & Partial<DevnetNode>): DevnetNode => {
    const store = ChainStore.open(join(node.dir, "chain.db"), genesis);
    const signer = new SqliteSignerSafety(join(node.dir, "signer.db"));
    // The pool keeps its transactions on disk, so a restarted node still knows its users' pending nonces.
    const poolStore = new SqliteMempoolStore(join(node.dir, "mempool.db"));
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: DEVNET_CHAIN_ID }, { state: store.state, height: store.tip.height, slot: store.tip.slot }, poolStore, () => SlotClock.of(genesis, genesis.params).slotAt(clock.now()));
    const transport = new SimTransport(node.radio, { nodeNumber: node.index + 1, hopLimit: opts.hopLimit ?? 3, firstPacketId: 1 + Math.floor(random() * 1e9) });
    const scheduled = new AirtimeScheduler(transport, (f) => meshtasticFrameAirtimeMs(modulation, f.length), { ...DEFAULT_AIRTIME_POLICY, dutyCycle: dutyCycleFraction(opts.region ?? "EU_868"), queueLimitPerClass: 256 }, clock);
    const endpoint = new MessageEndpoint(scheduled, {}, { clock, random });
    const full = node as DevnetNode;
    const engine = new ConsensusEngine(genesis, store.state.clone(), store.tip, {
      clock, identity: node.identity, signer, verifier, mempool: new PoolAdapter(pool), link: RADIO_LINK,
      controlRates: controlRates(modulation, Number(genesis.params.slotMs)),
      network: {
        broadcast: (m) => {
          if (!full.alive) return;
          full.sentByKind[m.kind] = (full.sentByKind[m.kind] ?? 0) + 1;
          const { type, payload } = encodeConsensusMessage(m);
          void endpoint.send(type, payload).catch(() => undefined);
        },
      },
      onFinalized: (blocks) => {
        commitFinalized(full.store, blocks, DEVNET_CHAIN_ID);
        for (const b of blocks) {
          if (b.block === null) continue;
          const seen = heightIds.get(b.height);
          if (seen === undefined) heightIds.set(b.height, b.id);
          else if (seen !== b.id) conflicting++;
          for (const t of b.block.txs) {
            const id = toHex(txHash(t.bytes));
            const set = finalizedAt.get(id) ?? new Set<number>();
            set.add(full.index);
            finalizedAt.set(id, set);
            // Final at every running node (one that was down meanwhile may have finalized it before it went down).
            if (submittedAt.has(id) && nodes.every((n) => !n.alive || set.has(n.index))) {
              latencies.push((clock.now() - (submittedAt.get(id) as number)) / 1000);
              submittedAt.delete(id);
            }
          }
        }
        full.pool.onNewHead({ state: full.store.state, height: full.store.tip.height, slot: full.store.tip.slot });
      },
    });
    endpoint.onMessage((m) => {
      if (!full.alive) return;
      let message: ConsensusMessage | null;
      try {
        message = decodeConsensusMessage(m.type, m.payload);
      } catch {
        return;
      }
      if (message !== null) engine.receive(message);
    });
    return Object.assign(full, { store, signer, poolStore, pool, engine, endpoint, transport, alive: true });
  };

  const layout = devnetLayout(opts.nodes, spacing, opts.routers ?? 0);
  for (let i = 0; i < opts.nodes; i++) {
    const { position, router } = layout[i] as (typeof layout)[number];
    const radio = channel.addRadio(i + 1, { position, role: router ? "ROUTER" : "CLIENT" });
    nodes.push(build({ index: i, identity: ids[i] as Identity, radio, dir: mkdtempSync(join(root, `n${i}-`)), alive: true, sentByKind: {} }));
  }
  const lateJoin = opts.lateJoin ?? 0;
  if (lateJoin < 0 || lateJoin >= opts.nodes) throw new RangeError("lateJoin must leave at least one node to start with");
  const late = nodes.slice(opts.nodes - lateJoin);
  for (const n of late) n.alive = false;
  for (const n of nodes) {
    if (!n.alive) continue;
    await n.transport.start();
    n.endpoint.start();
    n.engine.start();
  }

  let txsSubmitted = 0;
  const submit = () => {
    const live = nodes.filter((n) => n.alive);
    const at = live[Math.floor(random() * live.length)];
    if (at === undefined) return;
    const u = at.index;
    const from = users[u] as Identity;
    const nonce = at.pool.nextNonce(from.address);
    const tx = signTx({ sender: from.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: (users[(u + 1) % users.length] as Identity).address, amount: 1_000n + BigInt(nonce) } }, DEVNET_CHAIN_ID, from.ed25519);
    try {
      at.pool.add(tx);
    } catch {
      return;
    }
    submittedAt.set(toHex(txHash(tx.bytes)), clock.now());
    txsSubmitted++;
    const { type, payload } = encodeConsensusMessage({ kind: "tx", tx });
    void at.endpoint.send(type, payload).catch(() => undefined);
  };

  const kill = async (n: DevnetNode) => {
    n.alive = false;
    n.engine.stop();
    n.endpoint.stop();
    await n.transport.stop();
    n.store.close();
    n.signer.close();
    n.poolStore.close();
  };
  const revive = async (n: DevnetNode) => {
    restarts++;
    // Reopen the node's own store and signing record, as a restarted process would.
    build(n);
    await bringUp(n);
  };
  const bringUp = async (n: DevnetNode) => {
    n.alive = true;
    await n.transport.start();
    n.endpoint.start();
    n.engine.start();
  };
  const joinAt = clock.now() + (late.length > 0 ? Math.floor(opts.durationMs / 3) : Number.POSITIVE_INFINITY);

  const txSpacing = opts.txPerMinute > 0 ? 60_000 / opts.txPerMinute : Number.POSITIVE_INFINITY;
  const end = clock.now() + opts.durationMs;
  let nextTx = clock.now() + txSpacing;
  let nextKill = clock.now() + 20 * 60_000;
  const startedAt = clock.now();
  const sampleEvery = sampleIntervalMs(opts.durationMs);
  let nextSample = startedAt + sampleEvery;
  const timeline: DevnetSample[] = [];
  const sample = () => {
    const up = nodes.filter((n) => n.alive);
    const s = devnetSample((clock.now() - startedAt) / 1000, up.map((n) => ({ finalized: n.engine.finalizedHeight, head: n.engine.head().height })), { submitted: txsSubmitted, final: latencies.length }, channel);
    timeline.push(s);
    opts.onProgress?.(s);
  };
  while (clock.now() < end) {
    const step = Math.min(end, nextTx, nextSample, opts.kill ? nextKill : Number.POSITIVE_INFINITY, late.some((n) => !n.alive) ? joinAt : Number.POSITIVE_INFINITY);
    clock.runUntil(step);
    if (clock.now() >= nextSample) {
      sample();
      nextSample += sampleEvery;
    }
    if (clock.now() >= joinAt) for (const n of late) if (!n.alive) await bringUp(n);
    if (clock.now() >= nextTx && clock.now() < end) {
      submit();
      nextTx += txSpacing;
    }
    if (opts.kill && clock.now() >= nextKill && clock.now() < end) {
      const up = nodes.filter((n) => n.alive);
      const victim = up[Math.floor(random() * up.length)] as DevnetNode;
      await kill(victim);
      clock.runUntil(clock.now() + 3 * 60_000);
      await revive(victim);
      nextKill += 20 * 60_000;
    }
  }

  // Let the last transactions through: no new ones, until all are final or eight slots have passed.
  const drainStart = clock.now();
  const drainEnd = drainStart + 8 * Number(genesis.params.slotMs);
  while (submittedAt.size > 0 && clock.now() < drainEnd) clock.runUntil(Math.min(drainEnd, clock.now() + 10_000));
  const drainSeconds = (clock.now() - drainStart) / 1000;
  sample();

  const live = nodes.filter((n) => n.alive);
  // A restarted node's engine starts at its stored tip: compare chains by height, not by position.
  const byHeight = new Map<number, Set<string>>();
  for (const n of live) {
    n.engine.finalizedChain.forEach((id, i) => {
      const h = n.engine.finalizedChainStart + i;
      byHeight.set(h, (byHeight.get(h) ?? new Set()).add(id));
    });
  }
  const agree = [...byHeight.values()].every((ids) => ids.size === 1);
  const result: DevnetReport = {
    virtualSeconds: opts.durationMs / 1000,
    drainSeconds,
    finalizedHeight: Math.min(...live.map((n) => n.engine.finalizedHeight)),
    finalizedHashesAgree: agree,
    conflictingFinalized: conflicting,
    txsSubmitted,
    ...summarise(channel.report(), latencies),
    restarts,
    timeline,
    finalityLatenciesSeconds: latencies.map((l) => Math.round(l * 10) / 10),
    nodes: nodes.map((n) => ({ finalized: n.engine.finalizedHeight, head: n.engine.head().height, pendingCompacts: n.engine.pendingCompactCount, sent: n.sentByKind, engine: n.engine.stats, endpoint: n.endpoint.stats, reassembly: { ...n.endpoint.reassembly }, radio: { ...n.radio.stats, txAirtimeMsByClass: undefined } })),
  };
  for (const n of nodes) if (n.alive) await kill(n);
  rmSync(root, { recursive: true, force: true });
  return result;
}
