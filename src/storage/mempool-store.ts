import { openDatabase, type SqliteDatabase } from "./database.js";
import type { Migration } from "./migrations.js";

const MEMPOOL_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "pending transactions", sql: "CREATE TABLE pending (hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID;" },
];

/** Pending transactions on disk, so a restart does not lose what users submitted. */
export class SqliteMempoolStore {
  private readonly db: SqliteDatabase;
  private readonly put;
  private readonly del;

  constructor(path: string) {
    this.db = openDatabase(path, MEMPOOL_MIGRATIONS);
    // Losing the last few pending transactions in a power cut is acceptable; their senders still hold them.
    this.db.pragma("synchronous = NORMAL");
    this.put = this.db.prepare<[Uint8Array, Uint8Array]>("INSERT OR REPLACE INTO pending (hash, tx) VALUES (?, ?)");
    this.del = this.db.prepare<[Uint8Array]>("DELETE FROM pending WHERE hash = ?");
  }

  save(hash: Uint8Array, bytes: Uint8Array): void {
    this.put.run(hash, bytes);
  }

  remove(hash: Uint8Array): void {
    this.del.run(hash);
  }

  loadAll(): Uint8Array[] {
    return this.db.prepare<[], { tx: Buffer }>("SELECT tx FROM pending").all().map((r) => new Uint8Array(r.tx));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
