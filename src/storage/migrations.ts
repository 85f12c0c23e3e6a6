import type { Database } from "better-sqlite3";
import { StorageError } from "./errors.js";

/**
 * Numbered schema migrations. `PRAGMA user_version` records the last one applied; each runs in its
 * own transaction, so a crash mid-migration leaves the previous version intact. Append only.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const CHAIN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "chain: blocks, transaction index, state, undo records, metadata",
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL);
      CREATE TABLE txs (hash BLOB PRIMARY KEY, height INTEGER NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX txs_by_height ON txs (height);
      CREATE TABLE state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE undo (height INTEGER PRIMARY KEY, data BLOB NOT NULL);
    `,
  },
  {
    version: 2,
    description: "chain: each block's notarization where its child does not carry it; the checkpoint a store started from",
    sql: `
      CREATE TABLE notarizations (height INTEGER PRIMARY KEY, data BLOB NOT NULL);
    `,
  },
];

export function migrate(db: Database, migrations: readonly Migration[]): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new StorageError("SCHEMA_TOO_NEW", `database schema ${current} is newer than this build understands (${latest}); upgrade meshchain`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      })();
    } catch (e) {
      throw new StorageError("MIGRATION_FAILED", `migration ${m.version} (${m.description}) failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return latest;
}
