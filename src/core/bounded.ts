/**
 * Bounded "recently seen" collections. Everything a node remembers per block, vote, transaction or
 * request would otherwise grow with the chain (months on a hill): these forget the entry touched
 * least recently once `capacity` is reached. Setting or adding an entry again makes it the newest.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly capacity: number) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    if (this.size > this.capacity) this.delete(this.keys().next().value as K);
    return this;
  }
}

export class BoundedSet<T> extends Set<T> {
  constructor(readonly capacity: number) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  override add(value: T): this {
    if (this.has(value)) this.delete(value);
    super.add(value);
    if (this.size > this.capacity) this.delete(this.values().next().value as T);
    return this;
  }
}

/**
 * The newest `capacity` entries of a sequence numbered by height (a chain's finalized block ids):
 * older heights are forgotten and read as undefined, as are heights not reached yet.
 */
export class HeightWindow<T> {
  private readonly items: T[] = [];
  private first: number;

  constructor(
    readonly capacity: number,
    /** The height the first pushed entry stands at. */
    startHeight: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.first = startHeight;
  }

  /** Height of the oldest entry kept. */
  get start(): number {
    return this.first + Math.max(0, this.items.length - this.capacity);
  }

  /** Height the next push will take. */
  get end(): number {
    return this.first + this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    // Trim in chunks so a long run of pushes costs amortised O(1), not a shift each.
    if (this.items.length >= 2 * this.capacity) {
      const drop = this.items.length - this.capacity;
      this.items.splice(0, drop);
      this.first += drop;
    }
  }

  at(height: number): T | undefined {
    const i = height - this.first;
    if (i < 0 || i >= this.items.length || this.items.length - i > this.capacity) return undefined;
    return this.items[i];
  }

  /** The height `item` sits at, among the newest `capacity` entries; null when not among them. */
  heightOf(item: T): number | null {
    const from = Math.max(0, this.items.length - this.capacity);
    const i = this.items.indexOf(item, from);
    return i < 0 ? null : this.first + i;
  }

  /** The kept entries, oldest first, with the height of the first. */
  recent(): { readonly start: number; readonly items: readonly T[] } {
    const from = Math.max(0, this.items.length - this.capacity);
    return { start: this.first + from, items: this.items.slice(from) };
  }
}
