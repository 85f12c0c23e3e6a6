import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { MeshChainError } from "../core/errors.js";

export class CounterFileError extends MeshChainError<"INVALID" | "IO_ERROR"> {}

/**
 * A 32-bit counter that never hands out a value twice, across restarts and crashes. Values are
 * reserved in blocks: the end of the block is written and fsynced before any value in it is used,
 * and a restart resumes after the last reserved block (skipping what was not used).
 * Meshtastic packet ids need exactly this: a repeated (from, id) is dropped by every radio and
 * reuses the AES-CTR keystream.
 */
export class ReservedCounter {
  private next: number;
  private reservedUntil: number;

  private constructor(
    private readonly path: string,
    start: number,
    private readonly blockSize: number,
  ) {
    this.next = start;
    this.reservedUntil = start;
  }

  /** Open or create; a new file starts at `initial` (a random value keeps fresh nodes apart). */
  static open(path: string, initial: number, blockSize = 1024): ReservedCounter {
    let start = initial;
    try {
      const text = readFileSync(path, "utf8").trim();
      if (!/^[0-9]+$/.test(text)) throw new CounterFileError("INVALID", `${path} does not hold a counter`);
      start = Number(text);
    } catch (e) {
      if (e instanceof CounterFileError) throw e;
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new CounterFileError("IO_ERROR", `cannot read ${path}: ${(e as Error).message}`);
    }
    return new ReservedCounter(path, normalise(start), blockSize);
  }

  /** The next value: never 0, never repeated. */
  take(): number {
    if (this.next === this.reservedUntil) this.reserve();
    const value = this.next;
    this.next = normalise(this.next + 1);
    return value;
  }

  private reserve(): void {
    const until = normalise(this.next + this.blockSize);
    const tmp = `${this.path}.tmp`;
    try {
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, `${until}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      // The rename is durable only once the directory entry is.
      const dir = openSync(dirname(this.path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (e) {
      throw new CounterFileError("IO_ERROR", `cannot reserve packet ids in ${this.path}: ${(e as Error).message}`);
    }
    this.reservedUntil = until;
  }
}

/** Wrap within 1 … 2^32−1: id 0 means "no id" to the firmware. */
function normalise(n: number): number {
  const v = n % 0x100000000;
  return v === 0 ? 1 : v;
}
