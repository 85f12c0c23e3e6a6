import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const running: MeshChainNode[] = [];
afterEach(async () => {
  for (const n of running.splice(0).reverse()) await n.stop();
});

describe("nodes behind a broker that requires a login", () => {
  it("a validator's embedded broker on a LAN address with a login; a follower that logs in syncs its blocks", async () => {
    const login = { username: "meshchain", password: "hill top" };
    const dataDir = dir();
    const dev = ensureDevNetwork(dataDir, () => systemClock.now());
    const validator = new MeshChainNode(
      { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 300, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker: "embedded", brokerPort: 0, brokerHost: "0.0.0.0", brokerAuth: login } },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(1) },
    );
    running.push(validator);
    await validator.start();
    const url = validator.brokerUrl;
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const follower = new MeshChainNode(
      { dataDir: dir(), genesis: dev.genesis, identity: testIdentity("follower"), slotMs: 300, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker: url!, brokerPort: 0, brokerAuth: login }, sync: { tickMs: 100 } },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(2) },
    );
    running.push(follower);
    await follower.start();
    await waitFor(() => follower.status().height >= 3, 30_000, "the follower to sync through the broker");
    expect(validator.status().peers).toBe(1);
  });
});
