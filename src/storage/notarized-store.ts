import type { Block } from "../core/block/block.js";
import { decodeBlock, encodeBlock } from "../core/block/block.js";
import { readCertificate } from "../core/block/certificate.js";
import { blockHash } from "../core/block/header.js";
import type { KeptBlock, NotarizedBlockStore } from "../core/chain/notarized-blocks.js";
import { decodeExact } from "../core/codec/reader.js";
import { MeshChainError } from "../core/errors.js";
import { openDatabase, type SqliteDatabase } from "./database.js";
import { encodeNotarization } from "./chain-codec.js";
import { toStorageError } from "./errors.js";
import type { Migration } from "./migrations.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "notarized blocks above the finalized tip",
    sql: "CREATE TABLE kept (hash BLOB PRIMARY KEY, height INTEGER NOT NULL, block BLOB NOT NULL, certificate BLOB); CREATE INDEX kept_height ON kept (height);",
  },
];

/**
 * The validator's notarized blocks above finality, in their own SQLite file next to the signing
 * record (written before the signature that moves the lock, with the same full sync). A file of
 * its own rather than a table of the chain store: the chain store holds what is final, and these
 * blocks are not; a row that fails to decode is dropped, as the engine checks every block again.
 */
export class SqliteNotarizedBlocks implements NotarizedBlockStore {
  private readonly db: SqliteDatabase;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
  }

  keep(blocks: readonly KeptBlock[]): void {
    const put = this.db.prepare("INSERT INTO kept (hash, height, block, certificate) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET certificate = COALESCE(excluded.certificate, kept.certificate)");
    try {
      this.db.transaction(() => {
        for (const { block, certificate } of blocks) put.run(blockHash(block.header), block.header.height, encodeBlock(block), certificate === null ? null : encodeNotarization(certificate));
      })();
    } catch (e) {
      throw toStorageError(e, "keeping notarized blocks");
    }
  }

  all(): KeptBlock[] {
    const rows = this.db.prepare<[], { block: Buffer; certificate: Buffer | null }>("SELECT block, certificate FROM kept ORDER BY height").all();
    const out: KeptBlock[] = [];
    for (const row of rows) {
      try {
        const block: Block = decodeBlock(new Uint8Array(row.block));
        const certificate = row.certificate === null ? null : decodeExact(new Uint8Array(row.certificate), readCertificate);
        out.push({ block, certificate });
      } catch (e) {
        // A damaged row: the block is refetched from peers or lost, which costs liveness, never safety.
        if (e instanceof MeshChainError) continue;
        throw e;
      }
    }
    return out;
  }

  pruneTo(height: number): void {
    try {
      this.db.prepare("DELETE FROM kept WHERE height <= ?").run(height);
    } catch (e) {
      throw toStorageError(e, "pruning notarized blocks");
    }
  }

  close(): void {
    this.db.close();
  }
}
