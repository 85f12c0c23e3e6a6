import { checkApproval, checkPrecommit, legacyLock, nextLock, precommitRecord, type SignedRecord, type SignerSafety } from "../core/chain/signer-safety.js";
import { openDatabase, type SqliteDatabase } from "./database.js";
import { toStorageError } from "./errors.js";
import type { Migration } from "./migrations.js";

const SIGNER_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "the last slot and block signed", sql: "CREATE TABLE signed (id INTEGER PRIMARY KEY CHECK (id = 1), slot INTEGER NOT NULL, block_hash BLOB NOT NULL);" },
  // NULL on a record written before locks were kept: read as legacyLock (the last slot less one).
  { version: 2, description: "the lock: the highest parent slot of a block signed", sql: "ALTER TABLE signed ADD COLUMN lock_slot INTEGER;" },
  // 1 when the last signature was a precommit of (slot, block_hash): nothing more for that slot.
  { version: 3, description: "whether the last signature was a precommit", sql: "ALTER TABLE signed ADD COLUMN precommitted INTEGER NOT NULL DEFAULT 0;" },
];

/**
 * The validator's signing record in its own SQLite file with full sync: `approve` returns only once
 * the record (last slot, block and lock) is on disk, so what a validator broadcasts it has already
 * remembered, lock included.
 */
export class SqliteSignerSafety implements SignerSafety {
  private readonly db: SqliteDatabase;
  private cached: SignedRecord | null;
  private legacyRecord: boolean;

  constructor(path: string) {
    this.db = openDatabase(path, SIGNER_MIGRATIONS);
    this.db.pragma("synchronous = FULL");
    const row = this.db.prepare<[], { slot: number; block_hash: Buffer; lock_slot: number | null; precommitted: number }>("SELECT slot, block_hash, lock_slot, precommitted FROM signed WHERE id = 1").get();
    this.cached = row === undefined ? null : { slot: row.slot, blockHash: new Uint8Array(row.block_hash), lock: row.lock_slot ?? legacyLock(row.slot), ...(row.precommitted === 1 ? { precommitted: true } : {}) };
    this.legacyRecord = row !== undefined && row.lock_slot === null;
  }

  /** The record predates locks: its lock is the bound `legacyLock` gives until a lock is written (`settleLegacyLock`, or the next signature). */
  get legacy(): boolean {
    return this.legacyRecord;
  }

  /**
   * The lock of a legacy record, once the node knows one that is both safe and reachable (see
   * ValidatorService): written down, so the next start reads it as any record's.
   */
  settleLegacyLock(lock: number): void {
    if (!this.legacyRecord || this.cached === null) return;
    try {
      this.db.prepare("UPDATE signed SET lock_slot = ? WHERE id = 1").run(lock);
    } catch (e) {
      throw toStorageError(e, "recording the lock of a signing record from before locks");
    }
    this.cached = { ...this.cached, lock };
    this.legacyRecord = false;
  }

  approve(slot: number, blockHash: Uint8Array, parentSlot: number): void {
    if (checkApproval(this.cached, slot, blockHash, parentSlot) === "repeat") return;
    const record = { slot, blockHash: Uint8Array.from(blockHash), lock: nextLock(this.cached, parentSlot) };
    this.write(record, "recording a signature");
  }

  approvePrecommit(slot: number, blockHash: Uint8Array): void {
    if (checkPrecommit(this.cached, slot, blockHash) === "repeat") return;
    this.write(precommitRecord(this.cached, slot, blockHash), "recording a precommit");
  }

  /** One durable write of the whole record, lock and precommit flag with it, before the cache moves. */
  private write(record: SignedRecord, what: string): void {
    try {
      this.db
        .prepare(
          "INSERT INTO signed (id, slot, block_hash, lock_slot, precommitted) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, block_hash = excluded.block_hash, lock_slot = excluded.lock_slot, precommitted = excluded.precommitted",
        )
        .run(record.slot, record.blockHash, record.lock, record.precommitted === true ? 1 : 0);
    } catch (e) {
      throw toStorageError(e, what);
    }
    this.cached = record;
    this.legacyRecord = false;
  }

  last(): SignedRecord | null {
    return this.cached;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
