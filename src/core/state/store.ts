import { compareBytes, toHex } from "../bytes.js";
import { sha256 } from "../crypto/hash.js";
import { SparseMerkleTree } from "../merkle/sparse.js";

export interface StateChange {
  readonly key: Uint8Array;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
}

export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The committed key-value state and its sparse Merkle commitment. Values are the canonical
 * encodings of state records; the tree commits to SHA-256(key) → SHA-256(value).
 */
export class StateStore implements StateReader {
  private readonly entries = new Map<string, Entry>();
  private tree = SparseMerkleTree.empty();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(toHex(key))?.value;
  }

  get root(): Uint8Array {
    return this.tree.root;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The tree after `changes`, without committing them. */
  preview(changes: readonly StateChange[]): SparseMerkleTree {
    return this.tree.update(changes.map((c) => [sha256(c.key), c.value === null ? null : sha256(c.value)] as const));
  }

  commit(changes: readonly StateChange[], tree: SparseMerkleTree = this.preview(changes)): void {
    for (const c of changes) {
      const id = toHex(c.key);
      if (c.value === null) this.entries.delete(id);
      else this.entries.set(id, { key: c.key, value: c.value });
    }
    this.tree = tree;
  }

  /** An independent copy sharing the immutable tree: O(entries), for holding competing forks. */
  clone(): StateStore {
    const copy = new StateStore();
    for (const [id, e] of this.entries) copy.entries.set(id, e);
    copy.tree = this.tree;
    return copy;
  }

  /** Entries ordered by key: for snapshots, dumps and supply audits. */
  *sortedEntries(): Generator<Entry> {
    yield* [...this.entries.values()].sort((a, b) => compareBytes(a.key, b.key));
  }
}

/** Uncommitted writes over a reader; `changes()` is sorted by key so every node commits alike. */
export class StateOverlay implements StateReader {
  private readonly writes = new Map<string, StateChange>();

  constructor(private readonly base: StateReader) {}

  get(key: Uint8Array): Uint8Array | undefined {
    const w = this.writes.get(toHex(key));
    if (w !== undefined) return w.value ?? undefined;
    return this.base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(toHex(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.writes.set(toHex(key), { key, value: null });
  }

  /** Fold this overlay's writes into another overlay (a nested transaction that succeeded). */
  mergeInto(target: StateOverlay): void {
    for (const c of this.writes.values()) {
      if (c.value === null) target.delete(c.key);
      else target.set(c.key, c.value);
    }
  }

  changes(): StateChange[] {
    return [...this.writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }
}
