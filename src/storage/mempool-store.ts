import { openDatabase, type SqliteDatabase } from "./database.js";
import type { Migration } from "./migrations.js";
import { toStorageError } from "./errors.js";

const MEMPOOL_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "pending transactions", sql: "CREATE TABLE pending (hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID;" },
  { version: 2, description: "transactions this node accepted from its users, kept until included", sql: "CREATE TABLE local (hash BLOB PRIMARY KEY, tx BLOB NOT NULL, accepted_at INTEGER NOT NULL) WITHOUT ROWID;" },
];

/**
 * Pending transactions on disk, so a restart does not lose what users submitted, and the ones this
 * node acknowledged to its own users (kept apart until the chain includes them). Full sync: a
 * transaction is acknowledged only once it is on disk.
 */
export class SqliteMempoolStore {
  private readonly db: SqliteDatabase;
  private readonly put;
  private readonly del;
  private readonly putLocal;
  private readonly delLocal;

  constructor(path: string) {
    this.db = openDatabase(path, MEMPOOL_MIGRATIONS);
    this.put = this.db.prepare<[Uint8Array, Uint8Array]>("INSERT OR REPLACE INTO pending (hash, tx) VALUES (?, ?)");
    this.del = this.db.prepare<[Uint8Array]>("DELETE FROM pending WHERE hash = ?");
    this.putLocal = this.db.prepare<[Uint8Array, Uint8Array, number]>("INSERT OR IGNORE INTO local (hash, tx, accepted_at) VALUES (?, ?, ?)");
    this.delLocal = this.db.prepare<[Uint8Array]>("DELETE FROM local WHERE hash = ?");
  }

  /** The pending row, and with `acceptedAtMs` the acknowledged copy too: both or neither. */
  save(hash: Uint8Array, bytes: Uint8Array, acceptedAtMs?: number): void {
    if (acceptedAtMs === undefined) return this.write(() => this.put.run(hash, bytes), "saving a pending transaction");
    this.write(
      this.db.transaction(() => {
        this.put.run(hash, bytes);
        this.putLocal.run(hash, bytes, acceptedAtMs);
      }),
      "saving an accepted transaction",
    );
  }

  remove(hash: Uint8Array): void {
    this.write(() => this.del.run(hash), "removing a pending transaction");
  }

  saveLocal(hash: Uint8Array, bytes: Uint8Array, acceptedAtMs: number): void {
    this.write(() => this.putLocal.run(hash, bytes, acceptedAtMs), "saving an accepted transaction");
  }

  removeLocal(hash: Uint8Array): void {
    this.write(() => this.delLocal.run(hash), "forgetting an included transaction");
  }

  /** The accepted transactions not yet seen included, oldest first. */
  loadLocal(): { bytes: Uint8Array; acceptedAtMs: number }[] {
    return this.db
      .prepare<[], { tx: Buffer; accepted_at: number }>("SELECT tx, accepted_at FROM local ORDER BY accepted_at")
      .all()
      .map((r) => ({ bytes: new Uint8Array(r.tx), acceptedAtMs: r.accepted_at }));
  }

  private write(run: () => unknown, what: string): void {
    try {
      run();
    } catch (e) {
      throw toStorageError(e, what);
    }
  }

  loadAll(): Uint8Array[] {
    return this.db.prepare<[], { tx: Buffer }>("SELECT tx FROM pending").all().map((r) => new Uint8Array(r.tx));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
