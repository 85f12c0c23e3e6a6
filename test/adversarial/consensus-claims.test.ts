import { afterEach, describe, expect, it } from "vitest";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import { encodeTx } from "../../src/core/tx/codec.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { chainStatusCodec, getBlockCodec } from "../../src/mesh/messages/chain.js";
import { senderTransactionsRequestCodec } from "../../src/mesh/messages/relay.js";
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
import { Attacker, hello, metric, rawFlood } from "./attacker.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 2, users: 3, params: { slotMs: 1_000n, heartbeatSlots: 1n } });
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

/** Two validators on one broker (the first's embedded one), both past their first finalized block. */
async function twoValidators(seed: number): Promise<[MeshChainNode, MeshChainNode]> {
  const first = await startValidator(chain.validators[0]!, "embedded", seed);
  const second = await startValidator(chain.validators[1]!, first.brokerUrl!, seed + 1);
  await waitFor(() => [first, second].every((v) => v.status().finalizedHeight >= 1), 60_000, "both validators to finalize");
  return [first, second];
}

/** Three more blocks final at both, from wherever the higher of them stands now. */
async function keepFinalizing(validators: readonly MeshChainNode[]): Promise<void> {
  const before = Math.max(...validators.map((v) => v.status().finalizedHeight));
  await waitFor(() => validators.every((v) => v.status().finalizedHeight >= before + 3), 60_000, "the validators to keep finalizing");
}

/** Still in consensus, its sync target not moved by the claims, ready. */
function unmoved(v: MeshChainNode): void {
  expect(v.status().sync.fallbacks).toBe(0);
  expect(v.status().sync.targetHeight).toBeLessThan(FAR);
  expect(v.status().ready.ok).toBe(true);
}

describe("claims need proof", () => {
  it("unstaked peers claiming a far finality cannot make a validator leave consensus", async () => {
    const validators = await twoValidators(1);
    const [first] = validators;
    // Twelve hellos from fresh keys (no stake), each claiming finality at 10^12, one after another.
    for (let i = 0; i < 12; i++) {
      const id = testIdentity(`claimant-${i}`);
      const a = await Attacker.join(first.brokerUrl!, chainId, nodeNumberFromPublicKey(id.ed25519.publicKey), 100 + i);
      attackers.push(a);
      await a.send(MessageType.Hello, hello(id, chainId, genesisHash, { tipHeight: FAR, finalizedHeight: FAR }), Priority.Control);
    }
    await waitFor(() => first.peerList().length >= 13, 10_000, "the claims to be heard");
    await keepFinalizing(validators);
    validators.forEach(unmoved);
    expect(await metric(first, "meshchain_sync_fallbacks_total")).toBe(0);
  }, 120_000);

  it("a hundred forged chain statuses cost each validator at most the chain-status rate of block requests, and move nothing", async () => {
    const validators = await twoValidators(3);
    const [first] = validators;
    const listener = await Attacker.join(first.brokerUrl!, chainId, 0x0bad_0001, 200);
    attackers.push(listener);
    // Unsigned statuses from a hundred node numbers nobody knows, each naming its own far head.
    const fakeHeads = Array.from({ length: 100 }, (_, i) => new Uint8Array(32).fill(i + 1));
    const frames = fakeHeads.map((headHash, i) => ({
      from: 0x0bad_1000 + i,
      bytes: encodeFrame({ type: MessageType.ChainStatus, messageId: i, fragment: null, payload: chainStatusCodec.encode({ finalizedHeight: FAR, headHeight: FAR, headSlot: FAR, headHash, witnessHash: headHash }) }),
    }));
    const started = Date.now();
    await rawFlood(first.brokerUrl!, chainId, frames);
    await keepFinalizing(validators);
    const seconds = (Date.now() - started) / 1_000;
    // The registry's chain-status rate (8 a second in all, a burst of 16) bounds what forged statuses
    // make a validator ask for, one request per status at most; each answer for a fake head is nothing.
    const bound = 16 + 8 * Math.ceil(seconds);
    for (const [i, v] of validators.entries()) {
      const node = nodeNumberFromPublicKey(chain.validators[i]!.ed25519.publicKey);
      const asked = listener.heard.filter((m) => m.type === MessageType.GetBlock && m.meta.from === node && fakeHeads.some((h) => bytesEqual(h, getBlockCodec.decode(m.payload).hash))).length;
      // The listener hears this validator at all: a count of zero would then mean it asked for nothing.
      expect(listener.heard.some((m) => m.meta.from === node)).toBe(true);
      expect(asked).toBeLessThanOrEqual(bound);
      unmoved(v);
    }
  }, 120_000);

  it("a hundred transactions with forged signatures, their nonces ahead, make no validator ask for the nonces between", async () => {
    const validators = await twoValidators(5);
    const [first] = validators;
    const junkSender = testIdentity("junk-sender");
    const gossip = await Attacker.join(first.brokerUrl!, chainId, nodeNumberFromPublicKey(junkSender.ed25519.publicKey), 201);
    attackers.push(gossip);
    await gossip.send(MessageType.Hello, hello(junkSender, chainId, genesisHash, { tipHeight: 0, finalizedHeight: 0 }), Priority.Control);
    // Existing accounts, nonces 2 to 13 ahead of their next (0), signatures that are noise.
    for (let i = 0; i < 100; i++) {
      const victim = chain.users[i % chain.users.length]!;
      const junk = encodeTx({ ...transfer(victim, 2 + (i % 12), chain.validators[0]!.address, BigInt(i + 1)).tx, signature: new Uint8Array(64).fill(i & 0xff) });
      await gossip.send(MessageType.Transaction, junk, Priority.Transaction);
    }
    await keepFinalizing(validators);
    const victims = chain.users.map((u) => u.address);
    const gapRequests = gossip.heard.filter((m) => m.type === MessageType.GetSenderTransactions && victims.some((a) => bytesEqual(a, senderTransactionsRequestCodec.decode(m.payload).sender)));
    // It hears both validators at all: no request heard then means none was sent.
    for (const v of chain.validators.slice(0, 2)) expect(gossip.heard.some((m) => m.meta.from === nodeNumberFromPublicKey(v.ed25519.publicKey))).toBe(true);
    expect(gapRequests.map((m) => toHex(m.payload))).toEqual([]);
    for (const v of validators) expect(v.status().mempool.transactions).toBe(0);
    expect(await metric(first, "meshchain_mempool_refusals_total", 'reason="INVALID"')).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
