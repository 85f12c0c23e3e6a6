import { decodeExact } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { MAX_HEIGHT } from "../block/limits.js";
import { DecodeError } from "../errors.js";
import { stateKeys } from "./keys.js";
import type { Ledger } from "./ledger.js";
import { paramInRange, paramSpecById } from "./params.js";

/**
 * A parameter change governance passed, waiting for the first block of the next epoch: every node
 * switches at the same height, announced when the proposal passed (docs/consensus.md §Governance).
 */
export interface ScheduledParamChange {
  readonly proposalId: number;
  readonly paramId: number;
  readonly value: bigint;
  /** The first block built under the new value. */
  readonly effectiveHeight: number;
}

const MAX_SCHEDULED = 64;

export const scheduledChangesCodec = {
  encode(list: readonly ScheduledParamChange[]): Uint8Array {
    const w = new Writer().varint(list.length);
    for (const c of list) w.varint(c.proposalId).u8(c.paramId).varbig(c.value).varint(c.effectiveHeight);
    return w.finish();
  },
  decode: (bytes: Uint8Array): ScheduledParamChange[] =>
    decodeExact(bytes, (r) => {
      const n = r.varint(MAX_SCHEDULED);
      const out: ScheduledParamChange[] = [];
      for (let i = 0; i < n; i++) {
        const change = { proposalId: r.varint(0xffffffff), paramId: r.u8(), value: r.varbig(), effectiveHeight: r.varint(MAX_HEIGHT) };
        const spec = paramSpecById(change.paramId);
        if (spec === undefined || !paramInRange(spec, change.value)) throw new DecodeError("INVALID_VALUE", `scheduled change to an unknown or out-of-range parameter ${change.paramId}`);
        out.push(change);
      }
      return out;
    }),
};

export function scheduledParamChanges(l: Ledger): ScheduledParamChange[] {
  const b = l.view.get(stateKeys.scheduledParamChanges());
  return b === undefined ? [] : scheduledChangesCodec.decode(b);
}

export function putScheduledParamChanges(l: Ledger, list: readonly ScheduledParamChange[]): void {
  if (list.length === 0) l.view.delete(stateKeys.scheduledParamChanges());
  else l.view.set(stateKeys.scheduledParamChanges(), scheduledChangesCodec.encode(list));
}
