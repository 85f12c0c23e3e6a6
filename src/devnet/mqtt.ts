import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../core/bytes.js";
import type { Identity } from "../core/crypto/identity.js";
import { seededRandom } from "../core/random.js";
import { txHash } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { PRESETS } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { type EmbeddedBroker, startEmbeddedBroker } from "../mesh/broker.js";
import { PRIVATE_APP_PORT } from "../mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../mesh/sim/channel.js";
import { EmulatedRadio } from "../mesh/sim/radio-emulator.js";
import { StreamRadio } from "../mesh/sim/stream-radio.js";
import { StreamRadioTcpServer } from "../mesh/sim/stream-radio-server.js";
import { systemClock } from "../node/clock.js";
import { DEFAULT_SPACING_METERS, type DevnetOptions, type DevnetReport, type DevnetSample, DEVNET_CHANNEL as CHANNEL, DEVNET_CHANNEL_PSK as CHANNEL_PSK, devnetChain, devnetSample, sampleIntervalMs, summarise } from "./common.js";
import { silentLogger } from "../node/logger.js";
import { MeshChainNode } from "../node/node.js";

export interface MqttDevnetOptions extends DevnetOptions {
  /** A broker URL; absent: an embedded broker on a free port. */
  readonly broker?: string;
  /**
   * How each node reaches its emulated radio: through the radio's MQTT gateway (default), or over
   * its stream API on TCP (then the radios need no broker, and the nodes send as the radios).
   */
  readonly radioLink?: "mqtt-gateway" | "stream";
  /**
   * Ends the run at the first progress sample where this holds, `durationMs` then being only the
   * limit: a test waits for an outcome, however slowly a loaded machine reaches it.
   */
  readonly stopWhen?: (sample: DevnetSample) => boolean;
}

/**
 * N full nodes in real time, each a complete `MeshChainNode` (stores, pool, engine, network) whose only
 * link is its radio: a Meshtastic MQTT gateway emulated in front of a simulated LoRa radio, each under
 * its own topic root on one broker, so a node hears exactly what its radio hears on the simulated air.
 */
export async function runMqttDevnet(opts: MqttDevnetOptions): Promise<DevnetReport> {
  // A lone validator announces nothing (its followers sync over IP), and these nodes have only radios.
  if (opts.validators < 2) throw new RangeError("the MQTT devnet needs at least two validators");
  if ((opts.lateJoin ?? 0) > 0) throw new RangeError("late joiners are a simulator option");
  const random = seededRandom(opts.seed);
  const { users, ids, genesis } = devnetChain(opts, Math.floor(systemClock.now() / 1000));
  const slotMs = Number(genesis.params.slotMs);
  const region = opts.region ?? "EU_868";
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS[opts.preset], random, defaultLoss: opts.loss, dutyCycle: dutyCycleFraction(region), rangeMeters: 5_000 }, systemClock);
  const stream = opts.radioLink === "stream";
  const embedded: EmbeddedBroker | null = opts.broker === undefined && !stream ? await startEmbeddedBroker({ port: 0 }) : null;
  const url = embedded?.url ?? opts.broker ?? "none";
  const root = mkdtempSync(join(tmpdir(), "meshchain-mqtt-devnet-"));
  const cols = Math.ceil(Math.sqrt(opts.nodes));
  const spacing = opts.spacingMeters ?? DEFAULT_SPACING_METERS;
  const radios: { stop(): Promise<void> }[] = [];
  const streamUrls: string[] = [];
  const nodes: (MeshChainNode | null)[] = [];
  let restarts = 0;

  const startNode = async (i: number): Promise<MeshChainNode> => {
    const node = new MeshChainNode(
      {
        dataDir: join(root, `n${i}`), genesis, identity: ids[i] as Identity, slotMs, heartbeatSlots: Number(genesis.params.heartbeatSlots), statusIntervalMs: 6 * slotMs,
        network: {
          broker: url, brokerPort: 0, ipPeers: false,
          radio: stream
            ? { broker: streamUrls[i] as string, region: null, preset: null, channel: CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: 3, budgetSecondsPerHour: 360 }
            : { broker: url, root: `devnet/${i}/msh`, region, preset: opts.preset, channel: CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: 3, budgetSecondsPerHour: 360 },
        },
      },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(opts.seed * 1000 + i + restarts * 100) },
    );
    await node.start();
    return node;
  };

  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let txsSubmitted = 0;
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const radio = channel.addRadio(0x7000_0000 + i, { position: { x: (i % cols) * spacing, y: Math.floor(i / cols) * spacing } });
      if (stream) {
        const settings = { nodeNumber: 0x7000_0000 + i, firmwareVersion: "2.7.15.emulated", region, preset: opts.preset, hopLimit: 3, ignoreMqtt: false, role: "CLIENT", rebroadcastMode: "ALL", channels: [{ name: CHANNEL.name, psk: CHANNEL_PSK }], mqttEnabled: false };
        const emulated = new StreamRadio(radio, { settings }, systemClock);
        const server = new StreamRadioTcpServer(emulated);
        streamUrls.push(await server.start());
        radios.push({ stop: async () => (emulated.closeAll(), await server.stop()) });
      } else {
        const emulated = new EmulatedRadio({ link: { url, clientId: `devnet-radio-${i}` }, root: `devnet/${i}/msh`, region, channel: CHANNEL, nodeNumber: 0x7000_0000 + i }, radio, { clock: systemClock, random });
        await emulated.start();
        radios.push(emulated);
      }
      nodes.push(await startNode(i));
    }
    const checkFinal = () => {
      const live = nodes.filter((n): n is MeshChainNode => n !== null);
      for (const [id, at] of submittedAt) {
        const hash = Uint8Array.from(Buffer.from(id, "hex"));
        if (live.every((n) => n.finalizedTxHeight(hash) !== null)) {
          latencies.push((systemClock.now() - at) / 1000);
          submittedAt.delete(id);
        }
      }
    };
    const submit = () => {
      const i = Math.floor(random() * opts.nodes);
      const node = nodes[i];
      if (node == null) return;
      const from = users[i] as Identity;
      const nonce = node.nextNonce(from.address);
      const tx = signTx({ sender: from.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: (users[(i + 1) % users.length] as Identity).address, amount: 1_000n + BigInt(nonce) } }, genesis.chainId, from.ed25519);
      try {
        node.submitTransaction(tx.bytes);
      } catch {
        return;
      }
      submittedAt.set(toHex(txHash(tx.bytes)), systemClock.now());
      txsSubmitted++;
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const started = systemClock.now();
    const end = started + opts.durationMs;
    const txSpacing = opts.txPerMinute > 0 ? 60_000 / opts.txPerMinute : Number.POSITIVE_INFINITY;
    let nextTx = started + txSpacing;
    let nextKill = started + opts.durationMs / 3;
    // Real time here: a sample every 10 s at least, so the operator sees it move.
    const sampleEvery = sampleIntervalMs(opts.durationMs, 10_000);
    let nextSample = started + sampleEvery;
    const timeline: DevnetSample[] = [];
    let stopped = false;
    const sample = () => {
      const up = nodes.filter((n): n is MeshChainNode => n !== null).map((n) => n.status());
      const s = devnetSample((systemClock.now() - started) / 1000, up.map((x) => ({ finalized: x.finalizedHeight, head: x.height })), { submitted: txsSubmitted, final: latencies.length }, channel);
      timeline.push(s);
      opts.onProgress?.(s);
      stopped ||= opts.stopWhen?.(s) ?? false;
    };
    while (!stopped && systemClock.now() < end) {
      await sleep(Math.max(10, Math.min(1_000, end - systemClock.now())));
      checkFinal();
      if (systemClock.now() >= nextSample) {
        sample();
        nextSample += sampleEvery;
      }
      if (systemClock.now() >= nextTx) {
        submit();
        nextTx += txSpacing;
      }
      if (opts.kill && systemClock.now() >= nextKill) {
        nextKill += opts.durationMs / 3;
        const victim = Math.floor(random() * opts.nodes);
        await nodes[victim]?.stop();
        nodes[victim] = null;
        await sleep(Math.min(3 * slotMs, Math.max(0, end - systemClock.now())));
        restarts++;
        nodes[victim] = await startNode(victim);
      }
    }
    const drainStart = systemClock.now();
    while (submittedAt.size > 0 && systemClock.now() < drainStart + 8 * slotMs) {
      await sleep(500);
      checkFinal();
    }
    sample();
    const live = nodes.filter((n): n is MeshChainNode => n !== null);
    const finalizedHeight = Math.min(...live.map((n) => n.status().finalizedHeight));
    let conflicting = 0;
    for (let h = 1; h <= Math.max(...live.map((n) => n.status().finalizedHeight)); h++) {
      const hashes = new Set(live.map((n) => n.finalizedHashAt(h)).filter((x): x is string => x !== null));
      if (hashes.size > 1) conflicting++;
    }
    return {
      virtualSeconds: stopped ? Math.round((drainStart - started) / 1000) : opts.durationMs / 1000,
      drainSeconds: Math.round((systemClock.now() - drainStart) / 1000),
      finalizedHeight,
      finalizedHashesAgree: conflicting === 0,
      conflictingFinalized: conflicting,
      txsSubmitted,
      ...summarise(channel.report(), latencies),
      restarts,
      timeline,
      finalityLatenciesSeconds: latencies.map((l) => Math.round(l * 10) / 10),
      nodes: live.map((n) => ({ ...n.status() })),
    };
  } finally {
    for (const n of nodes) await n?.stop();
    for (const r of radios) await r.stop();
    await embedded?.close();
    rmSync(root, { recursive: true, force: true });
  }
}
