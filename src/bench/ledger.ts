import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { ed25519 } from "@noble/curves/ed25519.js";
import { utf8 } from "../core/bytes.js";
import { type Block, decodeBlock, encodeBlock } from "../core/block/block.js";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import { produceBlock } from "../core/chain/produce.js";
import { ed25519Sign, ed25519Verify } from "../core/crypto/ed25519.js";
import { sha256 } from "../core/crypto/hash.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { type Genesis, genesisChanges, genesisParent, parseGenesis } from "../core/genesis.js";
import { applyBlock, type ParentInfo } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import { StateStore } from "../core/state/store.js";
import { applyTx } from "../core/state/transaction.js";
import { type DecodedTx, decodeTxWithBytes } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { ChainStore } from "../storage/chain-store.js";
import { type Measurement, opsPerSecond } from "./harness.js";

const CHAIN_ID = "meshchain-bench";
const USERS = 400;

function identity(name: string): Identity {
  return identityFromSeed(sha256(utf8.encode(`meshchain-bench:${name}`)));
}

function benchGenesis(users: Identity[], validator: Identity): Genesis {
  return parseGenesis(buildGenesisDocument({
    chainId: CHAIN_ID,
    genesisTime: 1_767_225_600,
    validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 500 }],
    accounts: users.map((identity) => ({ identity, balance: 1_000_000_000_000n })),
    params: { maxBlockTxs: 128n, maxBlockBytes: 16_384n },
  }));
}

/** `count` transfers from distinct senders in rotation, with correct nonces from `round`. */
function transfers(users: Identity[], count: number, round: number): DecodedTx[] {
  return Array.from({ length: count }, (_, i) => {
    const from = users[i % users.length]!;
    const to = users[(i + 1) % users.length]!;
    const nonce = round + Math.floor(i / users.length);
    return signTx({ sender: from.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: to.address, amount: 1_000n + BigInt(i) } }, CHAIN_ID, from.ed25519);
  });
}

export function signatureBenchmarks(): Measurement[] {
  const key = identity("sig").ed25519;
  const msg = new Uint8Array(90).fill(7);
  const sig = ed25519Sign(msg, key);
  return [
    { name: "Ed25519 verify (node:crypto, OpenSSL)", value: opsPerSecond(() => void ed25519Verify(sig, msg, key.publicKey), 1), unit: "verifications/s", note: "the hot path" },
    { name: "Ed25519 verify (@noble/curves)", value: opsPerSecond(() => void ed25519.verify(sig, msg, key.publicKey), 1), unit: "verifications/s", note: "cross-check only" },
    { name: "Ed25519 sign (node:crypto)", value: opsPerSecond(() => void ed25519Sign(msg, key), 1), unit: "signatures/s" },
  ];
}

export function transactionBenchmark(): Measurement {
  const users = Array.from({ length: USERS }, (_, i) => identity(`user-${i}`));
  const validator = identity("validator");
  const genesis = benchGenesis(users, validator);
  const store = new StateStore();
  store.commit(genesisChanges(genesis));
  const encoded = transfers(users, USERS, 0).map((t) => t.bytes);
  const value = opsPerSecond(() => {
    const ledger = new Ledger(store);
    const ctx = { chainId: CHAIN_ID, height: 1, slot: 1, params: ledger.params() };
    for (const bytes of encoded) applyTx(ledger, decodeTxWithBytes(bytes), ctx);
  }, encoded.length);
  return { name: "transfer decode + verify + apply", value, unit: "transactions/s", note: `${USERS} senders, in memory` };
}

function makeBlocks(genesis: Genesis, users: Identity[], validator: Identity, txsPerBlock: number, blocks: number): Block[] {
  const store = new StateStore();
  store.commit(genesisChanges(genesis));
  let parent: ParentInfo = genesisParent(genesis, store.root);
  const out: Block[] = [];
  const perRound = Math.max(1, Math.floor(users.length / txsPerBlock));
  for (let b = 0; b < blocks; b++) {
    // Rotate senders so that each block's nonces follow the previous block's.
    const offset = (b % perRound) * txsPerBlock;
    const round = Math.floor(b / perRound);
    const senders = users.slice(offset, offset + txsPerBlock);
    const txs = transfers(senders, txsPerBlock, round);
    const produced = produceBlock(store, { chainId: CHAIN_ID, parent, slot: parent.slot + 1, timestamp: parent.timestamp + 10, candidates: txs, certificate: null, proposer: { address: validator.address, bls: validator.bls } });
    if (produced.block.txs.length !== txsPerBlock) throw new Error(`bench block has ${produced.block.txs.length} transactions, expected ${txsPerBlock}`);
    store.commit(produced.applied.changes, produced.applied.tree);
    const h = produced.block.header;
    parent = { height: h.height, hash: produced.applied.hash, slot: h.slot, timestamp: h.timestamp };
    out.push(decodeBlock(encodeBlock(produced.block)));
  }
  return out;
}

export function blockBenchmarks(): Measurement[] {
  const users = Array.from({ length: USERS }, (_, i) => identity(`user-${i}`));
  const validator = identity("validator");
  const genesis = benchGenesis(users, validator);
  const out: Measurement[] = [];
  for (const txsPerBlock of [1, 10, 100]) {
    const count = txsPerBlock === 100 ? 40 : 200;
    const blocks = makeBlocks(genesis, users, validator, txsPerBlock, count);
    const dir = mkdtempSync(join(tmpdir(), "meshchain-bench-"));
    try {
      const store = ChainStore.open(join(dir, "chain.db"), genesis);
      let start = performance.now();
      for (const block of blocks) store.commitBlock(block, applyBlock(store.state, block, store.tip, { chainId: CHAIN_ID }));
      const writeSeconds = (performance.now() - start) / 1000;
      const stored = Array.from({ length: count }, (_, i) => i + 1);
      store.close();

      const target = ChainStore.open(join(dir, "replay.db"), genesis);
      const source = ChainStore.open(join(dir, "chain.db"), genesis);
      start = performance.now();
      for (const height of stored) {
        const block = decodeBlock(source.blockBytesAt(height)!);
        target.commitBlock(block, applyBlock(target.state, block, target.tip, { chainId: CHAIN_ID }));
      }
      const replaySeconds = (performance.now() - start) / 1000;
      source.close();
      target.close();
      out.push({ name: `apply + commit to SQLite, ${txsPerBlock} tx/block`, value: count / writeSeconds, unit: "blocks/s", note: `${((count * txsPerBlock) / writeSeconds).toFixed(0)} tx/s, fsync per block` });
      out.push({ name: `read from SQLite + decode + apply + commit, ${txsPerBlock} tx/block`, value: count / replaySeconds, unit: "blocks/s", note: `${((count * txsPerBlock) / replaySeconds).toFixed(0)} tx/s` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
