import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import type { Identity } from "../core/crypto/identity.js";
import { type Genesis, parseGenesisJson } from "../core/genesis.js";
import { generateIdentity, readKeyFile, writeKeyFile } from "../storage/keystore.js";
import { NodeError } from "./errors.js";

/** Files a data directory holds before any chain: the lock and its holder's note. */
const LOCK_FILES = new Set(["LOCK.db", "LOCK.pid", "LOCK.db-journal"]);

export const DEV_CHAIN_ID = "meshchain-dev";
const COIN = 1_000_000n;
const DEV_SLOT_MS = 2_000n;
/** A development chain's validators join within a few blocks of registering. */
export const DEV_EPOCH_LENGTH = 10n;

/**
 * The development network in `dataDir`: a node key and a genesis with that node as the only
 * validator, created on first use and reused afterwards, so `npm start` resumes the same chain.
 */
export function ensureDevNetwork(dataDir: string, now: () => number): { identity: Identity; genesis: Genesis; keyPath: string; genesisPath: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyPath = join(dataDir, "node.key");
  const genesisPath = join(dataDir, "genesis.json");
  assertDevDataDir(dataDir, keyPath, genesisPath);
  if (!existsSync(keyPath)) writeKeyFile(keyPath, generateIdentity());
  const identity = readKeyFile(keyPath);
  if (!existsSync(genesisPath)) {
    const doc = buildGenesisDocument({
      chainId: DEV_CHAIN_ID,
      genesisTime: Math.floor(now() / 1000),
      validators: [{ identity, selfBond: 10_000n * COIN, commissionBps: 1_000 }],
      accounts: [{ identity, balance: 1_000_000n * COIN }],
      // Quick blocks for development; in the genesis (not only the node's flag), so the chain can grow
      // by validators that register and keep the same slots.
      params: { slotMs: DEV_SLOT_MS, epochLength: DEV_EPOCH_LENGTH },
    });
    writeFileSync(genesisPath, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return { identity, genesis: parseGenesisJson(readFileSync(genesisPath, "utf8")), keyPath, genesisPath };
}

/**
 * A development chain is made only in an empty directory or resumed in one it made: pointed at another
 * node's directory, `--dev` must refuse before it writes a stray key or genesis there.
 */
function assertDevDataDir(dataDir: string, keyPath: string, genesisPath: string): void {
  const present = readdirSync(dataDir).filter((f) => !LOCK_FILES.has(f));
  if (present.length === 0) return;
  const refuse = (why: string) => {
    throw new NodeError("NOT_DEV_DATA_DIR", `${dataDir} is not a development data directory (${why}); give --dev an empty or new --data-dir`);
  };
  if (!existsSync(genesisPath) || !existsSync(keyPath)) refuse(`it holds ${present.slice(0, 4).join(", ")} but not both node.key and genesis.json`);
  let chainId: unknown;
  try {
    chainId = (JSON.parse(readFileSync(genesisPath, "utf8")) as { chainId?: unknown }).chainId;
  } catch (e) {
    refuse(`its genesis.json does not parse: ${(e as Error).message}`);
  }
  if (chainId !== DEV_CHAIN_ID) refuse(`its genesis is for chain ${String(chainId)}`);
}
