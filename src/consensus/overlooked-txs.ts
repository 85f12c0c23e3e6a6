import { BoundedMap } from "../core/bounded.js";
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
  /**
   * One transaction goes out again at most this often; the interval doubles with each time this
   * node sent it, up to eight times.
   */
  readonly resendEveryMs: number;
  /** Most transactions of one sender a proposer takes into a block (the pools' per-sender quota). */
  readonly perSenderPerBlock: number;
  /**
   * Whether this node is the one to send a passed-over transaction (by id) again; one that is not
   * leaves it, and its backoff, alone. Absent: every holder is.
   */
  readonly mayResend?: (id: string) => boolean;
}

interface BlockEntry {
  readonly id: string;
  readonly sender: string;
  readonly nonce: number;
  readonly rank: number;
}

type ViewedBlock = ProposedBlock & { readonly entries: readonly BlockEntry[] };

/** A transaction's resend interval doubles with each send, up to 2^3 times the base. */
const MAX_BACKOFF_DOUBLINGS = 3;

/**
 * Finds transactions the chain passes over. On LoRa a transaction's frame is now and then lost at
 * every validator; the sender's later transactions then wait behind it (nonces are consecutive)
 * until someone who holds it sends it again. Only each sender's first transaction that no block
 * carries yet is a suspect: the later ones cannot go into a block before it. It counts as
 * overlooked when a block proposed well after this node had it, at its turn, left it out although
 * the block had room, or took a transaction of no better rank that reached this node later
 * (proposers take the older on a tie). At its turn means the block took the sender's transaction
 * just before it and fewer than the per-sender quota, or came after every block carrying the
 * sender's earlier ones and took nothing from the sender. It also counts as overlooked when no
 * block came at all for a while (a proposer holding it would have proposed). While full blocks
 * take better or older transactions, waiting is the queue's doing: nothing is resent.
 */
export class OverlookedTxs {
  private readonly firstHeld: BoundedMap<string, number>;
  /**
   * When this node last sent each transaction, and how often it has. The rules judge by this node's
   * arrival order, which a loaded mesh scrambles (floods queued for minutes behind relays): without a
   * backoff, resends fed the delays that triggered them, and with restarts (`--kill`) they were a
   * quarter to half of all airtime (issue 20). A transaction the chain really lacks still goes out
   * again, less often.
   */
  private readonly sends: BoundedMap<string, { readonly at: number; readonly times: number }>;

  /** `maxTracked`: transactions remembered at most (oldest forgotten first). */
  constructor(maxTracked: number) {
    this.firstHeld = new BoundedMap(maxTracked);
    this.sends = new BoundedMap(maxTracked);
  }

  /** This node holds the transaction from now on (heard or submitted here). */
  held(id: string, now: number): void {
    if (!this.firstHeld.has(id)) this.firstHeld.set(id, now);
  }

  /** This node just sent the transaction (answering a request): the chain gets its chance first. */
  sent(id: string, now: number): void {
    this.sends.set(id, { at: now, times: (this.sends.get(id)?.times ?? 0) + 1 });
  }

  /** The candidates worth sending again now; counts them as sent. */
  overlooked(candidates: readonly DecodedTx[], view: ChainView): DecodedTx[] {
    const { now } = view;
    const ids = candidates.map((tx) => toHex(txHash(tx.bytes)));
    for (const id of ids) this.held(id, now);
    // Each block transaction's id, sender, nonce and rank, worked out once for every candidate's check.
    const blocks: ViewedBlock[] = view.blocks.map((b) => ({ ...b, entries: b.txs.map((t) => ({ id: toHex(txHash(t.bytes)), sender: toHex(t.tx.sender), nonce: t.tx.nonce, rank: txRank(t) })) }));
    const included = new Set(blocks.flatMap((b) => b.entries.map((e) => e.id)));
    const senders = new Set<string>();
    const out: DecodedTx[] = [];
    candidates.forEach((tx, i) => {
      const sender = toHex(tx.tx.sender);
      const id = ids[i] as string;
      // Candidates keep each sender's nonce order: skipping what blocks carry reaches the sender's first one they lack.
      if (senders.has(sender) || included.has(id)) return;
      senders.add(sender);
      if (!this.passedOver(tx, sender, this.firstHeld.get(id) as number, blocks, view) || view.mayResend?.(id) === false) return;
      const last = this.sends.get(id);
      if (last !== undefined && last.at + view.resendEveryMs * 2 ** Math.min(MAX_BACKOFF_DOUBLINGS, last.times - 1) > now) return;
      this.sent(id, now);
      out.push(tx);
    });
    return out;
  }

  private passedOver(tx: DecodedTx, sender: string, held: number, blocks: readonly ViewedBlock[], view: ChainView): boolean {
    const nonce = tx.tx.nonce;
    // Blocks before the last one carrying the sender's earlier transactions could not take this one yet.
    const earlierAt = Math.max(Number.NEGATIVE_INFINITY, ...blocks.filter((b) => b.entries.some((e) => e.sender === sender && e.nonce < nonce)).map((b) => b.slotStartMs));
    const later = blocks.filter((b) => b.slotStartMs > held + view.marginMs && b.slotStartMs >= earlierAt);
    if (later.length === 0) return view.now - held >= view.silenceMs;
    const rank = txRank(tx);
    const atItsTurn = (b: ViewedBlock) => {
      const fromSender = b.entries.filter((e) => e.sender === sender);
      if (fromSender.length === 0) return b.slotStartMs > earlierAt;
      return fromSender.length < view.perSenderPerBlock && fromSender.some((e) => e.nonce === nonce - 1);
    };
    return later.some((b) => atItsTurn(b) && (!b.full || b.entries.some((e) => {
      const eHeld = this.firstHeld.get(e.id);
      return e.sender !== sender && eHeld !== undefined && eHeld > held + view.marginMs && eHeld < b.slotStartMs && e.rank <= rank;
    })));
  }
}
