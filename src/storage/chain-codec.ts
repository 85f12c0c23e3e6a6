import { type NotarizationCertificate, writeCertificate } from "../core/block/certificate.js";
import { MAX_HEIGHT, MAX_SLOT, MAX_TIMESTAMP } from "../core/block/limits.js";
import { decodeExact } from "../core/codec/reader.js";
import { Writer } from "../core/codec/writer.js";
import { HASH_LENGTH } from "../core/crypto/hash.js";
import type { ParentInfo } from "../core/state/block-transition.js";
import type { StateChange } from "../core/state/store.js";

/** The encodings of the chain store's own records (its tip, undo records, notarizations, heights). */

export interface ChainTip extends ParentInfo {
  readonly stateRoot: Uint8Array;
}

export const encodeTip = (t: ChainTip): Uint8Array =>
  new Writer().varint(t.height).fixed(t.hash, HASH_LENGTH).varint(t.slot).varint(t.timestamp).fixed(t.stateRoot, HASH_LENGTH).finish();

export const decodeTip = (b: Uint8Array): ChainTip =>
  decodeExact(b, (r) => ({ height: r.varint(MAX_HEIGHT), hash: r.fixed(HASH_LENGTH), slot: r.varint(MAX_SLOT), timestamp: r.varint(MAX_TIMESTAMP), stateRoot: r.fixed(HASH_LENGTH) }));

/** Undo record: the value each changed key had before the block (null: it did not exist). */
export function encodeUndo(changes: readonly StateChange[]): Uint8Array {
  const w = new Writer().varint(changes.length);
  for (const c of changes) {
    w.bytes(c.key, 64);
    if (c.value === null) w.u8(0);
    else w.u8(1).bytes(c.value, 1 << 20);
  }
  return w.finish();
}

export function decodeUndo(b: Uint8Array): StateChange[] {
  return decodeExact(b, (r) => {
    const n = r.varint();
    const out: StateChange[] = [];
    for (let i = 0; i < n; i++) {
      const key = r.bytes(64);
      out.push({ key, value: r.flag() ? r.bytes(1 << 20) : null });
    }
    return out;
  });
}

export const encodeNotarization = (c: NotarizationCertificate): Uint8Array => {
  const w = new Writer();
  writeCertificate(w, c);
  return w.finish();
};

export const encodeHeight = (height: number): Uint8Array => new Writer().varint(height).finish();

export const decodeHeight = (b: Uint8Array): number => decodeExact(b, (r) => r.varint(MAX_HEIGHT));
