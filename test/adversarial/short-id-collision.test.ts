import { describe, expect, it } from "vitest";
import { blockHash } from "../../src/core/block/header.js";
import { RADIO_LINK } from "../../src/consensus/engine.js";
import { decodeTxWithBytes } from "../../src/core/tx/codec.js";
import { ConsensusSim } from "../sim/harness.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { toHex } from "../../src/core/bytes.js";
import { type DecodedTx, txHash } from "../../src/core/tx/codec.js";
import { treeBlock } from "../../src/consensus/block-tree.js";
import { compactBlock, MAX_REBUILD_TRIES, rebuildBlock } from "../../src/consensus/compact-blocks.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { shortIdSalt, shortTxId } from "../../src/mesh/messages/relay.js";
import { CHAIN_ID, genesisStore, testChain, transfer } from "../fixtures/chain.js";

/*
 * Short ids are 2-4 bytes of sha256(salt, tx hash), the salt from the block's parent and slot: an
 * attacker can grind a transaction whose short id matches one of a pending block's once the parent
 * is known (2^(8 × bytes) / ids tries: about 13,000 here at 2 bytes, 1.3 million at 3; a signature
 * each for a valid transaction, two hashes for a look-alike that is only heard). The
 * collision must cost a receiver another try or a fetch, never the block, and never count against
 * the proposer. A 2-byte chain keeps the grinding short enough for a test; the rebuild does not
 * depend on the length.
 */
const BYTES = 2;

function setup() {
  const chain = testChain({ validators: 1, users: 6, params: { shortIdBytes: BigInt(BYTES) } });
  const { store, parent } = genesisStore(chain.genesis);
  const root = treeBlock(parent.hash, null, null, { height: parent.height, slot: parent.slot, timestamp: parent.timestamp }, store);
  const txs = Array.from({ length: 5 }, (_, i) => transfer(chain.users[i]!, 0, chain.users[(i + 1) % 5]!.address, 1_000n));
  const proposer = chain.validators[0]!;
  const produced = produceBlock(store, { chainId: CHAIN_ID, parent, slot: 3, timestamp: parent.timestamp + 95, candidates: txs, certificate: null, proposer: { address: proposer.address, bls: proposer.bls } });
  const verifier = new BlsVerifier(CHAIN_ID);
  let verified = 0;
  const verify = (slot: number, hash: Uint8Array, sig: Uint8Array, key: Uint8Array) => {
    verified++;
    return verifier.vote(slot, hash, sig, key);
  };
  const compact = compactBlock(produced.block, root);
  // The attacker (a funded user outside the block) grinds the amount of its own transfer, signing each.
  const salt = shortIdSalt(compact.parentHash, compact.slot);
  const targets = new Map(compact.shortIds.map((id, i) => [toHex(id), i]));
  let attack: { tx: DecodedTx; position: number; signatures: number } | null = null;
  for (let amount = 1n; attack === null; amount++) {
    const t = transfer(chain.users[5]!, 0, chain.users[0]!.address, amount);
    const position = targets.get(toHex(shortTxId(salt, txHash(t.bytes), BYTES)));
    if (position !== undefined) attack = { tx: t, position, signatures: Number(amount) };
  }
  return { root, block: produced.block, txs, compact, attack, verify, verified: () => verified };
}

describe("a transaction crafted to collide with a pending block's short id", () => {
  const s = setup();
  const victim = s.block.txs[s.attack.position]!;

  it("is found by grinding in about 2^16 / ids signatures at 2 bytes", () => {
    expect(s.compact.shortIdBytes).toBe(BYTES);
    expect(s.attack.signatures).toBeLessThan(20 * 2 ** 16);
    expect(toHex(txHash(s.attack.tx.bytes))).not.toBe(toHex(txHash(victim.bytes)));
  });

  it("held beside the block's own transaction: both are tried against the proposer's signature and the right block is rebuilt", () => {
    // The attacker's transaction first, so that the first fill is the wrong one.
    const before = s.verified();
    const result = rebuildBlock(s.compact, s.root, [s.attack.tx, ...s.txs], CHAIN_ID, s.verify);
    if (result.kind !== "block") throw new Error(`expected a block, got ${result.kind}`);
    expect(toHex(blockHash(result.block.header))).toBe(toHex(blockHash(s.block.header)));
    expect(result.block.txs.map((t) => toHex(t.bytes))).toEqual(s.block.txs.map((t) => toHex(t.bytes)));
    // The attacker's fill executes (a valid transfer) and fails only the signature: two checks at most.
    expect(s.verified() - before).toBeLessThanOrEqual(2);
  });

  it("held instead of it: no block the proposer signed (a mismatch the relay answers by asking for every transaction), then rebuilt once the answer brings the right one", () => {
    const held = [s.attack.tx, ...s.txs.filter((t) => t !== victim)];
    expect(rebuildBlock(s.compact, s.root, held, CHAIN_ID, s.verify)).toEqual({ kind: "mismatch", tries: 1, ambiguous: false });
    const answered = rebuildBlock(s.compact, s.root, [...held, victim], CHAIN_ID, s.verify);
    expect(answered.kind).toBe("block");
  });

  it("many of them cost a bounded number of tries, then the fetch", () => {
    // A look-alike at each of four positions (the transaction's fields, other bytes: cheap to grind,
    // as a pool flooded by the attacker would be), held before the right ones: 16 fills, the right one
    // last. A rebuild stops after MAX_REBUILD_TRIES of them and reports a mismatch.
    const salt = shortIdSalt(s.compact.parentHash, s.compact.slot);
    const lookAlikes = s.block.txs.slice(0, 4).map((t, i) => {
      for (let n = 0; ; n++) {
        const bytes = Uint8Array.of(...t.bytes, i, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff);
        if (toHex(shortTxId(salt, txHash(bytes), BYTES)) === toHex(s.compact.shortIds[i]!)) return { ...t, bytes };
      }
    });
    const before = s.verified();
    const result = rebuildBlock(s.compact, s.root, [...lookAlikes, ...s.txs], CHAIN_ID, s.verify);
    expect(result).toEqual({ kind: "mismatch", tries: MAX_REBUILD_TRIES, ambiguous: true });
    expect(s.verified() - before).toBeLessThanOrEqual(MAX_REBUILD_TRIES);
    // Held the other way round, the right fill is the first.
    expect(rebuildBlock(s.compact, s.root, [...s.txs, ...lookAlikes], CHAIN_ID, s.verify).kind).toBe("block");
  });
});

describe("a look-alike heard on the air by a node that lacks the block's own transaction", () => {
  it("costs it a fetch of the block's transactions, not the block, and does not count against the proposer", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 11, engine: { link: RADIO_LINK }, params: { shortIdBytes: BigInt(BYTES) } });
    const victim = 3;
    // The victim hears no transaction gossip: what it holds of a block is what it fetches, and the look-alike.
    sim.filter = (_from, to, m) => !(to === victim && m.kind === "tx");
    const template = transfer(sim.users[0]!, 999, sim.users[1]!.address, 1n);
    let planted: { slot: number; height: number } | null = null;
    sim.onSend = (_from, m) => {
      if (planted !== null || m.kind !== "compact-proposal" || m.compact.notarization !== null || m.compact.shortIds.length === 0) return;
      // Ground over the signature's last bytes: the engine keeps every transaction it hears for
      // rebuilds before the pool checks it, so the look-alike needs no valid signature, only hashes.
      const salt = shortIdSalt(m.compact.parentHash, m.compact.slot);
      const wanted = toHex(m.compact.shortIds[0]!);
      for (let n = 0; ; n++) {
        const bytes = template.bytes.slice();
        bytes.set([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff], bytes.length - 3);
        if (toHex(shortTxId(salt, txHash(bytes), BYTES)) !== wanted) continue;
        sim.deliverTo(victim, { kind: "tx", tx: decodeTxWithBytes(bytes) });
        break;
      }
      planted = { slot: m.compact.slot, height: m.compact.height };
    };
    sim.start();
    sim.runWithTrafficUntil(() => planted !== null && sim.minFinalized() > planted.height, 30 * 60_000, 20_000);
    expect(planted).not.toBeNull();
    expect(sim.minFinalized()).toBeGreaterThan(planted!.height);
    const stats = sim.nodes[victim]!.engine.stats;
    expect(stats.compactRefetches).toBeGreaterThanOrEqual(1);
    expect(stats.rejectedBlocks).toBe(0);
    expect(sim.conflictingFinalized).toBe(0);
  });
});
