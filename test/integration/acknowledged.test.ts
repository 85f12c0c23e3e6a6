import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const lone = testChain({ validators: 1, users: 2 });
const [alice, bob] = lone.users;

async function loneValidator(dataDir = dir(), clock = new ManualClock(GENESIS_TIME * 1000)) {
  const node = new MeshChainNode(
    { dataDir, genesis: lone.genesis, identity: lone.validators[0]!, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 60_000 },
    { clock, logger: silentLogger(), random: seededRandom(1) },
  );
  await node.start();
  return { node, clock, dataDir };
}

describe("acknowledged transactions", () => {
  it("a transaction sent twice is acknowledged twice and kept once", async () => {
    const { node, clock } = await loneValidator();
    const t = transfer(alice!, 0, bob!.address, 5n);
    expect(node.submitTransaction(t.bytes).status).toBe("accepted");
    expect(node.submitTransaction(t.bytes).status).toBe("accepted");
    expect(node.status().accepted.pending).toBe(1);
    clock.advance(2_000);
    const again = node.submitTransaction(t.bytes);
    expect(again).toMatchObject({ status: "included", final: true });
    clock.advance(2_000 * 4);
    expect(node.status().accepted.pending).toBe(0);
    await node.stop();
  });

  it("a transaction replaced by a better-paying one with its nonce is forgotten once the replacement is final", async () => {
    const { node, clock } = await loneValidator();
    const first = transfer(alice!, 0, bob!.address, 5n, { fee: 4_000n });
    const better = transfer(alice!, 0, bob!.address, 5n, { fee: 8_000n });
    expect(node.submitTransaction(first.bytes).status).toBe("accepted");
    expect(node.submitTransaction(better.bytes).status).toBe("accepted");
    expect(node.status().accepted.pending).toBe(2);
    clock.advance(2_000 * 10);
    expect(node.finalizedTxHeight(Buffer.from(node.submitTransaction(better.bytes).hash, "hex"))).not.toBeNull();
    // The first can never apply now (its nonce is used): no longer announced, no longer kept.
    expect(node.status().accepted.pending).toBe(0);
    await node.stop();
  });

  it("a queued transaction survives a restart and becomes final once the nonce before it arrives", async () => {
    const { node, clock, dataDir } = await loneValidator();
    const later = transfer(alice!, 1, bob!.address, 6n);
    expect(node.submitTransaction(later.bytes).status).toBe("queued");
    await node.stop();
    const again = await loneValidator(dataDir, clock);
    expect(again.node.status().accepted.pending).toBe(1);
    expect(again.node.submitTransaction(transfer(alice!, 0, bob!.address, 5n).bytes).status).toBe("accepted");
    clock.advance(2_000 * 10);
    expect(again.node.finalizedTxHeight(Buffer.from(again.node.submitTransaction(later.bytes).hash, "hex"))).not.toBeNull();
    expect(again.node.status().accepted.pending).toBe(0);
    await again.node.stop();
  });
});
