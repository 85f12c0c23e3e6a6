import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import type { Identity } from "../core/crypto/identity.js";
import { type Genesis, parseGenesisJson } from "../core/genesis.js";
import { generateIdentity, readKeyFile, writeKeyFile } from "../storage/keystore.js";

export const DEV_CHAIN_ID = "meshchain-dev";
const COIN = 1_000_000n;

/**
 * The development network in `dataDir`: a node key and a genesis with that node as the only
 * validator, created on first use and reused afterwards, so `npm start` resumes the same chain.
 */
export function ensureDevNetwork(dataDir: string, now: () => number): { identity: Identity; genesis: Genesis; keyPath: string; genesisPath: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyPath = join(dataDir, "node.key");
  const genesisPath = join(dataDir, "genesis.json");
  if (!existsSync(keyPath)) writeKeyFile(keyPath, generateIdentity());
  const identity = readKeyFile(keyPath);
  if (!existsSync(genesisPath)) {
    const doc = buildGenesisDocument({
      chainId: DEV_CHAIN_ID,
      genesisTime: Math.floor(now() / 1000),
      validators: [{ identity, selfBond: 10_000n * COIN, commissionBps: 1_000 }],
      accounts: [{ identity, balance: 1_000_000n * COIN }],
    });
    writeFileSync(genesisPath, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return { identity, genesis: parseGenesisJson(readFileSync(genesisPath, "utf8")), keyPath, genesisPath };
}
