import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { toHex } from "../core/bytes.js";
import { type Genesis, GenesisError, parseGenesis } from "../core/genesis.js";
import { ChainStore } from "../storage/chain-store.js";
import { CliError } from "./errors.js";

/**
 * A genesis being put together: the same JSON as a genesis file, edited one command at a time. Every
 * edit is checked by the one genesis parser (src/core/genesis.ts); only "no validators yet" is
 * allowed in a draft.
 */
export type GenesisDraft = { chainId: string; consensus?: string; genesisTime: number; params?: Record<string, string>; accounts: Record<string, unknown>[]; validators: Record<string, unknown>[] };

export function readDraft(path: string): GenesisDraft {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `cannot read the genesis draft ${path}: ${(e as Error).message}`);
  }
  checkDraft(doc);
  const draft = doc as GenesisDraft;
  return { ...draft, accounts: draft.accounts ?? [] };
}

/** Checks everything a finished genesis must satisfy, except having a validator yet. */
export function checkDraft(doc: unknown): Genesis | null {
  try {
    return parseGenesis(doc);
  } catch (e) {
    if (e instanceof GenesisError && e.code === "NO_VALIDATORS") return null;
    throw e;
  }
}

/** Replace the draft in one step (a crash leaves the old or the new draft, never half of one). */
export function writeDraft(path: string, draft: GenesisDraft, opts: { exclusive?: boolean } = {}): void {
  checkDraft(draft);
  const text = `${JSON.stringify(draft, null, 2)}\n`;
  if (opts.exclusive === true) {
    try {
      writeFileSync(path, text, { flag: "wx", mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new CliError("INVALID_ARGUMENT", `${path} already exists; refusing to overwrite it`);
      throw new CliError("INVALID_ARGUMENT", `cannot write ${path}: ${(e as Error).message}`);
    }
    return;
  }
  const temp = `${path}.tmp`;
  writeFileSync(temp, text, { mode: 0o644 });
  renameSync(temp, path);
}

/** The hash every operator compares before starting: it names the chain and its whole initial state. */
export function genesisHashHex(genesis: Genesis): string {
  return toHex(ChainStore.genesisTip(genesis).hash);
}
