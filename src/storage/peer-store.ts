import { openDatabase, type SqliteDatabase } from "./database.js";
import type { Migration } from "./migrations.js";

const PEER_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "known peers", sql: "CREATE TABLE peers (node INTEGER PRIMARY KEY, record TEXT NOT NULL);" },
];

/** The peer table on disk, one opaque record per node number: what the node learned, bans included, survives restarts. */
export class SqlitePeerStore {
  private readonly db: SqliteDatabase;
  private readonly put;
  private readonly del;

  constructor(path: string) {
    this.db = openDatabase(path, PEER_MIGRATIONS);
    // Peer knowledge is advisory: losing the last updates in a power cut costs nothing.
    this.db.pragma("synchronous = NORMAL");
    this.put = this.db.prepare<[number, string]>("INSERT OR REPLACE INTO peers (node, record) VALUES (?, ?)");
    this.del = this.db.prepare<[number]>("DELETE FROM peers WHERE node = ?");
  }

  save(node: number, record: string): void {
    this.put.run(node, record);
  }

  remove(node: number): void {
    this.del.run(node);
  }

  loadAll(): string[] {
    return this.db.prepare<[], { record: string }>("SELECT record FROM peers").all().map((r) => r.record);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
