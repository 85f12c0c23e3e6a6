import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { encodeTx, txHash } from "../../src/core/tx/codec.js";
import { DEFAULT_REASSEMBLY_LIMITS } from "../../src/mesh/fragmentation.js";
import { MessageType } from "../../src/mesh/frame.js";
import { helloCodec } from "../../src/mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { Priority } from "../../src/mesh/transport.js";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { testChain, testIdentity, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";
import { Attacker, danglingFragment, hello, metric, rawFlood, waitForMetric } from "./attacker.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 1, users: 3 });
const chainId = chain.genesis.chainId;
const genesisHash = ChainStore.genesisTip(chain.genesis).hash;
const [validator] = chain.validators;
const [alice, bob, carol] = chain.users;
const validatorNode = nodeNumberFromPublicKey(validator!.ed25519.publicKey);
const FAR = 1_000_000_000_000;
const running: MeshChainNode[] = [];
const attackers: Attacker[] = [];

afterEach(async () => {
  for (const a of attackers.splice(0)) await a.stop();
  // The first node owns the embedded broker: stop it last.
  for (const n of running.splice(0).reverse()) await n.stop();
});

async function startNode(identity: NodeOptions["identity"], broker: string, seed: number): Promise<MeshChainNode> {
  const node = new MeshChainNode(
    { dataDir: dir(), genesis: chain.genesis, identity, slotMs: 300, heartbeatSlots: 1, statusIntervalMs: 200, network: { broker, brokerPort: 0 }, sync: { tickMs: 100, requestTimeoutMs: 2_000 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
  );
  running.push(node);
  await node.start();
  return node;
}

/** A lone validator making a block every 300 ms, and a follower synced to it. */
async function validatorAndFollower(): Promise<{ v: MeshChainNode; f: MeshChainNode; url: string }> {
  const v = await startNode(validator!, "embedded", 1);
  const url = v.brokerUrl!;
  const f = await startNode(bob!, url, 2);
  await waitFor(() => f.status().height >= 3 && f.status().sync.state === "synced", 30_000, "the follower to sync");
  return { v, f, url };
}

async function attacker(url: string, nodeNumber: number, seed: number): Promise<Attacker> {
  const a = await Attacker.join(url, chainId, nodeNumber, seed);
  attackers.push(a);
  return a;
}

/** The follower keeps up: its height passes where the validator is now, by `blocks` more. */
async function keepsSyncing(v: MeshChainNode, f: MeshChainNode, blocks = 3): Promise<void> {
  const target = v.status().height + blocks;
  await waitFor(() => f.status().height >= target, 60_000, "the follower to keep syncing");
  await waitFor(() => f.status().ready.ok, 10_000, `the follower to be ready (${f.status().ready.reason})`);
}

describe("a node that trusts no one, over a real broker", () => {
  it("forged frames under a validator's node number ban no one, and a replayed status is refused", async () => {
    const { v, f, url } = await validatorAndFollower();
    // A listener records one of the validator's signed statuses, to publish again later.
    const listener = await attacker(url, 0x0bad0001, 1);
    await waitFor(() => listener.heard.some((m) => m.type === MessageType.Status && m.meta.from === validatorNode), 10_000, "a status of the validator");
    const oldStatus = listener.heard.find((m) => m.type === MessageType.Status && m.meta.from === validatorNode)!.payload;
    const seenAt = f.status().height;
    await waitFor(() => f.peerList().find((p) => p.node === `!${validatorNode.toString(16).padStart(8, "0")}`)!.finalizedHeight >= seenAt + 5, 20_000, "the validator to move on");

    const forger = await attacker(url, validatorNode, 2);
    const intruder = testIdentity("intruder");
    // A hello naming the validator's key but signed by another: it proves nothing.
    const badHello = helloCodec.encode({ protocolVersion: 1, chain: genesisHash.slice(0, 8), publicKey: validator!.ed25519.publicKey, nodeNumber: validatorNode, tipHeight: FAR, finalizedHeight: FAR, roles: 1, timestamp: Math.floor(Date.now() / 1000) }, chainId, intruder.ed25519);
    for (let i = 0; i < 5; i++) {
      await forger.send(MessageType.Hello, badHello);
      // Its own valid key under the validator's node number, claiming a far finality.
      await forger.send(MessageType.Hello, hello(intruder, chainId, genesisHash, { tipHeight: FAR, finalizedHeight: FAR, nodeNumber: validatorNode }));
      await forger.send(MessageType.Status, oldStatus);
      await forger.send(MessageType.SyncResponse, Uint8Array.of(1, 2, 3, i));
      await forger.send(MessageType.Transaction, Uint8Array.of(9, 9, i), Priority.Transaction);
    }
    await waitForMetric(async () => (await metric(f, "meshchain_network_messages_refused_total", 'reason="replayed"')) >= 5, 10_000, "the replays to be refused");
    await keepsSyncing(v, f);
    const seen = f.peerList().find((p) => p.node === `!${validatorNode.toString(16).padStart(8, "0")}`)!;
    expect(seen.banned).toBe(false);
    expect(seen.finalizedHeight).toBeGreaterThanOrEqual(seenAt + 5);
    expect(f.status().sync.targetHeight).toBeLessThan(FAR);
    expect(await metric(f, "meshchain_network_messages_refused_total", 'reason="unverified"')).toBeGreaterThanOrEqual(5);
    expect(await metric(f, "meshchain_network_messages_refused_total", 'reason="key_mismatch"')).toBeGreaterThanOrEqual(5);
    expect(await metric(f, "meshchain_network_messages_refused_total", 'reason="replayed"')).toBeGreaterThanOrEqual(5);
    expect(await metric(f, "meshchain_peer_bans_total")).toBe(0);
  });

  it("twenty fresh identities claiming a far finality neither freeze nor mislead a follower, and get one hello back", async () => {
    const { v, f, url } = await validatorAndFollower();
    const listener = await attacker(url, 0x0bad0002, 3);
    const followerNode = nodeNumberFromPublicKey(bob!.ed25519.publicKey);
    const hellosBefore = listener.heard.filter((m) => m.type === MessageType.Hello && m.meta.from === followerNode).length;
    const fakes = Array.from({ length: 20 }, (_, i) => testIdentity(`fresh-${i}`));
    for (const [i, id] of fakes.entries()) {
      const a = await attacker(url, nodeNumberFromPublicKey(id.ed25519.publicKey), 10 + i);
      for (let k = 0; k < 3; k++) await a.send(MessageType.Hello, hello(id, chainId, genesisHash, { tipHeight: FAR, finalizedHeight: FAR, timestamp: Math.floor(Date.now() / 1000) + k }));
    }
    await waitFor(() => f.peerList().length >= 21, 10_000, "the fresh identities to be heard");
    await keepsSyncing(v, f, 5);
    expect(f.status().sync.targetHeight).toBeLessThan(FAR);
    expect(f.status().sync.state).toBe("synced");
    // Twenty newcomers within a few seconds share at most two answers (one now, one at the interval's end).
    const answers = listener.heard.filter((m) => m.type === MessageType.Hello && m.meta.from === followerNode).length - hellosBefore;
    expect(answers).toBeLessThanOrEqual(2);
  });

  it("a flood of dangling fragments from senders that never said hello stays in its small budget and asks nothing", async () => {
    const { v, f, url } = await validatorAndFollower();
    const frames = Array.from({ length: 8_000 }, (_, i) => ({ from: 0x10000000 + (i % 2_000), bytes: danglingFragment(i & 0xffff, 254, 255, 1) }));
    // And full-sized first fragments of 4 KB messages, the most a partial can honestly hold.
    for (let i = 0; i < 1_000; i++) frames.push({ from: 0x20000000 + i, bytes: danglingFragment(i, 0, 19, 226) });
    await rawFlood(url, chainId, frames);
    // Each frame either starts a partial that pushes out an older one, or is refused: all of it is worked through.
    await waitForMetric(async () => (await metric(f, "meshchain_reassembly_messages_total", 'link="ip",outcome="evicted_unverified"')) >= 0.9 * frames.length, 60_000, "the follower to work through the flood");
    const unverifiedBytes = await metric(f, "meshchain_reassembly_unverified_bytes", 'link="ip"');
    const partialBytes = await metric(f, "meshchain_reassembly_partial_bytes", 'link="ip"');
    expect(unverifiedBytes).toBeLessThanOrEqual(DEFAULT_REASSEMBLY_LIMITS.maxUnverifiedBytes);
    expect(partialBytes).toBeLessThanOrEqual(DEFAULT_REASSEMBLY_LIMITS.maxUnverifiedBytes + DEFAULT_REASSEMBLY_LIMITS.maxPartialBytesTotal);
    expect(await metric(f, "meshchain_reassembly_partial_messages", 'link="ip"')).toBeLessThanOrEqual(DEFAULT_REASSEMBLY_LIMITS.maxUnverifiedPartials);
    await keepsSyncing(v, f);
    // Nobody who never proved a key is asked for missing fragments.
    expect(await metric(f, "meshchain_fragment_requests_total", 'link="ip",direction="sent"')).toBe(0);
  }, 120_000);

  it("junk transactions cannot push a user's waiting transaction out of the nonce-gap queue", async () => {
    const { v, f, url } = await validatorAndFollower();
    const peerId = testIdentity("gossip-peer");
    const gossip = await attacker(url, nodeNumberFromPublicKey(peerId.ed25519.publicKey), 40);
    await gossip.send(MessageType.Hello, hello(peerId, chainId, genesisHash, { tipHeight: 0, finalizedHeight: 0 }));
    await waitFor(() => v.peerList().length >= 2, 10_000, "the validator to know the peer");
    // The user's second transaction arrives before its first.
    const second = transfer(alice!, 1, carol!.address, 1_000n);
    await gossip.send(MessageType.Transaction, second.bytes, Priority.Transaction);
    await waitFor(() => v.nextNonce(alice!.address) === 0 && f.status().mempool.transactions === 0, 5_000, "the transaction to wait");
    for (let i = 0; i < 300; i++) {
      const victim = chain.users[i % chain.users.length]!;
      const junk = encodeTx({ ...transfer(victim, 2 + (i % 12), carol!.address, BigInt(i + 1)).tx, signature: new Uint8Array(64).fill(i & 0xff) });
      await gossip.send(MessageType.Transaction, junk, Priority.Transaction);
    }
    await gossip.send(MessageType.Transaction, transfer(alice!, 0, carol!.address, 1_000n).bytes, Priority.Transaction);
    await waitFor(() => v.finalizedTxHeight(txHash(second.bytes)) !== null, 30_000, `the user's transaction ${toHex(txHash(second.bytes)).slice(0, 8)} to become final`);
    await keepsSyncing(v, f);
    expect(await metric(v, "meshchain_mempool_refusals_total", 'reason="INVALID"')).toBeGreaterThanOrEqual(100);
  });
});
