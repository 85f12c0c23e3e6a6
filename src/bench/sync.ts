import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "../core/bytes.js";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import { produceBlock } from "../core/chain/produce.js";
import { sha256 } from "../core/crypto/hash.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { type Genesis, parseGenesis } from "../core/genesis.js";
import type { DecodedTx } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { systemClock } from "../node/clock.js";
import { silentLogger } from "../node/logger.js";
import { MeshChainNode } from "../node/node.js";
import { seededRandom } from "../core/random.js";
import type { ParentInfo } from "../core/state/block-transition.js";
import { ChainStore, type CommitEntry } from "../storage/chain-store.js";
import { auditSignatures } from "../consensus/signature-audit.js";
import { BlsVerifier } from "../consensus/verifier.js";
import type { Measurement } from "./harness.js";
import { storageMeasurements } from "./storage.js";

const CHAIN_ID = "meshchain-bench-sync";
const identity = (name: string): Identity => identityFromSeed(sha256(utf8.encode(`meshchain-bench-sync:${name}`)));

/** The sync benchmark's chain: a lone validator's blocks, every twentieth with five transfers. */
function buildSource(dataDir: string, genesis: Genesis, validator: Identity, users: Identity[], blocks: number): void {
  const store = ChainStore.open(join(dataDir, "chain.db"), genesis);
  const nonces = users.map(() => 0);
  // Built on a working copy and committed 256 blocks a transaction: the source is scaffolding, not the measure.
  const state = store.state.clone();
  let tip: ParentInfo = store.tip;
  let batch: CommitEntry[] = [];
  try {
    for (let h = 1; h <= blocks; h++) {
      const txs: DecodedTx[] = [];
      if (h % 20 === 0) {
        for (let i = 0; i < 5; i++) {
          const u = (h / 20 + i) % users.length;
          const from = users[u] as Identity;
          const nonce = nonces[u] ?? 0;
          nonces[u] = nonce + 1;
          txs.push(signTx({ sender: from.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: (users[(u + 1) % users.length] as Identity).address, amount: 1_000n } }, CHAIN_ID, from.ed25519));
        }
      }
      const produced = produceBlock(state, { chainId: CHAIN_ID, parent: tip, slot: tip.slot + 1, timestamp: tip.timestamp + 30, candidates: txs, certificate: null, proposer: { address: validator.address, bls: validator.bls } });
      state.commit(produced.applied.changes, produced.applied.tree);
      const header = produced.block.header;
      tip = { height: header.height, hash: produced.applied.hash, slot: header.slot, timestamp: header.timestamp };
      batch.push({ block: produced.block, applied: produced.applied, notarization: null });
      if (batch.length === 256 || h === blocks) {
        store.commitBatch(batch, header.height);
        batch = [];
      }
    }
  } finally {
    store.close();
  }
}

/**
 * The proposer signatures range sync by finality proof left to the audit (consensus/signature-audit.ts),
 * checked to the tip on the stopped follower's store: what serving the synced blocks waits for.
 */
function auditRemaining(path: string, genesis: Genesis): Measurement {
  const store = ChainStore.open(path, genesis);
  try {
    const verifier = new BlsVerifier(CHAIN_ID);
    const from = store.signaturesCheckedHeight;
    const started = performance.now();
    for (;;) {
      const outcome = auditSignatures(store, verifier, 64);
      if (outcome.kind === "bad") throw new Error(`audit failed at block ${outcome.height}: ${outcome.reason}`);
      if (outcome.kind === "done") break;
    }
    const seconds = (performance.now() - started) / 1000;
    const audited = store.tip.height - from;
    return { name: "sync: proposer-signature audit after it, per 64-block batch", value: seconds > 0 ? audited / seconds : Number.NaN, unit: "blocks/s", note: `${audited.toLocaleString("en-US")} blocks left to audit when sync ended (the rest audited while syncing), ${seconds.toFixed(0)} s` };
  } finally {
    store.close();
  }
}

/**
 * Blocks per second when a fresh node syncs a validator's chain over the IP transport (MQTT through
 * the validator's embedded broker, on loopback): every block linked, executed (its transactions'
 * signatures checked) and committed to SQLite, one finality proof pairing-checked per response, the
 * proposer signatures left to the audit (docs/consensus.md §16), measured separately.
 */
export async function syncBenchmark(blocks = Number(process.env.MESHCHAIN_BENCH_SYNC_BLOCKS ?? 10_000)): Promise<Measurement[]> {
  const root = mkdtempSync(join(tmpdir(), "meshchain-bench-sync-"));
  const validator = identity("validator");
  const users = Array.from({ length: 50 }, (_, i) => identity(`user-${i}`));
  const follower = identity("follower");
  const genesis = parseGenesis(buildGenesisDocument({
    chainId: CHAIN_ID,
    genesisTime: Math.floor(Date.now() / 1000) - 10 * 86_400,
    validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 500 }],
    accounts: [...users, follower].map((identity) => ({ identity, balance: 1_000_000_000_000n })),
  }));
  const sourceDir = join(root, "source");
  const followerDir = join(root, "follower");
  mkdirSync(sourceDir);
  buildSource(sourceDir, genesis, validator, users, blocks);
  const common = { genesis, slotMs: 30_000, heartbeatSlots: 1_000_000_000, statusIntervalMs: 1_000 };
  const source = new MeshChainNode({ ...common, dataDir: sourceDir, identity: validator, network: { broker: "embedded", brokerPort: 0 } }, { clock: systemClock, logger: silentLogger(), random: seededRandom(1) });
  await source.start();
  const node = new MeshChainNode({ ...common, dataDir: followerDir, identity: follower, network: { broker: source.brokerUrl as string, brokerPort: 0 }, sync: { tickMs: 50 } }, { clock: systemClock, logger: silentLogger(), random: seededRandom(2) });
  let stopped = false;
  const stopBoth = async () => {
    if (stopped) return;
    stopped = true;
    await node.stop();
    await source.stop();
  };
  try {
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    let peakRss = process.memoryUsage().rss;
    const rssAt: { height: number; rss: number }[] = [];
    await node.start();
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 30 * 60_000;
      const poll = setInterval(() => {
        const rss = process.memoryUsage().rss;
        peakRss = Math.max(peakRss, rss);
        const height = node.status().height;
        if (rssAt.length === 0 || height - (rssAt[rssAt.length - 1] as { height: number }).height >= blocks / 10) rssAt.push({ height, rss });
        if (height >= blocks) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() > deadline) {
          clearInterval(poll);
          reject(new Error(`sync reached only ${node.status().height} of ${blocks} blocks`));
        }
      }, 20);
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const steps = node.metrics.importStepSeconds;
    const inSteps = [...steps.values()].reduce((a, b) => a + b, 0);
    const shares = ["sanity", "transition", "signatures", "finality", "commit"].map((step) => `${step} ${Math.round(((steps.get(step) ?? 0) / seconds) * 100)}%`).join(", ");
    const mb = (bytes: number) => Math.round(bytes / 1e6);
    const rssTrail = rssAt.map((r) => mb(r.rss)).join("→");
    await stopBoth();
    const audit = auditRemaining(join(followerDir, "chain.db"), genesis);
    const sync: Measurement = {
      name: `sync: ${blocks.toLocaleString("en-US")} blocks over MQTT on loopback`,
      value: blocks / seconds,
      unit: "blocks/s",
      note: `${seconds.toFixed(0)} s (${cpuSeconds.toFixed(0)} s of CPU for both nodes: ${Math.round(blocks / cpuSeconds)} blocks per CPU second); time share: ${shares}, other (network, decoding, serving) ${Math.round((1 - inSteps / seconds) * 100)}%; RSS ${rssTrail} MB (peak ${mb(peakRss)} MB, both nodes in one process)`,
    };
    return [sync, audit, ...storageMeasurements(genesis, CHAIN_ID, join(sourceDir, "chain.db"), join(followerDir, "chain.db"), root)];
  } finally {
    await stopBoth();
    rmSync(root, { recursive: true, force: true });
  }
}
