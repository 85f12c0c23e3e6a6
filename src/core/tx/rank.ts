import type { DecodedTx } from "./codec.js";
import { MessagePriority, TxKind } from "./types.js";

const PRIORITY_FACTOR: Record<MessagePriority, number> = { [MessagePriority.Bulk]: 0.5, [MessagePriority.Normal]: 1, [MessagePriority.Urgent]: 2 };

/**
 * How eagerly a block takes a transaction: fee per byte, scaled by message priority (urgent
 * messages jump the queue, bulk ones wait). Ties go to the one that arrived first.
 */
export function txRank(t: DecodedTx): number {
  const rate = Number(t.tx.fee) / t.bytes.length;
  return t.tx.body.kind === TxKind.Message ? rate * PRIORITY_FACTOR[t.tx.body.priority] : rate;
}
