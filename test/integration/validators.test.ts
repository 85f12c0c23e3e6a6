import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { formatAddress } from "../../src/core/crypto/address.js";
import { blockHash } from "../../src/core/block/header.js";
import { createLogger, silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { systemClock } from "../../src/node/clock.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
// Two-second slots and a block every slot: finality within seconds, in real time.
const chain = testChain({ validators: 3, users: 2, params: { slotMs: 2_000n, heartbeatSlots: 1n } });
const running: MeshChainNode[] = [];

afterEach(async () => {
  // The first node owns the embedded broker: stop it last, so the others leave it cleanly.
  for (const n of running.splice(0).reverse()) await n.stop();
});

async function startNode(identity: NodeOptions["identity"], broker: string, seed: number): Promise<{ node: MeshChainNode; dataDir: string }> {
  const dataDir = dir();
  const logger = process.env.SYNC_DEBUG !== undefined ? createLogger({ level: "debug", format: "pretty" }) : silentLogger();
  const node = new MeshChainNode(
    // --slot-ms is the lone validator's; a chain of several keeps its own slotMs parameter (2 s), which status must use.
    { dataDir, genesis: chain.genesis, identity, slotMs: 7_000, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker, brokerPort: 0 }, sync: { tickMs: 100 } },
    { clock: systemClock, logger, random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return { node, dataDir };
}

describe("validators running consensus over MQTT", () => {
  it("three validator nodes finalize the same chain with a transfer in it, and a follower syncs it", async () => {
    const [v0, v1, v2] = chain.validators;
    const [alice, bob] = chain.users;
    const first = await startNode(v0!, "embedded", 1);
    const broker = first.node.brokerUrl!;
    const others = [await startNode(v1!, broker, 2), await startNode(v2!, broker, 3)];
    const validators = [first, ...others];
    expect(first.node.status().role).toBe("validator");
    await waitFor(() => validators.every((v) => v.node.status().finalizedHeight >= 2), 60_000, "the validators to finalize");
    first.node.submitTransaction(transfer(alice!, 0, bob!.address, 7_000n).bytes);
    await waitFor(() => validators.every((v) => v.node.status().mempool.transactions === 0), 60_000, "the transfer to be final everywhere");
    const expectedSlot = Math.floor((Date.now() - chain.genesis.genesisTime * 1000) / 2_000);
    expect(Math.abs(first.node.status().slot - expectedSlot)).toBeLessThanOrEqual(1);
    // The engine's own figures reach the metrics, and every validator's last vote reaches the page's list.
    const metrics = await first.node.metricsText();
    for (const family of ["meshchain_consensus_slots_total", "meshchain_consensus_votes_received_total", "meshchain_consensus_certificates_total", "meshchain_consensus_finalized_blocks_total"]) {
      expect(Number(metrics.match(new RegExp(`^${family} (\\d+)$`, "m"))?.[1])).toBeGreaterThan(0);
    }
    expect(Number(metrics.match(/^meshchain_consensus_votes_sent_total\{resent="false"\} (\d+)$/m)?.[1])).toBeGreaterThan(0);
    const listed = first.node.validatorList();
    expect(listed.map((v) => v.self)).toEqual(expect.arrayContaining([true, false, false]));
    expect(listed.every((v) => v.lastVote !== null && v.weightShare > 0.3)).toBe(true);
    const reached = Math.min(...validators.map((v) => v.node.status().finalizedHeight));
    const follower = await startNode(bob!, broker, 4);
    // A follower proves finality itself, so its own trails its tip by a block: compare tips.
    await waitFor(() => follower.node.status().height >= reached, 60_000, "the follower to sync");
    expect(follower.node.status().role).toBe("follower");
    // The first node owns the embedded broker: stop it last, so the others leave it cleanly.
    for (const n of running.splice(0).reverse()) await n.stop();
    // Every store holds the same blocks up to the lowest finalized height, the transfer among them.
    const stores = [...validators, follower].map((v) => ChainStore.open(join(v.dataDir, "chain.db"), chain.genesis));
    try {
      const common = Math.min(...stores.map((s) => s.finalizedHeight));
      expect(common).toBeGreaterThanOrEqual(2);
      for (let h = 1; h <= common; h++) {
        const hashes = new Set(stores.map((s) => toHex(blockHash(s.blockAt(h)!.header))));
        expect(hashes.size).toBe(1);
      }
      // The validators committed the transfer's block as final.
      const included = stores.slice(0, 3).map((s) => [...Array(s.tip.height).keys()].some((i) => (s.blockAt(i + 1)?.txs.length ?? 0) > 0));
      expect(included).toEqual([true, true, true]);
    } finally {
      for (const s of stores) s.close();
    }
    // Its three waits have a minute each: the test as a whole allows their sum, not the 60 s default.
  }, 180_000);

  it("a validator back after missing many blocks range-syncs first, then takes part in consensus again", async () => {
    const four = testChain({ validators: 4, users: 1, params: { slotMs: 2_000n, heartbeatSlots: 1n } });
    const start = async (identity: NodeOptions["identity"], broker: string, seed: number, dataDir = dir()) => {
      const node = new MeshChainNode(
        // Named as silent after five slots without a vote, not ten: by then the other three have made the
        // five blocks it misses, so the test does not wait out five more slots (10 s) for the warning.
        { dataDir, genesis: four.genesis, identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker, brokerPort: 0 }, sync: { tickMs: 100 }, silentValidatorSlots: 5 },
        { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
      );
      running.push(node);
      await node.start();
      return { node, dataDir };
    };
    const first = await start(four.validators[0]!, "embedded", 11);
    const broker = first.node.brokerUrl!;
    await start(four.validators[1]!, broker, 12);
    await start(four.validators[2]!, broker, 13);
    const absent = await start(four.validators[3]!, broker, 14);
    await waitFor(() => absent.node.status().finalizedHeight >= 1, 60_000, "all four to finalize");
    await absent.node.stop();
    running.splice(running.indexOf(absent.node), 1);
    // Three of four hold more than two thirds: the chain goes on without it.
    const before = first.node.status().finalizedHeight;
    await waitFor(() => first.node.status().finalizedHeight >= before + 5, 60_000, "the others to finalize without it");
    // The operator is told who stopped voting (five slots without a vote here, while the others vote). Its
    // last vote is known only if one reached a certificate before it left ("never heard" otherwise:
    // three of four sign without it, so which it is depends on timing).
    const absentAddress = formatAddress(four.validators[3]!.address);
    const named = (reason: string) => reason.includes(`${absentAddress} (last vote slot`) || reason.includes(`${absentAddress} (never heard)`);
    await waitFor(() => first.node.status().warnings.some((w) => w.code === "VALIDATOR_NOT_VOTING" && named(w.reason)), 120_000, () => `the silent validator to be named (warnings: ${JSON.stringify(first.node.status().warnings)})`);
    const back = await start(four.validators[3]!, broker, 15, absent.dataDir);
    await waitFor(() => back.node.status().finalizedHeight >= before + 5, 30_000, "the returning validator to sync");
    // Back in consensus: it sees new blocks finalized beyond what it synced.
    const synced = back.node.status().finalizedHeight;
    await waitFor(() => back.node.status().finalizedHeight >= synced + 2, 30_000, "the returning validator to follow consensus");
    expect(back.node.status().sync.state).toBe("synced");
    await waitFor(() => !first.node.status().warnings.some((w) => w.code === "VALIDATOR_NOT_VOTING"), 60_000, "the warning to clear once it votes again");
    // Its steps wait on conditions, each with its own limit: the test as a whole allows their sum.
  }, 240_000);
});
