import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { StorageError } from "./errors.js";

/**
 * One process per data directory. The lock is SQLite's own exclusive file lock on `LOCK.db`, held by
 * an open write transaction: the operating system drops it the moment the process dies (SIGKILL and
 * power cuts included), so a stale lock never needs clearing by hand. `LOCK.pid` names the holder for
 * the message a second process prints.
 */
export class DataDirLock {
  private constructor(
    private db: Database.Database | null,
    readonly dir: string,
  ) {}

  /** Create the directory if needed (mode 0700) and take its lock, or throw DATA_DIR_LOCKED naming the holder. */
  static acquire(dir: string): DataDirLock {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StorageError("OPEN_FAILED", `cannot create the data directory ${dir}: ${(e as Error).message}`);
    }
    let db: Database.Database;
    try {
      db = new Database(join(dir, "LOCK.db"), { timeout: 0 });
    } catch (e) {
      throw new StorageError("OPEN_FAILED", `cannot open the lock of ${dir}: ${(e as Error).message}`);
    }
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.exec("BEGIN EXCLUSIVE");
    } catch (e) {
      db.close();
      if ((e as { code?: unknown }).code === "SQLITE_BUSY" || (e as { code?: unknown }).code === "SQLITE_LOCKED") {
        throw new StorageError("DATA_DIR_LOCKED", `${dir} is in use by another meshchain process${holder(dir)}; stop it first, or give this one its own --data-dir`);
      }
      throw new StorageError("OPEN_FAILED", `cannot lock ${dir}: ${(e as Error).message}`);
    }
    try {
      writeFileSync(join(dir, "LOCK.pid"), `${process.pid}\n`);
    } catch {
      // The lock holds without the note; only the second process's message is poorer.
    }
    return new DataDirLock(db, dir);
  }

  release(): void {
    const db = this.db;
    this.db = null;
    if (db === null || !db.open) return;
    db.close();
  }
}

function holder(dir: string): string {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, "LOCK.pid"), "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? ` (PID ${pid})` : "";
  } catch {
    return "";
  }
}
