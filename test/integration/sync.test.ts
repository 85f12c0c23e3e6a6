import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../../src/core/bytes.js";
import { createLogger, silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { systemClock } from "../../src/node/clock.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 1, users: 2 });
const [validator] = chain.validators;
const [alice, bob] = chain.users;
const running: MeshChainNode[] = [];

afterEach(async () => {
  // The first node owns the embedded broker: stop it last, so the others leave it cleanly.
  for (const n of running.splice(0).reverse()) await n.stop();
});

/** A data directory holding `blocks` blocks of the test chain, every tenth with a transfer. */
function storedChain(blocks: number): string {
  const dataDir = dir();
  const store = ChainStore.open(join(dataDir, "chain.db"), chain.genesis);
  let nonce = 0;
  growChain(store, chain.validators, blocks, { txs: (h) => (h % 10 === 0 ? [transfer(alice!, nonce++, bob!.address, 1_000n)] : []) });
  store.close();
  return dataDir;
}

async function startNode(opts: Partial<NodeOptions> & { dataDir: string; identity: NodeOptions["identity"]; broker: string }, seed: number): Promise<MeshChainNode> {
  const { broker, ...rest } = opts;
  const node = new MeshChainNode(
    { genesis: chain.genesis, slotMs: 1_000, heartbeatSlots: 100_000, statusIntervalMs: 200, network: { broker, brokerPort: 0 }, sync: { tickMs: 100, requestTimeoutMs: 2_000 }, ...rest },
    { clock: systemClock, logger: process.env.SYNC_DEBUG ? createLogger({ level: "debug", format: "pretty" }) : silentLogger(), random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return node;
}

describe("sync between nodes over MQTT", () => {
  it("a follower catches up with a validator, passes on a transaction, and keeps following", async () => {
    const source = await startNode({ dataDir: storedChain(150), identity: validator!, broker: "embedded" }, 1);
    const follower = await startNode({ dataDir: dir(), identity: bob!, broker: source.brokerUrl! }, 2);
    await waitFor(() => follower.status().height >= 150 && follower.status().sync.state === "synced", 60_000, "the follower to sync");
    const s = follower.status();
    expect(s.role).toBe("follower");
    expect(s.tipHash).toBe(source.status().tipHash);
    // A lone validator's notarized blocks are final as soon as they are checked.
    expect(s.finalizedHeight).toBe(s.height);
    expect(s.sync.percent).toBe(100);
    // Submitted at the follower, included by the validator, and synced back.
    const submitted = follower.submitTransaction(transfer(alice!, 15, bob!.address, 5_000n).bytes);
    expect(submitted).toMatchObject({ status: "accepted", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await waitFor(() => source.status().mempool.transactions === 0 && source.status().height > 150, 20_000, "the validator to include the transfer");
    await waitFor(() => follower.status().height === source.status().height && follower.status().mempool.transactions === 0, 20_000, "the follower to sync the new block");
  });

  it("a validator that range-synced by finality proof audits the proposer signatures before it joins consensus, so it serves all it holds", async () => {
    // One-second slots, a block every slot: at the chain's default 30 s slots the pair waited up to a
    // slot for its first block together, idle in wall-clock time (about 20 of the test's 32 s).
    const pair = testChain({ validators: 2, users: 1, params: { slotMs: 1_000n, heartbeatSlots: 1n } });
    const dataDir = dir();
    const grown = ChainStore.open(join(dataDir, "chain.db"), pair.genesis);
    // More than one sync request (64 blocks) and several of the audit's 32-block batches: the audit once
    // stopped after its first batch. 400 blocks cost about three times the BLS signing for nothing more.
    const blocks = 160;
    growChain(grown, pair.validators, blocks, { final: true });
    grown.close();
    const opts = { genesis: pair.genesis, slotMs: 1_000, heartbeatSlots: 1 };
    const source = await startNode({ ...opts, dataDir, identity: pair.validators[0]!, broker: "embedded" }, 7);
    const joinerDir = dir();
    const joiner = await startNode({ ...opts, dataDir: joinerDir, identity: pair.validators[1]!, broker: source.brokerUrl! }, 8);
    // A block beyond those synced needs both validators' votes: the joiner is in consensus.
    await waitFor(() => joiner.status().height > blocks, 90_000, () => `the second validator to sync and vote new blocks (joiner: ${JSON.stringify({ h: joiner.status().height, f: joiner.status().finalizedHeight, sync: joiner.status().sync, w: joiner.status().warnings })}, source: ${source.status().height})`);
    await joiner.stop();
    running.splice(running.indexOf(joiner), 1);
    const store = ChainStore.open(join(joinerDir, "chain.db"), pair.genesis);
    try {
      expect(store.signaturesCheckedHeight).toBe(store.tip.height);
    } finally {
      store.close();
    }
  }, 120_000);

  it("a new node starts from a peer's checkpoint snapshot instead of replaying history", async () => {
    const source = await startNode({ dataDir: storedChain(60), identity: validator!, broker: "embedded" }, 3);
    const checkpoint = source.status().checkpoint;
    expect(checkpoint).not.toBeNull();
    const dataDir = dir();
    const fresh = await startNode({ dataDir, identity: bob!, broker: source.brokerUrl!, checkpoint: fromHex(checkpoint!.hash), checkpointTimeoutMs: 20_000 }, 4);
    // The source may still add a block meanwhile: wait for the same tip, not for the first height past 60.
    await waitFor(
      () => fresh.status().height >= 60 && fresh.status().sync.state === "synced" && fresh.status().tipHash === source.status().tipHash,
      30_000,
      () => `the checkpointed node to reach the source's tip (fresh at ${fresh.status().height}, source at ${source.status().height})`,
    );
    await fresh.stop();
    const store = ChainStore.open(join(dataDir, "chain.db"), chain.genesis);
    try {
      expect(store.baseHeight).toBe(checkpoint!.height);
      expect(store.blockAt(1)).toBeNull();
    } finally {
      store.close();
    }
  });

  it("a checkpoint nobody serves fails with a typed error and leaves no chain behind", async () => {
    const source = await startNode({ dataDir: storedChain(5), identity: validator!, broker: "embedded" }, 5);
    const dataDir = dir();
    await expect(startNode({ dataDir, identity: bob!, broker: source.brokerUrl!, checkpoint: new Uint8Array(32).fill(7), checkpointTimeoutMs: 1_500 }, 6)).rejects.toMatchObject({ code: "CHECKPOINT_UNAVAILABLE" });
    const { existsSync } = await import("node:fs");
    expect(existsSync(join(dataDir, "chain.db"))).toBe(false);
  });
});
