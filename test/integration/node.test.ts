import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { SqliteSignerSafety } from "../../src/storage/signer-store.js";
import { MessageEndpoint, type ReceivedMessage } from "../../src/mesh/endpoint.js";
import { MessageType } from "../../src/mesh/frame.js";
import { helloCodec, statusCodec } from "../../src/mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { Priority } from "../../src/mesh/transport.js";
import { MqttTransport } from "../../src/mesh/transports/mqtt.js";
import { systemClock } from "../../src/node/clock.js";
import { GENESIS_TIME, testChain, testIdentity } from "../fixtures/chain.js";
import { waitFor } from "../fixtures/wait.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { CLI_ENTRY } from "../fixtures/cli.js";

const dir = tempDirsPerTest();

describe("node", () => {
  it("makes a heartbeat block each due slot, stops, and resumes from its tip", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const opts = { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 3, statusIntervalMs: 10_000 };
    const node = new MeshChainNode(opts, { clock, logger: silentLogger(), random: seededRandom(1) });
    await node.start();
    clock.advance(2_000 * 30);
    expect(node.status().height).toBe(10);
    await node.stop();
    await node.stop();
    // Each block was signed through the signing record: the last one's slot, locked on its parent's.
    const tip = ChainStore.open(join(dataDir, "chain.db"), dev.genesis);
    const record = new SqliteSignerSafety(join(dataDir, "signer.db"));
    expect(record.last()).toMatchObject({ slot: tip.tip.slot, blockHash: tip.tip.hash, lock: tip.tip.slot - 3 });
    record.close();
    tip.close();
    clock.advance(60_000);
    const again = new MeshChainNode(opts, { clock, logger: silentLogger(), random: seededRandom(1) });
    await again.start();
    expect(again.status().height).toBe(10);
    clock.advance(2_000 * 3);
    expect(again.status().height).toBe(11);
    await again.stop();
    const store = ChainStore.open(join(dataDir, "chain.db"), dev.genesis);
    // Restarted at slot 60; the next slot boundary is 61, already past the heartbeat.
    expect(store.blockAt(11)?.header.slot).toBe(61);
    store.close();
  });

  it("reuses the development network it created", () => {
    const dataDir = dir();
    const a = ensureDevNetwork(dataDir, () => 1_000_000);
    const b = ensureDevNetwork(dataDir, () => 9_000_000);
    expect(b.genesis.genesisTime).toBe(a.genesis.genesisTime);
    expect(b.identity.address).toEqual(a.identity.address);
  });

  it("refuses to run as a non-validator or in a multi-validator chain", async () => {
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const { genesis, users, validators } = testChain({ validators: 2 });
    const base = { dataDir: dir(), genesis, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 10_000 };
    await expect(new MeshChainNode({ ...base, identity: users[0]! }, { clock, logger: silentLogger(), random: seededRandom(1) }).start()).rejects.toMatchObject({ code: "NOT_A_VALIDATOR" });
    await expect(new MeshChainNode({ ...base, identity: validators[0]! }, { clock, logger: silentLogger(), random: seededRandom(1) }).start()).rejects.toMatchObject({ code: "NOT_SUPPORTED" });
  });

  it("refuses --prune for a validator, before it commits anything", async () => {
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const { genesis, validators } = testChain();
    const dataDir = dir();
    const node = new MeshChainNode({ dataDir, genesis, identity: validators[0]!, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 10_000, pruneKeepBlocks: 100 }, { clock, logger: silentLogger(), random: seededRandom(1) });
    await expect(node.start()).rejects.toMatchObject({ code: "NOT_SUPPORTED", message: expect.stringContaining("--prune") });
    await node.stop();
  });

  it("starts an embedded broker, and exchanges signed hellos and statuses with a peer", async () => {
    const dataDir = dir();
    const clock = new ManualClock(Date.now());
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const node = new MeshChainNode(
      { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 10_000, network: { broker: "embedded", brokerPort: 0 } },
      { clock, logger: silentLogger(), random: seededRandom(3) },
    );
    await node.start();
    const peerId = testIdentity("peer");
    const peerNode = nodeNumberFromPublicKey(peerId.ed25519.publicKey);
    const transport = new MqttTransport({ link: { url: node.brokerUrl!, clientId: "peer" }, chainId: dev.genesis.chainId, nodeNumber: peerNode }, { clock: systemClock, random: seededRandom(4) });
    const endpoint = new MessageEndpoint(transport, {}, { clock: systemClock, random: seededRandom(5) });
    const heard: ReceivedMessage[] = [];
    endpoint.onMessage((m) => heard.push(m));
    endpoint.start();
    try {
      await transport.start();
      const store = ChainStore.open(join(dataDir, "chain.db"), dev.genesis);
      const chain = store.genesisHash.slice(0, 8);
      store.close();
      const hello = helloCodec.encode({ protocolVersion: 1, chain, publicKey: peerId.ed25519.publicKey, nodeNumber: peerNode, tipHeight: 0, finalizedHeight: 0, roles: 0, timestamp: 1 }, dev.genesis.chainId, peerId.ed25519);
      await endpoint.send(MessageType.Hello, hello, Priority.Control);
      await waitFor(() => node.status().peers === 1, 10_000, "the node to accept the peer");
      // The node answers a newcomer with its own hello, then sends a status at its interval.
      await waitFor(() => heard.some((m) => m.type === MessageType.Hello), 10_000, "the node's hello");
      const theirs = helloCodec.decode(heard.find((m) => m.type === MessageType.Hello)!.payload);
      expect(helloCodec.verify(theirs, dev.genesis.chainId)).toBe(true);
      expect(theirs.body.publicKey).toEqual(dev.identity.ed25519.publicKey);
      clock.advance(10_000);
      await waitFor(() => heard.some((m) => m.type === MessageType.Status), 10_000, "the node's status");
      const status = statusCodec.decode(heard.find((m) => m.type === MessageType.Status)!.payload);
      expect(statusCodec.verify(status, dev.genesis.chainId, dev.identity.ed25519.publicKey)).toBe(true);
      // A hello signed for another chain is not a peer.
      const stranger = testIdentity("stranger");
      await endpoint.send(MessageType.Hello, helloCodec.encode({ protocolVersion: 1, chain, publicKey: stranger.ed25519.publicKey, nodeNumber: peerNode, tipHeight: 0, finalizedHeight: 0, roles: 0, timestamp: 1 }, "other-chain", stranger.ed25519), Priority.Control);
      await new Promise((r) => setTimeout(r, 200));
      expect(node.status().peers).toBe(1);
    } finally {
      endpoint.stop();
      await transport.stop();
      await node.stop();
    }
  });

  it("runs as a process, logs blocks, answers `meshchain status`, and exits 0 on SIGTERM", async () => {
    const dataDir = dir();
    const cwd = join(import.meta.dirname, "../..");
    const child = spawn(process.execPath, [CLI_ENTRY, "start", "--dev", "--data-dir", dataDir, "--slot-ms", "200", "--broker-port", "0", "--api-port", "0"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no blocks: ${out}`)), 30_000);
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if ((out.match(/"msg":"block"/g) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const api = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
    expect(api).toBeDefined();
    const status = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI_ENTRY, "status", "--api", api as string, "--json"], { cwd }, (e, stdout) => (e === null ? resolve(stdout) : reject(e))),
    );
    const parsed = JSON.parse(status) as { height: number; sync: { state: string }; chainId: string };
    expect(parsed.height).toBeGreaterThanOrEqual(2);
    expect(parsed.sync.state).toBe("synced");
    expect(parsed.chainId).toBe("meshchain-dev");
    const stoppedAt = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(out).toContain('"msg":"node stopped"');
  });
});
