import { decodeExact } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { DecodeError, EncodeError } from "../../core/errors.js";

/**
 * "I hear you at 0 hops but hold no key of yours: say hello to your neighbours." Sent at hop limit 0
 * naming the node numbers asked; only a named node answers (node/hello-heal.ts). Unsigned like every
 * request: it can only make a named node send its own signed hello, at most once per interval.
 */
export interface HelloRequest {
  readonly nodes: readonly number[];
}

/** Node numbers one request may name: more than a radio's neighbours missing at once, still one small frame (33 bytes). */
export const MAX_HELLO_REQUEST_NODES = 8;

export const helloRequestCodec = {
  encode(h: HelloRequest): Uint8Array {
    if (h.nodes.length === 0 || h.nodes.length > MAX_HELLO_REQUEST_NODES) throw new EncodeError("OUT_OF_RANGE", `a hello request names 1-${MAX_HELLO_REQUEST_NODES} nodes, not ${h.nodes.length}`);
    const w = new Writer().u8(h.nodes.length);
    for (const [i, n] of h.nodes.entries()) {
      // What decode refuses is never written: zero, out of range, or a repeat.
      if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff || h.nodes.indexOf(n) !== i) throw new EncodeError("OUT_OF_RANGE", `node number ${n} is out of range or repeated`);
      w.u32(n);
    }
    return w.finish();
  },
  decode: (bytes: Uint8Array): HelloRequest =>
    decodeExact(bytes, (r) => {
      const count = r.u8();
      if (count === 0 || count > MAX_HELLO_REQUEST_NODES) throw new DecodeError("INVALID_VALUE", `a hello request names 1-${MAX_HELLO_REQUEST_NODES} nodes, not ${count}`);
      const nodes: number[] = [];
      for (let i = 0; i < count; i++) {
        const n = r.u32();
        // 0 is no Meshtastic node number; a repeat would be the same ask twice.
        if (n === 0 || nodes.includes(n)) throw new DecodeError("INVALID_VALUE", `node number ${n} is zero or repeated`);
        nodes.push(n);
      }
      return { nodes };
    }),
};
