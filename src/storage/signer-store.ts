import { checkApproval, type SignerSafety } from "../core/chain/signer-safety.js";
import { openDatabase, type SqliteDatabase } from "./database.js";
import { toStorageError } from "./errors.js";
import type { Migration } from "./migrations.js";

const SIGNER_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "the last slot and block signed", sql: "CREATE TABLE signed (id INTEGER PRIMARY KEY CHECK (id = 1), slot INTEGER NOT NULL, block_hash BLOB NOT NULL);" },
];

/**
 * The validator's signing record in its own SQLite file with full sync: `approve` returns only once
 * the record is on disk, so what a validator broadcasts it has already remembered.
 */
export class SqliteSignerSafety implements SignerSafety {
  private readonly db: SqliteDatabase;
  private cached: { slot: number; blockHash: Uint8Array } | null;

  constructor(path: string) {
    this.db = openDatabase(path, SIGNER_MIGRATIONS);
    this.db.pragma("synchronous = FULL");
    const row = this.db.prepare<[], { slot: number; block_hash: Buffer }>("SELECT slot, block_hash FROM signed WHERE id = 1").get();
    this.cached = row === undefined ? null : { slot: row.slot, blockHash: new Uint8Array(row.block_hash) };
  }

  approve(slot: number, blockHash: Uint8Array): void {
    if (checkApproval(this.cached, slot, blockHash) === "repeat") return;
    try {
      this.db.prepare("INSERT INTO signed (id, slot, block_hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, block_hash = excluded.block_hash").run(slot, blockHash);
    } catch (e) {
      throw toStorageError(e, "recording a signature");
    }
    this.cached = { slot, blockHash: Uint8Array.from(blockHash) };
  }

  last() {
    return this.cached;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
