import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { embeddedBroker, type TestBroker } from "../fixtures/brokers.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { startTcpProxy, type TcpProxy } from "../fixtures/tcp-proxy.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 3, users: 2, params: { slotMs: 2_000n, heartbeatSlots: 1n } });
const running: MeshChainNode[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const n of running.splice(0).reverse()) await n.stop();
  for (const c of closers.splice(0).reverse()) await c();
});

/** Frames the node's IP transport has sent, as its metrics say. */
async function framesSentOnIp(node: MeshChainNode): Promise<number> {
  const line = /^meshchain_frames_sent_total\{link="ip"\} (\d+)$/m.exec(await node.metricsText());
  return line === null ? 0 : Number(line[1]);
}

async function startNode(identity: NodeOptions["identity"], broker: string, seed: number, dataDir = dir()): Promise<MeshChainNode> {
  const node = new MeshChainNode(
    { dataDir, genesis: chain.genesis, identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker, brokerPort: 0 }, sync: { tickMs: 100 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return node;
}

describe("at-least-once delivery of accepted transactions", () => {
  it("transfers accepted by a follower while every validator is off the broker all become final once they are back", { timeout: 180_000 }, async () => {
    const broker: TestBroker = await embeddedBroker();
    closers.push(() => broker.close());
    const proxy: TcpProxy = await startTcpProxy(Number(new URL(broker.url).port));
    closers.push(() => proxy.close());
    const validators = [
      await startNode(chain.validators[0]!, proxy.url, 1),
      await startNode(chain.validators[1]!, proxy.url, 2),
      await startNode(chain.validators[2]!, proxy.url, 3),
    ];
    const [alice, bob] = chain.users;
    const follower = await startNode(bob!, broker.url, 4);
    await waitFor(() => validators.every((v) => v.status().finalizedHeight >= 2), 60_000, "the validators to finalize");

    // The validators' link goes away; the follower's does not. What it publishes reaches no validator.
    proxy.cut();
    await waitFor(() => validators.every((v) => v.status().links.ip === "disconnected"), 30_000, "the validators to notice");
    const hashes: string[] = [];
    const sentBefore = await framesSentOnIp(follower);
    for (let nonce = 0; nonce < 8; nonce++) {
      const answer = follower.submitTransaction(transfer(alice!, nonce, bob!.address, 1_000n + BigInt(nonce)).bytes);
      expect(answer.status).toBe("accepted");
      hashes.push(answer.hash);
    }
    expect(follower.status().accepted.pending).toBe(8);
    // The broker has taken all eight (transactions go at QoS 1, counted once it acknowledges them)
    // while no validator was there to hear them.
    let sent = sentBefore;
    const polling = setInterval(() => void framesSentOnIp(follower).then((n) => (sent = n)), 20);
    try {
      await waitFor(() => sent >= sentBefore + 8, 30_000, () => `the follower to publish the eight (${sent - sentBefore} frames so far)`);
    } finally {
      clearInterval(polling);
    }
    proxy.restore();

    // Nothing re-sent them but the follower's announcer: without it, none of the eight is ever final.
    const finalEverywhere = () => hashes.every((h) => validators.every((v) => v.finalizedTxHeight(Buffer.from(h, "hex")) !== null));
    await waitFor(finalEverywhere, 90_000, "all eight transfers to be final at every validator");
    await waitFor(() => follower.status().accepted.pending === 0, 30_000, "the follower to see them included");
    expect(follower.status().accepted.reannounced).toBeGreaterThan(0);
  });
});
