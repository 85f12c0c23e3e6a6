import Database from "better-sqlite3";
import { StorageError } from "./errors.js";
import { CHAIN_MIGRATIONS, type Migration, migrate } from "./migrations.js";

export type SqliteDatabase = Database.Database;

/**
 * Open (creating if needed) a SQLite database in WAL mode with full sync: a block is durable once
 * committed, which costs one fsync per block, and blocks are seconds apart on LoRa.
 */
export function openDatabase(path: string, migrations: readonly Migration[] = CHAIN_MIGRATIONS): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    // A lock held by another program fails a write within 100 ms (a storage fault the node retries), never blocking the event loop for seconds.
    db = new Database(path, { timeout: 100 });
  } catch (e) {
    throw new StorageError("OPEN_FAILED", `cannot open database ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    migrate(db, migrations);
  } catch (e) {
    db.close();
    if (e instanceof StorageError) throw e;
    throw new StorageError("OPEN_FAILED", `cannot open database ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return db;
}
