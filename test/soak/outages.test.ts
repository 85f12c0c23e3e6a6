import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { mosquittoBroker, type TestBroker } from "../fixtures/brokers.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";
import { report } from "./report.js";

/**
 * The fault campaign's delivery half: transfers submitted at a follower and at the validators, two a
 * second, through four outages of a real mosquitto (10, 20, 40 and 60 s) and a validator restart.
 * Every transfer a node acknowledged (accepted or queued) must end final at every validator.
 */
const OUTAGES_S = (process.env.MESHCHAIN_OUTAGES_S ?? "10,20,40,60").split(",").map(Number);
const dir = tempDirsPerTest();
const chain = testChain({ validators: 3, users: 16, params: { slotMs: 2_000n, heartbeatSlots: 1n } });
const running = new Set<MeshChainNode>();
let broker: TestBroker | null = null;

afterEach(async () => {
  for (const n of [...running].reverse()) await n.stop();
  running.clear();
  await broker?.close();
});

async function startNode(identity: NodeOptions["identity"], url: string, seed: number, dataDir = dir()): Promise<{ node: MeshChainNode; dataDir: string }> {
  const node = new MeshChainNode(
    { dataDir, genesis: chain.genesis, identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 1_000, network: { broker: url, brokerPort: 0 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
  );
  running.add(node);
  await node.start();
  return { node, dataDir };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("soak: broker outages and validator restarts", () => {
  it(`loses none of the acknowledged transfers across outages of ${OUTAGES_S.join(", ")} s and a validator restart`, async () => {
    broker = await mosquittoBroker();
    const port = Number(new URL(broker.url).port);
    const url = broker.url;
    const validators = [await startNode(chain.validators[0]!, url, 1), await startNode(chain.validators[1]!, url, 2), await startNode(chain.validators[2]!, url, 3)];
    const follower = await startNode(chain.users[0]!, url, 4);
    await waitFor(() => validators.every((v) => v.node.status().finalizedHeight >= 2), 60_000, "the validators to finalize");

    const nonces = new Map<number, number>();
    const acknowledged: string[] = [];
    const refused = new Map<string, number>();
    let submitting = true;
    const submitter = (async () => {
      for (let i = 0; submitting; i++) {
        const user = i % chain.users.length;
        // Users submit at the follower and at each validator in turn; a node that is down is skipped.
        const targets = [follower.node, ...validators.map((v) => v.node)].filter((n) => running.has(n));
        const at = targets[i % targets.length]!;
        const nonce = nonces.get(user) ?? 0;
        try {
          const answer = at.submitTransaction(transfer(chain.users[user]!, nonce, chain.users[(user + 1) % chain.users.length]!.address, 1_000n + BigInt(i)).bytes);
          acknowledged.push(answer.hash);
          nonces.set(user, nonce + 1);
        } catch (e) {
          // An honest refusal (the sender's quota of pending transactions is full while the chain is cut off): not acknowledged.
          const code = (e as { code?: string }).code ?? "UNTYPED";
          refused.set(code, (refused.get(code) ?? 0) + 1);
        }
        await sleep(500);
      }
    })();

    const outages: number[] = [];
    for (const seconds of OUTAGES_S) {
      await sleep(15_000);
      await broker.close();
      await sleep(seconds * 1_000);
      broker = await mosquittoBroker({ port });
      outages.push(seconds);
    }
    // A validator restarts while transfers keep coming.
    await sleep(10_000);
    const restarted = validators[1]!;
    await restarted.node.stop();
    running.delete(restarted.node);
    await sleep(10_000);
    validators[1] = await startNode(chain.validators[1]!, url, 5, restarted.dataDir);
    await sleep(20_000);
    submitting = false;
    await submitter;

    const finalAt = (n: MeshChainNode) => acknowledged.filter((h) => n.finalizedTxHeight(Buffer.from(h, "hex")) !== null).length;
    await waitFor(() => validators.every((v) => finalAt(v.node) === acknowledged.length), 600_000, "every acknowledged transfer to be final at every validator");
    const figures = { acknowledged: acknowledged.length, finalEverywhere: Math.min(...validators.map((v) => finalAt(v.node))), refused: Object.fromEntries(refused), outagesS: outages, validatorRestarts: 1, reannounced: follower.node.status().accepted.reannounced };
    report("outages", figures);
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect([...refused.keys()].every((code) => code === "SENDER_QUOTA")).toBe(true);
    expect(figures.finalEverywhere).toBe(acknowledged.length);
  }, 1_800_000);
});
