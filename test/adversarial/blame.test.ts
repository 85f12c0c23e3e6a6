import { describe, expect, it } from "vitest";
import { DecodeError } from "../../src/core/errors.js";
import { MessageType } from "../../src/mesh/frame.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { systemClock } from "../../src/node/clock.js";
import { createLogger } from "../../src/node/logger.js";
import { NodeNetwork } from "../../src/node/network.js";
import { StorageError } from "../../src/storage/errors.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { embeddedBroker } from "../fixtures/brokers.js";
import { testChain, testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";
import { Attacker, hello } from "./attacker.js";

const chain = testChain({ validators: 1 });
const genesisTip = ChainStore.genesisTip(chain.genesis);

describe("blame the right party", () => {
  it("charges no peer for our own failures or for data anyone could have sent in its name, and logs our failures with their stack", async () => {
    const broker = await embeddedBroker();
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", destination: { write: (l: string) => lines.push(l) } });
    const network = new NodeNetwork(
      { broker: broker.url, brokerPort: 0, chainId: chain.genesis.chainId, genesisHash: genesisTip.hash },
      { identity: chain.validators[0]!, clock: systemClock, random: seededRandom(1), logger, tip: () => genesisTip, finalizedHeight: () => 0 },
    );
    // A service whose disk fails on some messages, and which finds others malformed.
    network.handle(MessageType.Transaction, (m) => {
      if (m.payload[0] === 1) throw new StorageError("IO_ERROR", "disk full while storing a transaction");
      throw new DecodeError("TRUNCATED", "not a transaction");
    });
    await network.start();
    const honestId = testIdentity("honest");
    const honest = await Attacker.join(broker.url, chain.genesis.chainId, nodeNumberFromPublicKey(honestId.ed25519.publicKey), 5);
    try {
      await honest.send(MessageType.Hello, hello(honestId, chain.genesis.chainId, genesisTip.hash, { tipHeight: 0, finalizedHeight: 0 }));
      await waitFor(() => network.peers.get(honest.nodeNumber) !== undefined, 10_000, "the peer to be known");
      const scoreBefore = network.peers.get(honest.nodeNumber)!.score;
      for (let i = 0; i < 5; i++) {
        await honest.send(MessageType.Transaction, Uint8Array.of(1, i));
        await honest.send(MessageType.Transaction, Uint8Array.of(2, i));
      }
      await waitFor(() => (network.refusals.get("rejected_data") ?? 0) >= 5 && lines.filter((l) => l.includes("our fault")).length >= 5, 10_000, "the messages to be handled");
      const peer = network.peers.get(honest.nodeNumber)!;
      expect(network.peers.isBanned(honest.nodeNumber)).toBe(false);
      expect(peer.score).toBe(scoreBefore);
      expect(peer.lastInvalidReason).toBeNull();
      const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { stack?: string; message?: string } }).filter((r) => r.msg.includes("our fault"));
      expect(logged[0]!.level).toBe(50);
      expect(logged[0]!.err?.stack).toContain("disk full while storing a transaction");
    } finally {
      await honest.stop();
      await network.stop();
      await broker.close();
    }
  });
});
