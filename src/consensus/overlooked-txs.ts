import { toHex } from "../core/bytes.js";
import { type DecodedTx, txHash } from "../core/tx/codec.js";
import { txRank } from "../core/tx/rank.js";

/** A block as the overlooked-transaction check sees it. */
export interface ProposedBlock {
  readonly slotStartMs: number;
  /** No room for one more transaction (by count or bytes). */
  readonly full: boolean;
  readonly txs: readonly DecodedTx[];
}

export interface ChainView {
  readonly now: number;
  /** Blocks above finality and the finalized root. */
  readonly blocks: readonly ProposedBlock[];
  /** How long before a block's slot began a proposer needs to have heard a transaction: one flood across the mesh. */
  readonly marginMs: number;
  /** With no block at all since, how long a transaction may wait before it counts as overlooked. */
  readonly silenceMs: number;
  /** One transaction goes out again at most this often. */
  readonly resendEveryMs: number;
}

/**
 * Finds transactions the chain passes over. On LoRa a transaction's frame is now and then lost at
 * every validator; the sender's later transactions then wait behind it (nonces are consecutive)
 * until someone who holds it sends it again. Only each sender's first pending transaction is a
 * suspect: the later ones cannot go into a block before it. It counts as overlooked when a block
 * proposed well after this node had it left it out (and the sender's other transactions, which
 * points at a per-sender quota instead) although the block had room, or took a
 * transaction of no better rank that reached this node later (proposers take the older on a tie);
 * or when no block came at all for a while (a proposer holding it would have proposed). While
 * full blocks take better or older transactions, waiting is the queue's doing: nothing is resent.
 */
export class OverlookedTxs {
  private readonly firstHeld = new Map<string, number>();
  private readonly lastSent = new Map<string, number>();

  /** `maxTracked`: transactions remembered at most (oldest forgotten first). */
  constructor(private readonly maxTracked: number) {}

  /** This node holds the transaction from now on (heard or submitted here). */
  held(id: string, now: number): void {
    if (!this.firstHeld.has(id)) this.remember(this.firstHeld, id, now);
  }

  /** The candidates worth sending again now; counts them as sent. */
  overlooked(candidates: readonly DecodedTx[], view: ChainView): DecodedTx[] {
    const { now } = view;
    for (const tx of candidates) this.held(toHex(txHash(tx.bytes)), now);
    const included = new Set(view.blocks.flatMap((b) => b.txs.map((t) => toHex(txHash(t.bytes)))));
    const senders = new Set<string>();
    const out: DecodedTx[] = [];
    for (const tx of candidates) {
      const sender = toHex(tx.tx.sender);
      if (senders.has(sender)) continue;
      senders.add(sender);
      const id = toHex(txHash(tx.bytes));
      const held = this.firstHeld.get(id) as number;
      if (included.has(id) || !this.passedOver(tx, held, view)) continue;
      if ((this.lastSent.get(id) ?? Number.NEGATIVE_INFINITY) + view.resendEveryMs > now) continue;
      this.remember(this.lastSent, id, now);
      out.push(tx);
    }
    return out;
  }

  private passedOver(tx: DecodedTx, held: number, view: ChainView): boolean {
    const later = view.blocks.filter((b) => b.slotStartMs > held + view.marginMs);
    if (later.length === 0) return view.now - held >= view.silenceMs;
    const rank = txRank(tx);
    const sender = toHex(tx.tx.sender);
    // A block that took the sender's earlier transactions had its chain: a per-sender quota, not a loss.
    const fromSender = (b: ProposedBlock) => b.txs.some((u) => toHex(u.tx.sender) === sender);
    return later.some((b) => !fromSender(b) && (!b.full || b.txs.some((u) => {
      const uHeld = this.firstHeld.get(toHex(txHash(u.bytes)));
      return uHeld !== undefined && uHeld > held + view.marginMs && uHeld < b.slotStartMs && txRank(u) <= rank;
    })));
  }

  private remember(map: Map<string, number>, id: string, at: number): void {
    map.delete(id);
    map.set(id, at);
    if (map.size > this.maxTracked) map.delete(map.keys().next().value as string);
  }
}
