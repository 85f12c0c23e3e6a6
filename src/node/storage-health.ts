import type { Clock } from "../core/clock.js";
import { MeshChainError } from "../core/errors.js";
import type { Logger } from "./logger.js";

/** Which of the node's stores failed a write. */
export type StoreName = "chain" | "signer" | "mempool";

/** A write the node could not make, as status, readiness and the log show it. */
export interface StorageFault {
  readonly store: StoreName;
  readonly code: string;
  readonly message: string;
  /** What the node was writing (a block, a signing record, a pending transaction). */
  readonly during: string;
  readonly sinceMs: number;
}

/**
 * Whether the node's stores take writes. A failed write (a full disk, an I/O error, a lock held by
 * another program) pauses the services that depend on it, which retry on their own; the next write to
 * that store that succeeds clears its fault. Each change is logged once.
 */
export class StorageHealth {
  private readonly current = new Map<StoreName, StorageFault>();
  private faultsSeen = 0;

  constructor(private readonly deps: { clock: Clock; logger: Logger }) {}

  /** The oldest fault still standing, or null when every store takes writes. */
  get fault(): StorageFault | null {
    return this.current.values().next().value ?? null;
  }

  isFaulted(store: StoreName): boolean {
    return this.current.has(store);
  }

  /** Times a store went from healthy to faulted since the node started. */
  get faults(): number {
    return this.faultsSeen;
  }

  /** A typed storage failure is recorded; anything else is a bug and is thrown on. */
  report(store: StoreName, e: unknown, during: string): void {
    if (!(e instanceof MeshChainError)) throw e;
    const was = this.current.get(store);
    this.current.set(store, { store, code: e.code, message: e.message, during, sinceMs: was?.sinceMs ?? this.deps.clock.now() });
    if (was === undefined) this.faultsSeen++;
    if (was === undefined || was.code !== e.code) {
      this.deps.logger.error({ store, code: e.code, during, reason: e.message }, "storage fault: writing paused, retrying until it succeeds");
    }
  }

  /**
   * A write to `store` succeeded: what waited on it resumes. A block committed to the chain store also
   * clears a mempool fault: both files share the data directory's disk, and a pool write happens only
   * when a user submits, which may be long after the space came back.
   */
  healthy(store: StoreName): void {
    for (const s of store === "chain" ? (["chain", "mempool"] as const) : [store]) {
      const was = this.current.get(s);
      if (was === undefined) continue;
      this.current.delete(s);
      this.deps.logger.info({ store: s, code: was.code, pausedS: Math.round((this.deps.clock.now() - was.sinceMs) / 1000) }, "storage writes succeed again; resumed");
    }
  }
}
