import { decodeExact } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { ADDRESS_LENGTH } from "../../core/crypto/address.js";

export const MAX_PEER_ENTRIES = 16;

/** Gossip about peers a node has heard; a hint for discovery, trusted only once a peer's own hello verifies. */
export interface PeerEntry {
  readonly address: Uint8Array;
  readonly nodeNumber: number;
  /** Hops away from the reporting node, as its radio saw them. */
  readonly hops: number;
  readonly secondsSinceSeen: number;
}

export const peerInfoCodec = {
  encode(entries: readonly PeerEntry[]): Uint8Array {
    const w = new Writer().varint(entries.length);
    for (const e of entries) w.fixed(e.address, ADDRESS_LENGTH).u32(e.nodeNumber).u8(e.hops).varint(e.secondsSinceSeen);
    return w.finish();
  },
  decode: (bytes: Uint8Array): PeerEntry[] =>
    decodeExact(bytes, (r) => {
      const n = r.varint(MAX_PEER_ENTRIES);
      return Array.from({ length: n }, () => ({ address: r.fixed(ADDRESS_LENGTH), nodeNumber: r.u32(), hops: r.u8(), secondsSinceSeen: r.varint(0xffffffff) }));
    }),
};
