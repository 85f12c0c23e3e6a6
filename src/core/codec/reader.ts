import { DecodeError } from "../errors.js";

/**
 * Strict cursor over canonical bytes: every read checks bounds, varints must be minimal and fit
 * their range, and `end()` rejects trailing bytes, so each object has exactly one accepted encoding.
 */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new DecodeError("TRUNCATED", `need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  /** A u64 varint as bigint. At most 10 bytes; the last byte non-zero unless the value is 0. */
  varbig(max: bigint = (1n << 64n) - 1n): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.u8();
      if (i === 9 && byte > 1) throw new DecodeError("VARINT_OVERFLOW", "varint exceeds 64 bits");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw new DecodeError("NON_MINIMAL_VARINT", "varint has a redundant trailing zero byte");
        if (result > max) throw new DecodeError("OUT_OF_RANGE", `value ${result} exceeds ${max}`);
        return result;
      }
      shift += 7n;
    }
    throw new DecodeError("VARINT_OVERFLOW", "varint longer than 10 bytes");
  }

  /** A varint that must be a safe integer no greater than `max`. */
  varint(max: number = Number.MAX_SAFE_INTEGER): number {
    return Number(this.varbig(BigInt(max)));
  }

  fixed(length: number): Uint8Array {
    this.need(length);
    const out = this.buf.slice(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  bytes(maxLength: number): Uint8Array {
    const length = this.varint();
    if (length > maxLength) throw new DecodeError("LENGTH_TOO_LARGE", `length ${length} exceeds ${maxLength}`);
    return this.fixed(length);
  }

  /** A boolean flag byte: exactly 0 or 1. */
  flag(): boolean {
    const v = this.u8();
    if (v > 1) throw new DecodeError("INVALID_VALUE", `flag byte must be 0 or 1, got ${v}`);
    return v === 1;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new DecodeError("TRAILING_BYTES", `${this.remaining} trailing bytes after offset ${this.pos}`);
    }
  }
}

/** Decode a whole buffer with `read`, rejecting trailing bytes. */
export function decodeExact<T>(bytes: Uint8Array, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  const value = read(r);
  r.end();
  return value;
}
