import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex, utf8 } from "../core/bytes.js";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import { produceBlock } from "../core/chain/produce.js";
import { sha256 } from "../core/crypto/hash.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { type Genesis, parseGenesis } from "../core/genesis.js";
import type { ParentInfo } from "../core/state/block-transition.js";
import type { DecodedTx } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { TxKind } from "../core/tx/types.js";
import { ChainStore, type CommitEntry } from "../storage/chain-store.js";

/*
 * The sync benchmark's chain, built once and kept under the OS temp directory: two BLS signatures
 * per block (randao and proposer) in pure JavaScript make 100,000 blocks about half an hour of one
 * core, so `npm run bench` pays that once per code version, not once per run.
 */

export const SYNC_CHAIN_ID = "meshchain-bench-sync";
const SLOT_SECONDS = 30;
const USERS = 50;
/** Bump when the chain's shape (transactions, timestamps, accounts) changes: the cache key carries it. */
const SHAPE_VERSION = 1;

export const syncIdentity = (name: string): Identity => identityFromSeed(sha256(utf8.encode(`meshchain-bench-sync:${name}`)));

/**
 * Fixed for a year at a time so a cached chain stays valid, and far enough back (at least 400 days)
 * that a chain of a million 30-second slots ends before now: a block from the future is refused.
 */
function genesisTime(now: number): number {
  const year = 365 * 86_400;
  return Math.floor((now - 400 * 86_400) / year) * year;
}

export interface SyncChain {
  readonly genesis: Genesis;
  readonly validator: Identity;
  readonly follower: Identity;
  readonly blocks: number;
}

export function syncChain(blocks: number, now = Math.floor(Date.now() / 1000)): SyncChain {
  const validator = syncIdentity("validator");
  const users = Array.from({ length: USERS }, (_, i) => syncIdentity(`user-${i}`));
  const follower = syncIdentity("follower");
  const genesis = parseGenesis(buildGenesisDocument({
    chainId: SYNC_CHAIN_ID,
    genesisTime: genesisTime(now),
    validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 500 }],
    accounts: [...users, follower].map((identity) => ({ identity, balance: 1_000_000_000_000n })),
  }));
  return { genesis, validator, follower, blocks };
}

/**
 * What decides the bytes of the cached chain and how its database is laid out: the compiled core
 * (blocks, transactions, the state transition) and the storage schema. A follower re-checks every
 * block it syncs, so a cache that somehow went stale fails the run rather than skewing it.
 */
function codeVersion(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const root = join(here, "..");
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|ts)$/.test(name) && !name.endsWith(".d.ts")) parts.push(toHex(sha256(readFileSync(path))));
    }
  };
  walk(join(root, "core"));
  for (const name of readdirSync(join(root, "storage")).sort()) {
    if (/^(migrations|chain-codec)\.(js|ts)$/.test(name)) parts.push(toHex(sha256(readFileSync(join(root, "storage", name)))));
  }
  return toHex(sha256(utf8.encode(parts.join(",")))).slice(0, 16);
}

/**
 * A copy of the validator's chain database at `dest` (a file path), from the cache, with at least
 * `chain.blocks` blocks (a cached chain is one growing chain: a longer one serves a shorter run, the
 * follower stops at its height). A missing or shorter cache is built or extended first, on a copy
 * renamed over it when done: a build stopped half-way (Ctrl-C) keeps what it committed in the
 * `.partial` file, and the next run carries on from there. The copy is the run's own: the validator
 * node started on it may append blocks.
 */
export function copySyncChain(chain: SyncChain, dest: string, log: (line: string) => void): void {
  const key = toHex(sha256(utf8.encode(`${codeVersion()}|${SHAPE_VERSION}|${chain.genesis.genesisTime}`))).slice(0, 16);
  const dir = join(tmpdir(), "meshchain-bench-sync-cache");
  const cached = join(dir, `chain-${key}.db`);
  const have = existsSync(cached) ? chainHeight(cached, chain.genesis) : 0;
  if (have < chain.blocks) {
    mkdirSync(dir, { recursive: true });
    const partial = `${cached}.partial`;
    if (!existsSync(partial) && have > 0) copyFileSync(cached, partial);
    log(`building the sync benchmark's chain to ${chain.blocks.toLocaleString("en-US")} blocks, once per code version (cached as ${cached})`);
    extendChain(partial, chain, log);
    // Renamed only once whole: a run stopped half-way leaves no cache that looks complete.
    renameSync(partial, cached);
  }
  copyFileSync(cached, dest);
}

function chainHeight(path: string, genesis: Genesis): number {
  const store = ChainStore.open(path, genesis);
  try {
    return store.tip.height;
  } finally {
    store.close();
  }
}

/** The lone validator's blocks, every twentieth with five transfers between the users, real signatures throughout, from the stored tip on. */
function extendChain(path: string, chain: SyncChain, log: (line: string) => void): void {
  const { genesis, validator, blocks } = chain;
  const users = Array.from({ length: USERS }, (_, i) => syncIdentity(`user-${i}`));
  const store = ChainStore.open(path, genesis);
  const from = store.tip.height + 1;
  // Each user's next nonce, counted as the blocks below `from` used them.
  const nonces = users.map(() => 0);
  for (let h = 20; h < from; h += 20) {
    for (let i = 0; i < 5; i++) {
      const u = (h / 20 + i) % users.length;
      nonces[u] = (nonces[u] ?? 0) + 1;
    }
  }
  // Built on a working copy and committed 256 blocks a transaction: the source is scaffolding, not the measure.
  const state = store.state.clone();
  let tip: ParentInfo = store.tip;
  let batch: CommitEntry[] = [];
  const started = performance.now();
  try {
    for (let h = from; h <= blocks; h++) {
      const txs: DecodedTx[] = [];
      if (h % 20 === 0) {
        for (let i = 0; i < 5; i++) {
          const u = (h / 20 + i) % users.length;
          const sender = users[u] as Identity;
          const nonce = nonces[u] ?? 0;
          nonces[u] = nonce + 1;
          txs.push(signTx({ sender: sender.address, nonce, fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: (users[(u + 1) % users.length] as Identity).address, amount: 1_000n } }, SYNC_CHAIN_ID, sender.ed25519));
        }
      }
      const produced = produceBlock(state, { chainId: SYNC_CHAIN_ID, parent: tip, slot: tip.slot + 1, timestamp: tip.timestamp + SLOT_SECONDS, candidates: txs, certificate: null, proposer: { address: validator.address, bls: validator.bls } });
      state.commit(produced.applied.changes, produced.applied.tree);
      const header = produced.block.header;
      tip = { height: header.height, hash: produced.applied.hash, slot: header.slot, timestamp: header.timestamp };
      batch.push({ block: produced.block, applied: produced.applied, notarization: null });
      if (batch.length === 256 || h === blocks) {
        store.commitBatch(batch, header.height);
        batch = [];
      }
      if (h % 10_000 === 0 && h < blocks) {
        const perBlock = (performance.now() - started) / (h - from + 1);
        log(`  ${h.toLocaleString("en-US")} blocks built, about ${Math.ceil(((blocks - h) * perBlock) / 60_000)} min to go`);
      }
    }
  } finally {
    store.close();
  }
}
