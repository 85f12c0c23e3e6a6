import { openDatabase, type SqliteDatabase } from "./database.js";
import { toStorageError } from "./errors.js";
import type { Migration } from "./migrations.js";

/*
 * Message transactions by sender and recipient, on disk beside chain.db (messages.db), so that an
 * inbox read on a Pi that has run for months neither rescans its blocks at start nor holds every
 * message in memory. Built from committed blocks: it records the block it last read (height and
 * hash), and the reader (node/read-model.ts) rewinds it when the chain below that block changed.
 */
const MESSAGE_INDEX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "message transactions by sender, recipient and acknowledged message",
    sql: `
      CREATE TABLE messages (
        height INTEGER NOT NULL, position INTEGER NOT NULL, hash BLOB NOT NULL,
        sender BLOB NOT NULL, recipient BLOB NOT NULL, acknowledges BLOB,
        PRIMARY KEY (height, position)
      ) WITHOUT ROWID;
      CREATE INDEX messages_by_recipient ON messages (recipient, height, position);
      CREATE INDEX messages_by_sender ON messages (sender, height, position);
      CREATE INDEX messages_by_hash ON messages (hash);
      CREATE INDEX messages_by_acknowledged ON messages (acknowledges) WHERE acknowledges IS NOT NULL;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    `,
  },
];

/** One message transaction of a block. */
export interface IndexedMessage {
  readonly height: number;
  readonly position: number;
  readonly hash: Uint8Array;
  readonly sender: Uint8Array;
  readonly recipient: Uint8Array;
  /** The message this one acknowledges, when it is a receipt. */
  readonly acknowledges: Uint8Array | null;
}

/** The last block the index has read; height 0 when it has read none. */
export interface IndexedTip {
  readonly height: number;
  readonly hash: Uint8Array;
}

interface Row {
  height: number;
  position: number;
  hash: Buffer;
  sender: Buffer;
  recipient: Buffer;
  acknowledges: Buffer | null;
}

const toMessage = (r: Row): IndexedMessage => ({
  height: r.height, position: r.position, hash: new Uint8Array(r.hash), sender: new Uint8Array(r.sender), recipient: new Uint8Array(r.recipient),
  acknowledges: r.acknowledges === null ? null : new Uint8Array(r.acknowledges),
});

const COLUMNS = "height, position, hash, sender, recipient, acknowledges";

export class MessageIndex {
  private readonly db: SqliteDatabase;
  private readonly insert;
  private readonly putMeta;
  private readonly getMeta;

  /** `path` ":memory:" keeps it in memory (tests, and a node without a data directory). */
  constructor(path: string, genesisHash: Uint8Array) {
    this.db = openDatabase(path, MESSAGE_INDEX_MIGRATIONS);
    this.insert = this.db.prepare<[number, number, Uint8Array, Uint8Array, Uint8Array, Uint8Array | null]>(`INSERT OR REPLACE INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`);
    this.putMeta = this.db.prepare<[string, Uint8Array]>("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.getMeta = this.db.prepare<[string], { value: Buffer }>("SELECT value FROM meta WHERE key = ?");
    // An index left from another chain (the data directory's chain.db was replaced) starts over.
    const genesis = this.getMeta.get("genesis")?.value;
    if (genesis === undefined || !Buffer.from(genesis).equals(Buffer.from(genesisHash))) {
      this.write(() => this.db.transaction(() => {
        this.db.exec("DELETE FROM messages; DELETE FROM meta;");
        this.putMeta.run("genesis", genesisHash);
      })(), "starting the message index");
    }
  }

  tip(): IndexedTip {
    const height = this.getMeta.get("height")?.value;
    const hash = this.getMeta.get("hash")?.value;
    return height === undefined || hash === undefined ? { height: 0, hash: new Uint8Array(0) } : { height: Buffer.from(height).readUInt32BE(0) * 2 ** 32 + Buffer.from(height).readUInt32BE(4), hash: new Uint8Array(hash) };
  }

  /** The messages of blocks up to `tip`, and that tip, in one transaction: all or nothing. */
  append(messages: readonly IndexedMessage[], tip: IndexedTip): void {
    this.write(() => this.db.transaction(() => {
      for (const m of messages) this.insert.run(m.height, m.position, m.hash, m.sender, m.recipient, m.acknowledges);
      this.setTip(tip);
    })(), "indexing messages");
  }

  /** Forget the messages above `tip.height` (blocks reverted), and rest on `tip`. */
  rewind(tip: IndexedTip): void {
    this.write(() => this.db.transaction(() => {
      this.db.prepare<[number]>("DELETE FROM messages WHERE height > ?").run(tip.height);
      this.setTip(tip);
    })(), "rewinding the message index");
  }

  /** Messages to and/or from an address at or above `fromHeight`, newest first. */
  find(filter: { to?: Uint8Array; from?: Uint8Array }, fromHeight: number, limit: number): IndexedMessage[] {
    const where = ["height >= ?"];
    const args: (number | Uint8Array)[] = [fromHeight];
    if (filter.to !== undefined) {
      where.push("recipient = ?");
      args.push(filter.to);
    }
    if (filter.from !== undefined) {
      where.push("sender = ?");
      args.push(filter.from);
    }
    const sql = `SELECT ${COLUMNS} FROM messages WHERE ${where.join(" AND ")} ORDER BY height DESC, position DESC LIMIT ?`;
    return this.db.prepare<(number | Uint8Array)[], Row>(sql).all(...args, limit).map(toMessage);
  }

  byHash(hash: Uint8Array): IndexedMessage | null {
    const r = this.db.prepare<[Uint8Array], Row>(`SELECT ${COLUMNS} FROM messages WHERE hash = ?`).get(hash);
    return r === undefined ? null : toMessage(r);
  }

  /** Receipts naming `hash`, oldest first (the reader checks who sent them). */
  acknowledgementsOf(hash: Uint8Array): IndexedMessage[] {
    return this.db.prepare<[Uint8Array], Row>(`SELECT ${COLUMNS} FROM messages WHERE acknowledges = ? ORDER BY height, position`).all(hash).map(toMessage);
  }

  count(): number {
    return (this.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private setTip(tip: IndexedTip): void {
    const height = Buffer.alloc(8);
    height.writeUInt32BE(Math.floor(tip.height / 2 ** 32), 0);
    height.writeUInt32BE(tip.height % 2 ** 32, 4);
    this.putMeta.run("height", height);
    this.putMeta.run("hash", tip.hash);
  }

  private write(action: () => void, what: string): void {
    try {
      action();
    } catch (e) {
      throw toStorageError(e, what);
    }
  }
}
