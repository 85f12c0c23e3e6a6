import { decodeExact } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { DecodeError, EncodeError } from "../../core/errors.js";
import { MAX_FRAGMENTS, MessageType } from "../frame.js";

/** "Send me these fragments again": addressed to the message's sender by its node number. */
export interface FragmentRequest {
  readonly target: number;
  readonly messageId: number;
  readonly type: MessageType;
  readonly missing: readonly number[];
}

const MAX_BITMAP = Math.ceil(MAX_FRAGMENTS / 8);

export const fragmentRequestCodec = {
  encode(f: FragmentRequest): Uint8Array {
    if (f.missing.length === 0) throw new EncodeError("OUT_OF_RANGE", "nothing is missing");
    const bitmap = new Uint8Array(Math.floor(Math.max(...f.missing) / 8) + 1);
    for (const i of f.missing) {
      if (!Number.isInteger(i) || i < 0 || i >= MAX_FRAGMENTS) throw new EncodeError("OUT_OF_RANGE", `fragment index ${i}`);
      bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
    }
    return new Writer().u32(f.target).u16(f.messageId).u8(f.type).bytes(bitmap, MAX_BITMAP).finish();
  },
  decode: (bytes: Uint8Array): FragmentRequest =>
    decodeExact(bytes, (r) => {
      const target = r.u32();
      const messageId = r.u16();
      const type = r.u8();
      if (MessageType[type] === undefined) throw new DecodeError("INVALID_VALUE", `unknown message type ${type}`);
      const bitmap = r.bytes(MAX_BITMAP);
      if (bitmap.length === 0 || bitmap[bitmap.length - 1] === 0) throw new DecodeError("INVALID_VALUE", "missing-fragment bitmap must end in a non-zero byte");
      const missing: number[] = [];
      for (let i = 0; i < bitmap.length * 8; i++) if (((bitmap[i >> 3] as number) >> (i & 7)) & 1) missing.push(i);
      return { target, messageId, type, missing };
    }),
};
