import { bytesEqual } from "../core/bytes.js";
import { txHash } from "../core/tx/codec.js";
import { decodeMessagePayload } from "../core/tx/message-payload.js";
import { TxKind } from "../core/tx/types.js";
import type { ChainStore } from "../storage/chain-store.js";
import { type IndexedMessage, MessageIndex } from "../storage/message-index.js";

/** Blocks read into one index transaction: a long first catch-up commits as it goes. */
const BLOCKS_PER_APPEND = 256;

/**
 * Keeps the on-disk message index (storage/message-index.ts) caught up with the chain store: on a
 * read it indexes the blocks committed since the last one it read, and rewinds to the finalized
 * height when the block it rests on was reverted. A restart resumes where it stopped.
 */
export class MessageIndexer {
  private index: MessageIndex | null = null;

  /** `path`: the index's file (`messages.db` in the data directory), or ":memory:". */
  constructor(private readonly path: string) {}

  /** The index, caught up with `store`'s tip. */
  caughtUp(store: ChainStore): MessageIndex {
    this.index ??= new MessageIndex(this.path, store.genesisHash);
    const index = this.index;
    let from = this.checkedTip(index, store) + 1;
    const tip = store.tip.height;
    // A pruning follower holds only headers below its oldest body: their messages are not indexed.
    from = Math.max(from, store.baseHeight + 1, store.oldestBody);
    while (from <= tip) {
      const to = Math.min(tip, from + BLOCKS_PER_APPEND - 1);
      const found: IndexedMessage[] = [];
      let last = from - 1;
      for (let h = from; h <= to; h++) {
        const block = store.blockAt(h);
        if (block === null) break;
        block.txs.forEach((tx, position) => {
          const body = tx.tx.body;
          if (body.kind !== TxKind.Message) return;
          const payload = decodeMessagePayload(body.payload);
          found.push({ height: h, position, hash: txHash(tx.bytes), sender: tx.tx.sender, recipient: body.to, acknowledges: payload.type === "ack" ? payload.messageHash : null });
        });
        last = h;
      }
      if (last < from) break;
      index.append(found, { height: last, hash: store.blockHashAt(last) });
      from = last + 1;
    }
    return index;
  }

  close(): void {
    this.index?.close();
    this.index = null;
  }

  /** The height the index validly rests on, after rewinding it if the chain changed beneath it. */
  private checkedTip(index: MessageIndex, store: ChainStore): number {
    const at = index.tip();
    const tip = store.tip.height;
    if (at.height === 0) return 0;
    const changed = at.height > tip || (at.height > store.baseHeight && !bytesEqual(store.blockHashAt(at.height), at.hash));
    if (!changed) return at.height;
    // Finalized blocks are never reverted: index again from there (or from scratch below a checkpoint).
    const back = Math.min(store.finalizedHeight, tip, at.height - 1);
    index.rewind(back > store.baseHeight ? { height: back, hash: store.blockHashAt(back) } : { height: 0, hash: new Uint8Array(0) });
    return back > store.baseHeight ? back : 0;
  }
}
