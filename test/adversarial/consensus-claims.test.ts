import { afterEach, describe, expect, it } from "vitest";
import { MessageType } from "../../src/mesh/frame.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { Priority } from "../../src/mesh/transport.js";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { testChain, testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";
import { Attacker, hello, metric } from "./attacker.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 2, users: 1, params: { slotMs: 1_000n, heartbeatSlots: 1n } });
const chainId = chain.genesis.chainId;
const genesisHash = ChainStore.genesisTip(chain.genesis).hash;
const FAR = 1_000_000_000_000;
const running: MeshChainNode[] = [];
const attackers: Attacker[] = [];

afterEach(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  for (const n of running.splice(0).reverse()) await n.stop();
});

async function startValidator(identity: NodeOptions["identity"], broker: string, seed: number): Promise<MeshChainNode> {
  const node = new MeshChainNode(
    { dataDir: dir(), genesis: chain.genesis, identity, slotMs: 1_000, heartbeatSlots: 1, statusIntervalMs: 300, network: { broker, brokerPort: 0 }, sync: { tickMs: 100, fallBehindBlocks: 3 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return node;
}

describe("claims need proof", () => {
  it("unstaked peers claiming a far finality cannot make a validator leave consensus", async () => {
    const first = await startValidator(chain.validators[0]!, "embedded", 1);
    const second = await startValidator(chain.validators[1]!, first.brokerUrl!, 2);
    const validators = [first, second];
    await waitFor(() => validators.every((v) => v.status().finalizedHeight >= 1), 60_000, "both validators to finalize");
    // Twelve hellos from fresh keys (no stake), each claiming finality at 10^12, one after another.
    for (let i = 0; i < 12; i++) {
      const id = testIdentity(`claimant-${i}`);
      const a = await Attacker.join(first.brokerUrl!, chainId, nodeNumberFromPublicKey(id.ed25519.publicKey), 100 + i);
      attackers.push(a);
      await a.send(MessageType.Hello, hello(id, chainId, genesisHash, { tipHeight: FAR, finalizedHeight: FAR }), Priority.Control);
    }
    await waitFor(() => first.peerList().length >= 13, 10_000, "the claims to be heard");
    const before = Math.max(...validators.map((v) => v.status().finalizedHeight));
    await waitFor(() => validators.every((v) => v.status().finalizedHeight >= before + 3), 60_000, "the validators to keep finalizing");
    for (const v of validators) {
      expect(v.status().sync.fallbacks).toBe(0);
      expect(v.status().sync.targetHeight).toBeLessThan(FAR);
      expect(v.status().ready.ok).toBe(true);
    }
    expect(await metric(first, "meshchain_sync_fallbacks_total")).toBe(0);
  }, 120_000);
});
