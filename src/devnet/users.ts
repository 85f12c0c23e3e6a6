import { MempoolError } from "../node/mempool.js";

/** What a node answered one of its user's transfers. */
export type TransferAnswer =
  /** Accepted or queued: the node keeps it and announces it until the chain includes it. */
  | "taken"
  /** That very transfer is in the chain already: nothing new was sent. */
  | "included"
  /** Refused for now (the sender's quota of pending transactions, or the pool, is full): send it again later. */
  | "later"
  /** Refused for good. */
  | "refused";

/** The answer a submission's outcome (or the error it threw) stands for. */
export function transferAnswer(outcome: unknown): TransferAnswer {
  if (outcome instanceof MempoolError) return outcome.code === "SENDER_QUOTA" || outcome.code === "POOL_FULL" ? "later" : "refused";
  if (typeof outcome !== "object" || outcome === null || !("status" in outcome)) return "refused";
  return outcome.status === "included" ? "included" : "taken";
}

/**
 * The devnet's users, each sending from its own node. A transfer its node refuses for now (a
 * sender may have 16 transactions pending, and while finality stalls those in blocks still count)
 * is not dropped: the user sends it again at every later turn, before any new one, as a wallet told
 * to try later does. Before, the run silently submitted fewer transfers than its scenario (seed 3
 * with `--kill`: 351 of 359, all SENDER_QUOTA during a half-hour finality stall).
 */
export class DevnetUsers {
  /** Users with a transfer refused for now, oldest first (one entry per transfer). */
  private readonly owed: number[] = [];
  private taken = 0;
  private refusedForGood = 0;

  /** send: one transfer from this user at its node, and the node's answer. */
  constructor(private readonly send: (user: number) => TransferAnswer) {}

  /** Transfers the nodes took. */
  get submitted(): number {
    return this.taken;
  }

  /** Transfers refused for now and not yet taken. */
  get owedCount(): number {
    return this.owed.length;
  }

  /** Transfers refused for good (a fault in the user model or the node: expected 0). */
  get refused(): number {
    return this.refusedForGood;
  }

  /**
   * One turn: the owed transfers of users whose node runs are sent again, then `user` (null: none,
   * as in the drain at the end) sends a new one.
   */
  turn(running: (user: number) => boolean, user: number | null): void {
    const owed = this.owed.splice(0);
    for (const u of owed) {
      if (running(u)) this.attempt(u);
      else this.owed.push(u);
    }
    if (user !== null) this.attempt(user);
  }

  private attempt(user: number): void {
    const answer = this.send(user);
    if (answer === "taken") this.taken++;
    else if (answer === "later") this.owed.push(user);
    else if (answer === "refused") this.refusedForGood++;
  }
}
