import { EncodeError } from "../errors.js";

export const U64_MAX = (1n << 64n) - 1n;

/**
 * Append-only buffer for the canonical encoding. Integers are unsigned LEB128 varints (minimal form)
 * or big-endian fixed width; byte strings are fixed length or varint-length-prefixed.
 */
export class Writer {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodeError("OUT_OF_RANGE", `u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError("OUT_OF_RANGE", `u16 out of range: ${v}`);
    this.reserve(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError("OUT_OF_RANGE", `u32 out of range: ${v}`);
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.len, v, false);
    this.len += 4;
    return this;
  }

  /** Varint from a safe-integer number. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new EncodeError("OUT_OF_RANGE", `varint out of range: ${v}`);
    return this.varbig(BigInt(v));
  }

  /** Varint from a bigint in [0, 2^64). */
  varbig(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new EncodeError("OUT_OF_RANGE", `u64 out of range: ${v}`);
    this.reserve(10);
    let x = v;
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
    return this;
  }

  /** Fixed-length bytes; the length is part of the schema, not the encoding. */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new EncodeError("OUT_OF_RANGE", `expected ${length} bytes, got ${bytes.length}`);
    this.reserve(length);
    this.buf.set(bytes, this.len);
    this.len += length;
    return this;
  }

  /** Varint length prefix then the bytes. */
  bytes(bytes: Uint8Array, maxLength: number): this {
    if (bytes.length > maxLength) throw new EncodeError("LENGTH_TOO_LARGE", `${bytes.length} bytes exceeds ${maxLength}`);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Raw bytes already in canonical form (a nested object's encoding). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  get length(): number {
    return this.len;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
