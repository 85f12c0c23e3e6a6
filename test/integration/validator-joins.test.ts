import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import { blsProvePossession } from "../../src/core/crypto/bls.js";
import type { Identity } from "../../src/core/crypto/identity.js";
import { nextEpochStart } from "../../src/core/state/epoch.js";
import { TxKind } from "../../src/core/tx/types.js";
import { ManualClock, systemClock } from "../../src/node/clock.js";
import { createLogger, silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { mosquittoBroker, mosquittoPath, type TestBroker } from "../fixtures/brokers.js";
import { CHAIN_ID, COIN, testChain, tx } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const haveMosquitto = mosquittoPath() !== null;
if (process.env.CI !== undefined && !haveMosquitto) throw new Error("CI must install mosquitto (.ci/run)");

const EPOCH = 6;
// One-second slots, a block every slot: the epoch boundary comes within seconds.
const chain = testChain({ validators: 1, users: 3, params: { slotMs: 1_000n, heartbeatSlots: 1n, epochLength: BigInt(EPOCH) } });
const dir = tempDirsPerTest();
const running: MeshChainNode[] = [];
let broker: TestBroker | null = null;

afterAll(async () => {
  for (const n of running.splice(0).reverse()) await n.stop();
  await broker?.close();
});

async function startNode(identity: Identity, url: string, seed: number): Promise<{ node: MeshChainNode; dataDir: string }> {
  const dataDir = dir();
  const logger = process.env.JOIN_DEBUG !== undefined ? createLogger({ level: "debug", format: "pretty" }) : silentLogger();
  // No slotMs: the lone validator runs at the genesis slotMs, the slots the chain keeps when it grows.
  const node = new MeshChainNode(
    { dataDir, genesis: chain.genesis, identity, heartbeatSlots: 1, statusIntervalMs: 300, network: { broker: url, brokerPort: 0 }, sync: { tickMs: 100 } },
    { clock: systemClock, logger, random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return { node, dataDir };
}

describe.skipIf(!haveMosquitto)("a single-validator chain grows over mosquitto", () => {
  it("a validator registering on the running chain joins consensus at the next epoch start, and the follower keeps following", async () => {
    broker = await mosquittoBroker();
    const [lone] = chain.validators as [Identity];
    const [joiner, watcher] = chain.users as [Identity, Identity];
    const first = await startNode(lone, broker.url, 1);
    const follower = await startNode(watcher, broker.url, 2);
    const second = await startNode(joiner, broker.url, 3);
    expect([first, follower, second].map((n) => n.node.status().role)).toEqual(["validator", "follower", "follower"]);
    await waitFor(() => first.node.status().height >= 2, 30_000, "the lone validator to make blocks");

    const register = tx(joiner, 0, { kind: TxKind.ValidatorRegister, commissionBps: 500, selfBond: 2_000n * COIN, blsPublicKey: joiner.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, joiner.bls) }, { fee: 10_000n });
    first.node.submitTransaction(register.bytes);
    // Its epoch: the first epoch start after the block that includes the registration.
    await waitFor(() => first.node.status().validators === 2, 60_000, "the joiner to enter the voting set");
    const joinedBy = first.node.status().finalizedHeight;
    await waitFor(() => second.node.status().role === "validator", 30_000, "the joiner to start voting");
    const target = joinedBy + 4;
    await waitFor(() => [first, second].every((n) => n.node.status().finalizedHeight >= target), 90_000, "both validators to finalize past the epoch start");
    // The follower's finality trails its tip by the blocks not yet final (a child notarized in the next slot).
    await waitFor(() => follower.node.status().height >= target && follower.node.status().finalizedHeight >= target - 1, 60_000, "the follower to keep following");

    for (const n of running.splice(0).reverse()) await n.stop();
    const stores = [first, second, follower].map((n) => ChainStore.open(join(n.dataDir, "chain.db"), chain.genesis));
    try {
      const common = Math.min(...stores.map((s) => s.finalizedHeight));
      expect(common).toBeGreaterThanOrEqual(target - 1);
      for (let h = 1; h <= common; h++) expect(new Set(stores.map((s) => s.blockHashAt(h).join())).size, `height ${h}`).toBe(1);
      // Up to the epoch start a lone producer's blocks carry no certificate; after it, certificates name both voters.
      const s = stores[0]!;
      // The epoch start after the block that carries the registration (the only transaction sent).
      const registeredAt = Array.from({ length: common }, (_, i) => i + 1).find((h) => s.blockAt(h)!.txs.length > 0)!;
      const epochStart = nextEpochStart(registeredAt, BigInt(EPOCH));
      expect(epochStart).toBeLessThanOrEqual(joinedBy);
      for (let h = 1; h < epochStart; h++) expect(s.blockAt(h)!.header.certificate, `height ${h}`).toBeNull();
      const certified = Array.from({ length: common - epochStart }, (_, i) => s.blockAt(epochStart + 1 + i)!.header.certificate).filter((c) => c !== null);
      expect(certified.length).toBeGreaterThan(0);
      // Neither holds two thirds of the weight alone, so every certificate carries both votes.
      for (const c of certified) expect(signerIndices(c.signers)).toEqual([0, 1]);
    } finally {
      for (const s of stores) s.close();
    }
  }, 240_000);
});

describe("a lone validator without a broker, when its chain is about to grow", () => {
  it("stops making blocks before the first one that needs the newcomer's vote, and says why", async () => {
    const small = testChain({ validators: 1, users: 1, params: { slotMs: 1_000n, heartbeatSlots: 1n, epochLength: BigInt(EPOCH) } });
    const clock = new ManualClock(small.genesis.genesisTime * 1000);
    const logged: string[] = [];
    const logger = silentLogger();
    const errors = { ...logger, error: (_obj: unknown, msg?: string) => void logged.push(msg ?? "") } as typeof logger;
    const node = new MeshChainNode({ dataDir: dir(), genesis: small.genesis, identity: small.validators[0]!, heartbeatSlots: 1, statusIntervalMs: 600_000 }, { clock, logger: errors, random: seededRandom(9) });
    await node.start();
    try {
      const newcomer = small.users[0]!;
      node.submitTransaction(tx(newcomer, 0, { kind: TxKind.ValidatorRegister, commissionBps: 0, selfBond: 2_000n * COIN, blsPublicKey: newcomer.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, newcomer.bls) }, { fee: 10_000n }).bytes);
      for (let i = 0; i < 3 * EPOCH; i++) clock.advance(1_000);
      // It made blocks up to the last one before the epoch start, and none after.
      expect(node.status().height).toBe(EPOCH - 1);
      expect(logged.some((m) => m.includes("needs a broker"))).toBe(true);
    } finally {
      await node.stop();
    }
  });
});

