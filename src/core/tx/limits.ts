import { TxKind } from "./types.js";

/** Encoded-size ceilings. A transfer is the common case on air, so it gets the tightest bound. */
export const MAX_TRANSFER_BYTES = 100;
/** The one-time key reveal adds the 32-byte public key to an account's first transaction. */
export const KEY_REVEAL_BYTES = 32;
export const MAX_MESSAGE_PAYLOAD_BYTES = 128;
export const MAX_TX_BYTES = 1024;
export const MAX_NONCE = 0xffffffff;
export const MAX_COMMISSION_BPS = 10_000;
/** A proposal's voting window in blocks: the codec's bound; the chain's tighter one is in core/state/governance.ts. */
export const MIN_VOTING_WINDOW = 1;
export const MAX_VOTING_WINDOW = 1_000_000;

export function maxEncodedSize(kind: TxKind, revealsKey: boolean): number {
  const extra = revealsKey ? KEY_REVEAL_BYTES : 0;
  return kind === TxKind.Transfer ? MAX_TRANSFER_BYTES + extra : MAX_TX_BYTES;
}
