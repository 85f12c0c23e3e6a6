import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeExact, Reader } from "../../src/core/codec/reader.js";
import { U64_MAX, Writer } from "../../src/core/codec/writer.js";
import { DecodeError, EncodeError } from "../../src/core/errors.js";

const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

describe("varint", () => {
  it("round-trips every u64", () => {
    fc.assert(fc.property(u64, (v) => {
      const bytes = new Writer().varbig(v).finish();
      expect(decodeExact(bytes, (r) => r.varbig())).toBe(v);
      expect(bytes.length).toBe(Math.max(1, Math.ceil(v.toString(2).length / 7)));
    }));
  });

  it("encodes known values as LEB128", () => {
    expect([...new Writer().varint(0).finish()]).toEqual([0]);
    expect([...new Writer().varint(127).finish()]).toEqual([0x7f]);
    expect([...new Writer().varint(128).finish()]).toEqual([0x80, 0x01]);
    expect([...new Writer().varint(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new Writer().varbig(U64_MAX).finish()]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it("rejects non-minimal encodings", () => {
    expect(() => decodeExact(Uint8Array.of(0x80, 0x00), (r) => r.varbig())).toThrow(expect.objectContaining({ code: "NON_MINIMAL_VARINT" }));
    expect(() => decodeExact(Uint8Array.of(0xff, 0x80, 0x00), (r) => r.varbig())).toThrow(expect.objectContaining({ code: "NON_MINIMAL_VARINT" }));
  });

  it("rejects values beyond 64 bits", () => {
    const tooBig = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
    expect(() => decodeExact(tooBig, (r) => r.varbig())).toThrow(expect.objectContaining({ code: "VARINT_OVERFLOW" }));
    const eleven = new Uint8Array(11).fill(0x80);
    expect(() => decodeExact(eleven, (r) => r.varbig())).toThrow(DecodeError);
  });

  it("rejects values above a field's range", () => {
    const bytes = new Writer().varint(1000).finish();
    expect(() => decodeExact(bytes, (r) => r.varint(999))).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    expect(() => new Writer().varint(-1)).toThrow(EncodeError);
    expect(() => new Writer().varbig(U64_MAX + 1n)).toThrow(EncodeError);
  });
});

describe("reader", () => {
  it("rejects trailing bytes and truncation", () => {
    expect(() => decodeExact(Uint8Array.of(1, 2), (r) => r.u8())).toThrow(expect.objectContaining({ code: "TRAILING_BYTES" }));
    expect(() => decodeExact(Uint8Array.of(1), (r) => r.u16())).toThrow(expect.objectContaining({ code: "TRUNCATED" }));
    expect(() => decodeExact(Uint8Array.of(), (r) => r.u8())).toThrow(expect.objectContaining({ code: "TRUNCATED" }));
  });

  it("rejects oversize length prefixes before reading", () => {
    const bytes = new Writer().bytes(new Uint8Array(10), 10).finish();
    expect(() => decodeExact(bytes, (r) => r.bytes(9))).toThrow(expect.objectContaining({ code: "LENGTH_TOO_LARGE" }));
    expect(() => new Writer().bytes(new Uint8Array(10), 9)).toThrow(EncodeError);
  });

  it("accepts only 0 and 1 as flags", () => {
    expect(decodeExact(Uint8Array.of(1), (r) => r.flag())).toBe(true);
    expect(() => decodeExact(Uint8Array.of(2), (r) => r.flag())).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });

  it("round-trips mixed records", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 40 }), (a, b, c, d) => {
      const bytes = new Writer().u8(a).u16(b).u32(c).bytes(d, 40).finish();
      const out = decodeExact(bytes, (r: Reader) => [r.u8(), r.u16(), r.u32(), r.bytes(40)] as const);
      expect(out).toEqual([a, b, c, d]);
    }));
  });
});
