import { MAX_HELLO_REQUEST_NODES } from "../mesh/messages/hello-request.js";

/** Node numbers followed for frames heard at 0 hops; beyond this the first heard is forgotten (a peer table's worth). */
const NODES_KEPT = 512;

/** Frames heard at 0 hops from a node number whose key we lack before we ask it for its hello. */
export const ASK_AFTER_FRAMES = 3;

export interface HelloHealTimes {
  /**
   * How long after first hearing a node we wait before asking. Its hello at start goes out within the
   * preset's hello spread after its first frames, possibly behind the first slots' queue: asked
   * sooner, we ask for what is on its way. Asks and answers in the first slots also met the first
   * blocks' frames on air: with a wait of one spread, devnet seeds 1 and 3 finalized nothing for
   * 14 minutes and doubled their p50 (docs/benchmarks.md "Hello requests"); a lost key costs only
   * turn frames that go mesh-wide, so several spreads are cheap.
   */
  readonly settleMs: number;
  /** Between two of our answers, whoever asks; and between two asks of ours for the same node. */
  readonly intervalMs: number;
  /** Between two of our requests, whatever we lack (made-up node numbers cost us at most this rate). */
  readonly askGapMs: number;
}

interface Heard {
  readonly firstAt: number;
  frames: number;
  askedAt: number;
}

/**
 * Keys of neighbours lost at start, healed at the cost of a frame or two. Our hello at start goes to
 * our radio's neighbours only (hello-reach.ts), once: on a lossy channel about one (node, neighbour)
 * pair in ten misses it and, with hellos in rounds hours apart, stayed without the key for hours
 * (devnet seed 1: six pairs in direct range for the whole two-hour run). Such a neighbour's votes
 * could not be bound to its validator, and our vote turn frames went mesh-wide for it (DirectValidators).
 *
 * The asker: a node heard at 0 hops in `ASK_AFTER_FRAMES` frames (any type but a hello, counted
 * before their payload is read: made-up senders only make us ask at our own bounded rate), first
 * heard at least `settleMs` ago, whose key we lack, is named in a small unsigned request we send at hop limit 0
 * (several nodes in one request), at most once per `askGapMs` in all and once per `intervalMs` per node.
 * Nodes heard only through relays are not ours to ask: hello-reach.ts floods a hello for them.
 *
 * The answerer: a request heard at 0 hops that names us gets our hello at hop limit 0, at most once
 * per `intervalMs` whoever asks: one answer serves every neighbour that lacks us, and forged requests
 * (senders and hop counts are unsigned) cost us at most one neighbours-only hello an interval. A
 * requester's own frames are nothing we trust: the answer is our signed hello, which proves itself.
 */
export class HelloHeal {
  private readonly heard = new Map<number, Heard>();
  private lastAskAt = Number.NEGATIVE_INFINITY;
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private hopCountsKnown = false;

  constructor(private readonly times: HelloHealTimes) {}

  /**
   * A frame from `from` arrived on the radio `hopsAway` hops from its origin (null: not
   * reported). A frame sent at hop limit 0 (a turn frame, a hello at start, a request) carries hop
   * start 0 and reads as null; once our radio has reported hop counts, null is such a frame, straight
   * from a neighbour (firmware before 2.3, which reports none, would pass relayed frames off as one:
   * then we ask a far node, which costs us a request an interval and it a hello to its neighbours).
   */
  note(from: number, hopsAway: number | null, now: number): void {
    if (hopsAway !== null) this.hopCountsKnown = true;
    if (hopsAway !== 0 && !(hopsAway === null && this.hopCountsKnown)) return;
    let h = this.heard.get(from);
    if (h === undefined) {
      h = { firstAt: now, frames: 0, askedAt: Number.NEGATIVE_INFINITY };
      this.heard.set(from, h);
      if (this.heard.size > NODES_KEPT) this.heard.delete(this.heard.keys().next().value as number);
    }
    h.frames++;
  }

  get settleMs(): number {
    return this.times.settleMs;
  }

  /** Whether some node heard at 0 hops is followed (we may have to ask for it later, even if it falls quiet). */
  get waiting(): boolean {
    return this.heard.size > 0;
  }

  /**
   * The nodes to ask now (none: no request due), marked as asked. `lacks` says whether we still lack
   * a node's key (banned nodes are not lacked: we want nothing of them).
   */
  toAsk(now: number, lacks: (node: number) => boolean): number[] {
    if (now - this.lastAskAt < this.times.askGapMs) return [];
    const ask: number[] = [];
    for (const [node, h] of this.heard) {
      if (ask.length === MAX_HELLO_REQUEST_NODES) break;
      if (h.frames < ASK_AFTER_FRAMES || now - h.firstAt < this.times.settleMs || now - h.askedAt < this.times.intervalMs) continue;
      if (!lacks(node)) {
        this.heard.delete(node);
        continue;
      }
      ask.push(node);
    }
    if (ask.length === 0) return [];
    this.lastAskAt = now;
    for (const node of ask) (this.heard.get(node) as Heard).askedAt = now;
    return ask;
  }

  /**
   * Whether a request naming us, heard at `hopsAway`, gets our hello now; taken as answered when so.
   * Requests go at hop limit 0, so they arrive with no hop count (or 0): one relayed was never a
   * neighbour's, and our answer to neighbours would not reach its sender.
   */
  answer(named: boolean, hopsAway: number | null, now: number): boolean {
    if (!named || (hopsAway !== null && hopsAway !== 0) || now - this.lastAnswerAt < this.times.intervalMs) return false;
    this.lastAnswerAt = now;
    return true;
  }
}
