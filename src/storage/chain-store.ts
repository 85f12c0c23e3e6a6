// About 530 lines: one class owns every write to chain.db (commit, revert, finality, pruning, the signature audit's place), so that
// each runs in one transaction with memory moved after it; the record encodings live in chain-codec.ts.
import { bytesEqual, toHex } from "../core/bytes.js";
import { type Block, decodeBlock, encodeBlock } from "../core/block/block.js";
import { type NotarizationCertificate, readCertificate } from "../core/block/certificate.js";
import { type BlockHeader, blockHash, decodeHeader, encodeHeader, readHeader } from "../core/block/header.js";
import { decodeExact, Reader } from "../core/codec/reader.js";
import { type Genesis, genesisChanges, genesisParent } from "../core/genesis.js";
import type { AppliedBlock } from "../core/state/block-transition.js";
import { type StateChange, StateStore } from "../core/state/store.js";
import { type ChainTip, decodeHeight, decodeTip, decodeUndo, encodeHeight, encodeNotarization, encodeTip, encodeUndo } from "./chain-codec.js";
import { openDatabase, type SqliteDatabase } from "./database.js";

export type { ChainTip } from "./chain-codec.js";
import { StorageError, toStorageError } from "./errors.js";

/** One verified block to commit, with the notarization to keep beside it (null when its child carries it). */
export interface CommitEntry {
  readonly block: Block;
  readonly applied: AppliedBlock;
  readonly notarization: NotarizationCertificate | null;
  /**
   * The block's encoding when the caller already holds it (range sync received it): stored as is
   * instead of encoding the block again. Decoding is canonical (one accepted encoding per block), so
   * bytes the block was decoded from are its encoding.
   */
  readonly bytes?: Uint8Array;
}

export interface ChainStoreOptions {
  /**
   * Keep block bodies only this many blocks below finality and headers for the rest (a follower's
   * `--prune`); null keeps every body. Headers, notarizations and the state are always kept.
   */
  readonly keepBodies: number | null;
}

/** Bodies pruned per commit at most: pruning a long chain for the first time spreads over many commits. */
const PRUNE_STEP_BLOCKS = 256;

const toU8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Blocks, the transaction index and the state, in one SQLite file. A block and the state it
 * produces are written in one transaction, and the in-memory state changes only after that
 * transaction commits, so a crash or a full disk leaves both at the last whole block.
 */
/**
 * What range sync by finality proof hands to the signature audit with a batch: the first height
 * whose proposer signature was not checked, and the BLS keys its proposers had then (a validator's
 * record, and so its key, may be gone from the state by the time the audit gets there).
 */
export interface AuditHandover {
  readonly fromHeight: number;
  readonly proposers: readonly { readonly address: Uint8Array; readonly blsPublicKey: Uint8Array }[];
}

const AUDIT_KEY_PREFIX = "audit_key:";

export class ChainStore {
  private tipInfo: ChainTip;
  /** The recorded finalized height (kept in memory: sync and status read it often); null when never recorded. */
  private finalizedRecord: number | null;
  private readonly stmts;
  /** Lowest height whose body is kept (bodies below it were pruned to headers); 0 when none were. */
  private bodiesFrom: number;
  private pendingBodiesFrom: number;
  private readonly keepBodies: number | null;
  /** Proposer signatures are checked up to here; null: up to the tip (nothing left to the audit). */
  private signaturesCheckedRecord: number | null;

  private constructor(
    private readonly db: SqliteDatabase,
    readonly genesis: Genesis,
    readonly state: StateStore,
    private readonly genesisTip: ChainTip,
    options: ChainStoreOptions,
  ) {
    if (options.keepBodies !== null && (!Number.isInteger(options.keepBodies) || options.keepBodies < 1)) {
      throw new StorageError("BAD_OPTION", `blocks kept with bodies must be a positive whole number, got ${options.keepBodies}`);
    }
    this.keepBodies = options.keepBodies;
    this.stmts = {
      getMeta: db.prepare<[string], { value: Buffer }>("SELECT value FROM meta WHERE key = ?"),
      putMeta: db.prepare<[string, Uint8Array]>("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      putBlock: db.prepare<[number, Uint8Array, Uint8Array]>("INSERT INTO blocks (height, hash, data) VALUES (?, ?, ?)"),
      putBlockData: db.prepare<[Uint8Array, number]>("UPDATE blocks SET data = ? WHERE height = ?"),
      countUndo: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM undo"),
      deleteBlock: db.prepare<[number]>("DELETE FROM blocks WHERE height = ?"),
      blockAt: db.prepare<[number], { data: Buffer }>("SELECT data FROM blocks WHERE height = ?"),
      blocksIn: db.prepare<[number, number], { height: number; data: Buffer }>("SELECT height, data FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height"),
      notarizationsIn: db.prepare<[number, number], { height: number; data: Buffer }>("SELECT height, data FROM notarizations WHERE height BETWEEN ? AND ?"),
      hashAt: db.prepare<[number], { hash: Buffer }>("SELECT hash FROM blocks WHERE height = ?"),
      heightOf: db.prepare<[Uint8Array], { height: number }>("SELECT height FROM blocks WHERE hash = ?"),
      putTx: db.prepare<[Uint8Array, number, number]>("INSERT OR REPLACE INTO txs (hash, height, position) VALUES (?, ?, ?)"),
      deleteTxsAt: db.prepare<[number]>("DELETE FROM txs WHERE height = ?"),
      txAt: db.prepare<[Uint8Array], { height: number; position: number }>("SELECT height, position FROM txs WHERE hash = ?"),
      putState: db.prepare<[Uint8Array, Uint8Array]>("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      deleteState: db.prepare<[Uint8Array]>("DELETE FROM state WHERE key = ?"),
      putUndo: db.prepare<[number, Uint8Array]>("INSERT INTO undo (height, data) VALUES (?, ?)"),
      getUndo: db.prepare<[number], { data: Buffer }>("SELECT data FROM undo WHERE height = ?"),
      deleteUndo: db.prepare<[number]>("DELETE FROM undo WHERE height = ?"),
      pruneUndo: db.prepare<[number]>("DELETE FROM undo WHERE height < ?"),
      putNotarization: db.prepare<[number, Uint8Array]>("INSERT OR REPLACE INTO notarizations (height, data) VALUES (?, ?)"),
      getNotarization: db.prepare<[number], { data: Buffer }>("SELECT data FROM notarizations WHERE height = ?"),
      deleteNotarization: db.prepare<[number]>("DELETE FROM notarizations WHERE height = ?"),
    };
    const tip = this.stmts.getMeta.get("tip");
    this.tipInfo = tip === undefined ? genesisTip : decodeTip(toU8(tip.value));
    const finalized = this.stmts.getMeta.get("finalized");
    this.finalizedRecord = finalized === undefined ? null : decodeHeight(toU8(finalized.value));
    const bodiesFrom = this.stmts.getMeta.get("bodies_from");
    this.bodiesFrom = bodiesFrom === undefined ? 0 : decodeHeight(toU8(bodiesFrom.value));
    this.pendingBodiesFrom = this.bodiesFrom;
    const checked = this.stmts.getMeta.get("signatures_checked");
    this.signaturesCheckedRecord = checked === undefined ? null : decodeHeight(toU8(checked.value));
  }

  /**
   * Open the store at `path`, initialising it from `genesis` when new. Reopening checks that the
   * file belongs to this genesis and that the loaded state matches the tip's state root.
   */
  /** The pseudo-block genesis stands for, at height 0: what the first block builds on. */
  static genesisTip(genesis: Genesis): ChainTip {
    const initial = new StateStore();
    initial.commit(genesisChanges(genesis));
    return { ...genesisParent(genesis, initial.root), stateRoot: initial.root };
  }

  static open(path: string, genesis: Genesis, options: ChainStoreOptions = { keepBodies: null }): ChainStore {
    const db = openDatabase(path);
    try {
      const initial = new StateStore();
      const changes = genesisChanges(genesis);
      initial.commit(changes);
      const parent = genesisParent(genesis, initial.root);
      const genesisTip: ChainTip = { ...parent, stateRoot: initial.root };
      const stored = db.prepare<[], { value: Buffer }>("SELECT value FROM meta WHERE key = 'genesis_hash'").get();
      if (stored === undefined) {
        db.transaction(() => {
          const put = db.prepare<[Uint8Array, Uint8Array]>("INSERT INTO state (key, value) VALUES (?, ?)");
          for (const c of changes) if (c.value !== null) put.run(c.key, c.value);
          db.prepare<[string, Uint8Array]>("INSERT INTO meta (key, value) VALUES (?, ?)").run("genesis_hash", parent.hash);
        })();
        return new ChainStore(db, genesis, initial, genesisTip, options);
      }
      if (!bytesEqual(toU8(stored.value), parent.hash)) {
        throw new StorageError("GENESIS_MISMATCH", `${path} holds a different chain than this genesis (chain id ${genesis.chainId})`);
      }
      const state = new StateStore();
      const rows = db.prepare<[], { key: Buffer; value: Buffer }>("SELECT key, value FROM state").all();
      state.commit(rows.map((r) => ({ key: toU8(r.key), value: toU8(r.value) })));
      const store = new ChainStore(db, genesis, state, genesisTip, options);
      if (!bytesEqual(state.root, store.tip.stateRoot)) {
        throw new StorageError("CORRUPT", `state in ${path} does not match the state root of block ${store.tip.height}`);
      }
      return store;
    } catch (e) {
      db.close();
      throw toStorageError(e, `opening ${path}`);
    }
  }

  /**
   * Create a store at `path` that starts from a finalized checkpoint instead of genesis: the
   * checkpoint block and the complete state after it. The state must hash to the block's state root;
   * the caller has already checked the block's hash against the one the operator trusts.
   */
  static createFromCheckpoint(path: string, genesis: Genesis, block: Block, entries: readonly { key: Uint8Array; value: Uint8Array }[], options: ChainStoreOptions = { keepBodies: null }): ChainStore {
    const state = new StateStore();
    state.commit(entries);
    const h = block.header;
    if (!bytesEqual(state.root, h.stateRoot)) throw new StorageError("CORRUPT", `checkpoint state does not hash to the state root of block ${h.height}`);
    const db = openDatabase(path);
    try {
      if (db.prepare<[], { value: Buffer }>("SELECT value FROM meta WHERE key = 'genesis_hash'").get() !== undefined) {
        throw new StorageError("NOT_EMPTY", `${path} already holds a chain; a checkpoint starts a new one`);
      }
      const genesisTip = ChainStore.genesisTip(genesis);
      const hash = blockHash(h);
      const tip: ChainTip = { height: h.height, hash, slot: h.slot, timestamp: h.timestamp, stateRoot: h.stateRoot };
      db.transaction(() => {
        const put = db.prepare<[Uint8Array, Uint8Array]>("INSERT INTO state (key, value) VALUES (?, ?)");
        for (const e of entries) put.run(e.key, e.value);
        const meta = db.prepare<[string, Uint8Array]>("INSERT INTO meta (key, value) VALUES (?, ?)");
        meta.run("genesis_hash", genesisTip.hash);
        meta.run("base", encodeHeight(h.height));
        meta.run("tip", encodeTip(tip));
        db.prepare<[number, Uint8Array, Uint8Array]>("INSERT INTO blocks (height, hash, data) VALUES (?, ?, ?)").run(h.height, hash, encodeBlock(block));
      })();
      return new ChainStore(db, genesis, state, genesisTip, options);
    } catch (e) {
      db.close();
      throw toStorageError(e, `creating ${path} from a checkpoint`);
    }
  }

  get tip(): ChainTip {
    return this.tipInfo;
  }

  get genesisHash(): Uint8Array {
    return this.genesisTip.hash;
  }

  /**
   * Persist a block that `applyBlock` accepted on top of the current tip, with its notarization when
   * known (sync serves it to nodes that cannot get it from the block's child). A validator commits
   * final blocks; sync commits notarized ones (`final` false) and records finality as it proves it.
   */
  commitBlock(block: Block, applied: AppliedBlock, notarization: NotarizationCertificate | null = null, final = true): void {
    this.commitBatch([{ block, applied, notarization }], final ? block.header.height : null);
  }

  /**
   * Persist consecutive verified blocks on top of the tip in one SQLite transaction, and move
   * finality to `finalizedHeight` (null: where it was) in the same transaction. Undo records are
   * written only for blocks above finality (a reorganisation never goes below it) and dropped as
   * finality passes them; with body pruning on, bodies far enough below finality become headers.
   * Memory (state, tip) moves only after the transaction commits.
   */
  commitBatch(blocks: readonly CommitEntry[], finalizedHeight: number | null = null, audit: AuditHandover | null = null): void {
    const first = blocks[0];
    if (first === undefined) return;
    const startedAt = performance.now();
    const lastEntry = blocks[blocks.length - 1] as CommitEntry;
    const last = lastEntry.block.header;
    let parent: { height: number; hash: Uint8Array } = this.tipInfo;
    for (const { block, applied } of blocks) {
      const h = block.header;
      if (h.height !== parent.height + 1 || !bytesEqual(h.parentHash, parent.hash)) {
        throw new StorageError("NOT_TIP", `block ${h.height} does not extend the tip ${parent.height}`);
      }
      parent = { height: h.height, hash: applied.hash };
    }
    const previousFinal = this.finalizedHeight;
    if (finalizedHeight !== null && (finalizedHeight > last.height || finalizedHeight < previousFinal)) {
      throw new StorageError("NOT_FOUND", `cannot move finality from ${previousFinal} to ${finalizedHeight} with the tip at ${last.height}`);
    }
    const finalizedAfter = finalizedHeight ?? previousFinal;
    const tip: ChainTip = { height: last.height, hash: lastEntry.applied.hash, slot: last.slot, timestamp: last.timestamp, stateRoot: lastEntry.applied.stateRoot };
    const { undos, net } = this.undoRecordsAndNetChange(blocks, finalizedAfter);
    const checkedAfter = this.signaturesCheckedRecord ?? (audit === null ? null : audit.fromHeight - 1);
    try {
      this.db.transaction(() => {
        blocks.forEach(({ block, applied, notarization, bytes }, i) => {
          const height = block.header.height;
          this.stmts.putBlock.run(height, applied.hash, bytes ?? encodeBlock(block));
          applied.txHashes.forEach((hash, position) => this.stmts.putTx.run(hash, height, position));
          const undo = undos[i];
          if (undo !== undefined) this.stmts.putUndo.run(height, undo);
          if (notarization !== null) this.stmts.putNotarization.run(height, encodeNotarization(notarization));
        });
        // The batch's net change per key: a key every block rewrites (the chain's meta) is written once.
        this.writeState(net);
        if (finalizedHeight !== null || this.finalizedRecord === null) this.stmts.putMeta.run("finalized", encodeHeight(finalizedAfter));
        this.stmts.pruneUndo.run(finalizedAfter + 1);
        this.pruneBodies(finalizedAfter);
        this.stmts.putMeta.run("tip", encodeTip(tip));
        if (checkedAfter !== this.signaturesCheckedRecord && checkedAfter !== null) this.stmts.putMeta.run("signatures_checked", encodeHeight(checkedAfter));
        for (const p of audit?.proposers ?? []) this.stmts.putMeta.run(`${AUDIT_KEY_PREFIX}${toHex(p.address)}`, p.blsPublicKey);
      })();
    } catch (e) {
      throw toStorageError(e, blocks.length === 1 ? `committing block ${first.block.header.height}` : `committing blocks ${first.block.header.height}-${last.height}`);
    }
    this.state.commit(net, lastEntry.applied.tree);
    this.tipInfo = tip;
    this.finalizedRecord = finalizedAfter;
    this.bodiesFrom = this.pendingBodiesFrom;
    this.signaturesCheckedRecord = checkedAfter;
    this.commitObserver?.((performance.now() - startedAt) / 1000, blocks.length);
  }

  /**
   * Each block's undo record (the value each changed key had before it), or undefined for blocks at
   * or below `finalizedAfter`: those are never undone. Values come from the blocks before it in the
   * batch. `net` is the batch's change per key, the last block's that wrote it: what the state
   * holds after the whole batch.
   */
  private undoRecordsAndNetChange(blocks: readonly CommitEntry[], finalizedAfter: number): { undos: (Uint8Array | undefined)[]; net: readonly StateChange[] } {
    if (blocks.length === 1) {
      const { block, applied } = blocks[0] as CommitEntry;
      const undo = block.header.height <= finalizedAfter ? undefined : encodeUndo(applied.changes.map((c) => ({ key: c.key, value: this.state.get(c.key) ?? null })));
      return { undos: [undo], net: applied.changes };
    }
    const written = new Map<string, StateChange>();
    const undos = blocks.map(({ block, applied }) => {
      const keep = block.header.height > finalizedAfter;
      const undo: StateChange[] = [];
      for (const c of applied.changes) {
        const id = toHex(c.key);
        if (keep) {
          const earlier = written.get(id);
          undo.push({ key: c.key, value: earlier === undefined ? (this.state.get(c.key) ?? null) : earlier.value });
        }
        written.set(id, c);
      }
      return keep ? encodeUndo(undo) : undefined;
    });
    return { undos, net: [...written.values()] };
  }

  /**
   * With pruning on, turn the bodies of blocks more than `keepBodies` below finality into their
   * headers (a header and the certificate its child carries still prove the chain). Inside the
   * caller's transaction; at most PRUNE_STEP_BLOCKS a call, so a first pruning of a long chain
   * spreads over several commits instead of stalling one.
   */
  private pruneBodies(finalizedAfter: number): void {
    this.pendingBodiesFrom = this.bodiesFrom;
    if (this.keepBodies === null) return;
    const below = Math.min(finalizedAfter - this.keepBodies + 1, this.bodiesFrom + PRUNE_STEP_BLOCKS);
    for (let height = Math.max(this.bodiesFrom, 1); height < below; height++) {
      const row = this.stmts.blockAt.get(height);
      if (row !== undefined) this.stmts.putBlockData.run(encodeHeader(decodeBlock(toU8(row.data)).header), height);
    }
    if (below > this.bodiesFrom) {
      this.pendingBodiesFrom = below;
      this.stmts.putMeta.run("bodies_from", encodeHeight(below));
    }
  }

  /** Told how long each commit took, seconds, and how many blocks it held (the node's metrics); a measure, not consensus. */
  commitObserver: ((seconds: number, blocks: number) => void) | null = null;

  /** Undo the tip block; only a block above finality can be undone (its undo record is kept until then). */
  revertTip(): void {
    const height = this.tipInfo.height;
    if (height === 0) throw new StorageError("NOTHING_TO_REVERT", "the tip is genesis");
    if (height <= this.finalizedHeight) throw new StorageError("NOTHING_TO_REVERT", `block ${height} is final`);
    const undoRow = this.stmts.getUndo.get(height);
    if (undoRow === undefined) throw new StorageError("NOTHING_TO_REVERT", `no undo record for block ${height} (finalized and pruned)`);
    const restore = decodeUndo(toU8(undoRow.data));
    const parent = height === 1 ? this.genesisTip : this.tipOfBlock(height - 1);
    const tree = this.state.preview(restore);
    if (!bytesEqual(tree.root, parent.stateRoot)) throw new StorageError("CORRUPT", `undo record of block ${height} does not restore its parent's state`);
    try {
      this.db.transaction(() => {
        this.writeState(restore);
        this.stmts.deleteTxsAt.run(height);
        this.stmts.deleteBlock.run(height);
        this.stmts.deleteUndo.run(height);
        this.stmts.deleteNotarization.run(height);
        this.stmts.putMeta.run("tip", encodeTip(parent));
      })();
    } catch (e) {
      throw toStorageError(e, `reverting block ${height}`);
    }
    this.state.commit(restore, tree);
    this.tipInfo = parent;
  }

  /** The notarization stored with the block at `height`, if any (most blocks' children carry theirs). */
  notarizationAt(height: number): NotarizationCertificate | null {
    const row = this.stmts.getNotarization.get(height);
    return row === undefined ? null : decodeExact(toU8(row.data), readCertificate);
  }

  /** Record a block's notarization learned after it was committed (it proves the tip to syncing peers). */
  putNotarization(certificate: NotarizationCertificate): void {
    const height = this.heightOf(certificate.blockHash);
    if (height !== certificate.height) throw new StorageError("NOT_FOUND", `no block ${certificate.height} with that hash`);
    this.stmts.putNotarization.run(certificate.height, encodeNotarization(certificate));
  }

  /** Height of the block this store started from: 0 for genesis, else the checkpoint it was initialised at. */
  get baseHeight(): number {
    const row = this.stmts.getMeta.get("base");
    return row === undefined ? 0 : decodeHeight(toU8(row.value));
  }

  /** The highest block known final (a store that never recorded it holds only final blocks). */
  /**
   * Every stored block up to this height has had its proposer signature checked. Range sync by
   * finality proof leaves the signatures of the blocks a proof covers to the audit
   * (consensus/signature-audit.ts); until it passes them they are not served.
   */
  get signaturesCheckedHeight(): number {
    return this.signaturesCheckedRecord ?? this.tipInfo.height;
  }

  /** The BLS key a proposer of a block awaiting the audit had when the block was imported. */
  auditKey(proposer: Uint8Array): Uint8Array | null {
    const row = this.stmts.getMeta.get(`${AUDIT_KEY_PREFIX}${toHex(proposer)}`);
    return row === undefined ? null : toU8(row.value);
  }

  /** The audit checked the proposer signatures up to `height`; once at the tip, the keys it kept go. */
  markSignaturesChecked(height: number): void {
    if (this.signaturesCheckedRecord === null || height <= this.signaturesCheckedRecord) return;
    const caughtUp = height >= this.tipInfo.height;
    try {
      if (caughtUp) this.db.prepare(`DELETE FROM meta WHERE key = 'signatures_checked' OR key LIKE '${AUDIT_KEY_PREFIX}%'`).run();
      else this.stmts.putMeta.run("signatures_checked", encodeHeight(height));
    } catch (e) {
      throw toStorageError(e, `recording signatures checked to ${height}`);
    }
    this.signaturesCheckedRecord = caughtUp ? null : height;
  }

  /**
   * Put the real proposer signature into a stored block whose copy carried a forged one (the audit
   * found it; another peer sent the block again). The signature is outside the block hash, so
   * nothing else of the block, the chain or the state changes.
   */
  replaceProposerSignature(height: number, signature: Uint8Array): void {
    try {
      const row = this.stmts.blockAt.get(height);
      if (row === undefined) throw new StorageError("NOT_FOUND", `no block at height ${height}`);
      const data = toU8(row.data);
      if (height < this.bodiesFrom) this.stmts.putBlockData.run(encodeHeader({ ...decodeHeader(data), signature }), height);
      else {
        const block = decodeBlock(data);
        this.stmts.putBlockData.run(encodeBlock({ ...block, header: { ...block.header, signature } }), height);
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw toStorageError(e, `replacing the signature of block ${height}`);
    }
  }

  get finalizedHeight(): number {
    return Math.min(this.finalizedRecord ?? this.tipInfo.height, this.tipInfo.height);
  }

  /** Record that blocks up to `height` are final; their undo records are no longer needed. */
  markFinalized(height: number): void {
    if (height > this.tipInfo.height) throw new StorageError("NOT_FOUND", `cannot finalize ${height} above the tip ${this.tipInfo.height}`);
    try {
      this.db.transaction(() => {
        this.stmts.putMeta.run("finalized", encodeHeight(height));
        this.stmts.pruneUndo.run(height + 1);
        this.pruneBodies(height);
      })();
    } catch (e) {
      throw toStorageError(e, `recording finality at ${height}`);
    }
    this.finalizedRecord = height;
    this.bodiesFrom = this.pendingBodiesFrom;
  }

  /** How many undo records the store holds: one per block above finality (a measure for tests and status). */
  get undoRecordCount(): number {
    return this.stmts.countUndo.get()?.n ?? 0;
  }

  /** Lowest height whose body this store still serves; blocks below it are kept as headers only. */
  get oldestBody(): number {
    return Math.max(this.bodiesFrom, this.baseHeight);
  }

  /** Whether the block at `height` is held as a header only (pruned), as opposed to whole or absent. */
  isPruned(height: number): boolean {
    return height > 0 && height < this.bodiesFrom && height <= this.tipInfo.height && height >= this.baseHeight;
  }

  private writeState(changes: readonly StateChange[]): void {
    for (const c of changes) {
      if (c.value === null) this.stmts.deleteState.run(c.key);
      else this.stmts.putState.run(c.key, c.value);
    }
  }

  private tipOfBlock(height: number): ChainTip {
    const h = this.headerAt(height);
    if (h === null) throw new StorageError("CORRUPT", `block ${height} is missing`);
    const hash = this.blockHashAt(height);
    return { height, hash, slot: h.slot, timestamp: h.timestamp, stateRoot: h.stateRoot };
  }

  /** The whole block's bytes; null when absent or pruned to its header (see `isPruned`). */
  blockBytesAt(height: number): Uint8Array | null {
    if (height < this.bodiesFrom) return null;
    const row = this.stmts.blockAt.get(height);
    return row === undefined ? null : toU8(row.data);
  }

  /**
   * The whole blocks' bytes from `from` to `to` in one read (what the sync server sends), stopping
   * before the first height that is absent or pruned to its header.
   */
  blockBytesRange(from: number, to: number): Uint8Array[] {
    if (from < this.bodiesFrom || to < from) return [];
    const out: Uint8Array[] = [];
    for (const row of this.stmts.blocksIn.iterate(from, to)) {
      if (row.height !== from + out.length) break;
      out.push(toU8(row.data));
    }
    return out;
  }

  /** The notarizations stored beside blocks `from` to `to`, by height (most blocks' children carry theirs instead). */
  notarizationsIn(from: number, to: number): Map<number, NotarizationCertificate> {
    const out = new Map<number, NotarizationCertificate>();
    for (const row of this.stmts.notarizationsIn.iterate(from, to)) out.set(row.height, decodeExact(toU8(row.data), readCertificate));
    return out;
  }

  /** The header of the block at `height`, pruned or whole; null when the store has no block there. */
  headerAt(height: number): BlockHeader | null {
    const row = this.stmts.blockAt.get(height);
    if (row === undefined) return null;
    // A whole block starts with its header: read just that (the stored bytes were checked when committed).
    return height < this.bodiesFrom ? decodeHeader(toU8(row.data)) : readHeader(new Reader(toU8(row.data)));
  }

  blockAt(height: number): Block | null {
    const bytes = this.blockBytesAt(height);
    return bytes === null ? null : decodeBlock(bytes);
  }

  blockHashAt(height: number): Uint8Array {
    const row = this.stmts.hashAt.get(height);
    if (row === undefined) throw new StorageError("CORRUPT", `block ${height} is missing`);
    return toU8(row.hash);
  }

  heightOf(hash: Uint8Array): number | null {
    return this.stmts.heightOf.get(hash)?.height ?? null;
  }

  txLocation(hash: Uint8Array): { height: number; position: number } | null {
    return this.stmts.txAt.get(hash) ?? null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
