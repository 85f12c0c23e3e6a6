import { FrameError } from "./errors.js";
import { encodeFrame, type Frame, FRAGMENT_HEADER_BYTES, HEADER_BYTES, MAX_FRAGMENTS, type MessageType } from "./frame.js";

export const DEFAULT_MAX_MESSAGE_BYTES = 4096;

/** Split a message into frames of at most `mtu` bytes: one frame when it fits, else numbered fragments. */
export function fragmentMessage(type: MessageType, messageId: number, message: Uint8Array, mtu: number, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): Uint8Array[] {
  if (message.length > maxMessageBytes) throw new FrameError("TOO_LARGE", `message of ${message.length} bytes exceeds ${maxMessageBytes}`);
  if (message.length + HEADER_BYTES <= mtu) return [encodeFrame({ type, messageId, fragment: null, payload: message })];
  const chunk = mtu - FRAGMENT_HEADER_BYTES;
  if (chunk <= 0) throw new FrameError("TOO_LARGE", `MTU ${mtu} leaves no room for a fragment`);
  const count = Math.ceil(message.length / chunk);
  if (count > MAX_FRAGMENTS) throw new FrameError("TOO_LARGE", `message needs ${count} fragments, more than ${MAX_FRAGMENTS}`);
  return Array.from({ length: count }, (_, index) =>
    encodeFrame({ type, messageId, fragment: { index, count }, payload: message.subarray(index * chunk, Math.min(message.length, (index + 1) * chunk)) }),
  );
}

export interface ReassemblyLimits {
  readonly maxMessageBytes: number;
  /** Memory (see partialCost) of incomplete messages held for one sender; its oldest partials go first. */
  readonly maxPartialBytesPerSender: number;
  /** Memory of incomplete messages held in all for verified senders. */
  readonly maxPartialBytesTotal: number;
  /** Incomplete messages held for one sender. */
  readonly maxPartialsPerSender: number;
  /** Incomplete messages held in all for verified senders. */
  readonly maxPartials: number;
  /**
   * The separate, small budget of senders the node has not verified (no signed hello yet): memory and
   * count. Their partials never displace a verified sender's.
   */
  readonly maxUnverifiedBytes: number;
  readonly maxUnverifiedPartials: number;
  /** An incomplete message is dropped this long after its first fragment. */
  readonly timeoutMs: number;
  /** Missing fragments are requested when nothing new arrived for this long. */
  readonly requestAfterMs: number;
  readonly maxRequests: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxPartialBytesPerSender: 12 * 1024,
  maxPartialBytesTotal: 256 * 1024,
  maxPartialsPerSender: 4,
  maxPartials: 128,
  maxUnverifiedBytes: 16 * 1024,
  maxUnverifiedPartials: 16,
  timeoutMs: 5 * 60_000,
  requestAfterMs: 20_000,
  maxRequests: 3,
};

/**
 * What a partial really costs in memory, not only its payload bytes: the object and its map entry,
 * a slot per announced fragment, and each received fragment's own array. Measured on Node 20 (V8)
 * these round up to the figures below; bounding the sum bounds the heap a sender can take.
 */
export const PARTIAL_OVERHEAD_BYTES = 320;
export const SLOT_BYTES = 8;
export const FRAGMENT_OVERHEAD_BYTES = 96;
/** No sender's MTU leaves less room than this per fragment: only the last fragment may be shorter. */
export const MIN_FRAGMENT_BYTES = 32;

export const partialCost = (count: number): number => PARTIAL_OVERHEAD_BYTES + SLOT_BYTES * count;
export const fragmentCost = (payloadBytes: number): number => payloadBytes + FRAGMENT_OVERHEAD_BYTES;

interface Partial {
  readonly sender: number;
  readonly messageId: number;
  readonly type: MessageType;
  readonly count: number;
  readonly parts: (Uint8Array | undefined)[];
  /** Payload bytes received so far. */
  bytes: number;
  /** Memory held, per partialCost and fragmentCost. */
  cost: number;
  readonly verified: boolean;
  received: number;
  readonly startedAt: number;
  lastArrivalAt: number;
  requests: number;
}

export interface CompleteMessage {
  readonly sender: number;
  readonly type: MessageType;
  readonly messageId: number;
  readonly payload: Uint8Array;
}

export interface FragmentRequestDue {
  readonly sender: number;
  readonly messageId: number;
  readonly type: MessageType;
  readonly missing: number[];
}

export interface ReassemblyStats {
  partials: number;
  /** Memory held by incomplete messages (their real cost, not only payload bytes). */
  partialBytes: number;
  /** Of which held for senders not verified. */
  unverifiedPartials: number;
  unverifiedBytes: number;
  completed: number;
  duplicates: number;
  expired: number;
  /** Partials dropped to make room, by the budget that was full. */
  evicted: number;
  evictedUnverified: number;
  /** Fragments refused outright: too big a message, or a shape no sender produces. */
  rejected: number;
}

const RECENT_LIMIT = 4096;

/**
 * Puts fragmented messages back together, in any arrival order. Memory is bounded per sender and in
 * total, counting each partial's real cost; senders not yet verified share a small budget of their
 * own, so a flood of fragments from fresh node numbers never displaces a known peer's message.
 */
export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private readonly bySender = new Map<number, { cost: number; count: number }>();
  private readonly pools = { verified: { cost: 0, count: 0 }, unverified: { cost: 0, count: 0 } };
  /** Recently completed messages, so that late duplicates do not start a new partial. */
  private readonly recent = new Set<string>();
  readonly stats: ReassemblyStats = { partials: 0, partialBytes: 0, unverifiedPartials: 0, unverifiedBytes: 0, completed: 0, duplicates: 0, expired: 0, evicted: 0, evictedUnverified: 0, rejected: 0 };

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  /** Offer one frame; returns the whole message when this frame completes it. `verified`: the sender proved its key. */
  accept(sender: number, frame: Frame, now: number, verified = true): CompleteMessage | null {
    const id = `${sender}:${frame.messageId}:${frame.type}`;
    if (this.recent.has(id)) {
      this.stats.duplicates++;
      return null;
    }
    if (frame.fragment === null) {
      this.remember(id);
      this.stats.completed++;
      return { sender, type: frame.type, messageId: frame.messageId, payload: frame.payload };
    }
    const { index, count } = frame.fragment;
    const size = frame.payload.length;
    // A fragment before the last is a full chunk of the sender's MTU: tiny ones, or more of them than
    // the largest message needs, come from no honest sender.
    if (index < count - 1 && (size < MIN_FRAGMENT_BYTES || (count - 1) * size >= this.limits.maxMessageBytes)) {
      this.stats.rejected++;
      return null;
    }
    let p = this.partials.get(id);
    if (p !== undefined && p.count !== count) {
      // The sender reused the id for another message, or is lying: start over with the new one.
      this.drop(id, p);
      p = undefined;
    }
    if (p === undefined) {
      if (!this.makeRoom(sender, verified, partialCost(count) + fragmentCost(size), true)) {
        this.stats.rejected++;
        return null;
      }
      p = { sender, messageId: frame.messageId, type: frame.type, count, parts: new Array<Uint8Array | undefined>(count), bytes: 0, cost: 0, verified, received: 0, startedAt: now, lastArrivalAt: now, requests: 0 };
      this.partials.set(id, p);
      this.account(p, partialCost(count), 1);
    } else if (p.parts[index] !== undefined) {
      this.stats.duplicates++;
      return null;
    } else if (!this.makeRoom(sender, p.verified, fragmentCost(size), false, id)) {
      this.stats.rejected++;
      this.drop(id, p);
      return null;
    }
    if (p.bytes + size > this.limits.maxMessageBytes) {
      this.stats.rejected++;
      this.drop(id, p);
      return null;
    }
    p.parts[index] = frame.payload;
    p.bytes += size;
    p.received++;
    p.lastArrivalAt = now;
    this.account(p, fragmentCost(size), 0);
    if (p.received < p.count) return null;
    this.drop(id, p);
    this.remember(id);
    this.stats.completed++;
    const payload = new Uint8Array(p.bytes);
    let offset = 0;
    for (const part of p.parts as Uint8Array[]) {
      payload.set(part, offset);
      offset += part.length;
    }
    return { sender, type: p.type, messageId: p.messageId, payload };
  }

  /** Expire stale partials and list the fragment requests now due. */
  tick(now: number): FragmentRequestDue[] {
    const due: FragmentRequestDue[] = [];
    for (const [id, p] of this.partials) {
      if (now - p.startedAt >= this.limits.timeoutMs) {
        this.stats.expired++;
        this.drop(id, p);
        continue;
      }
      if (p.requests < this.limits.maxRequests && now - p.lastArrivalAt >= this.limits.requestAfterMs) {
        p.requests++;
        p.lastArrivalAt = now;
        const missing: number[] = [];
        for (let i = 0; i < p.count; i++) if (p.parts[i] === undefined) missing.push(i);
        due.push({ sender: p.sender, messageId: p.messageId, type: p.type, missing });
      }
    }
    return due;
  }

  /**
   * Evict the oldest partials until `incoming` more memory (and, for a new partial, one more entry)
   * fits the sender's budget and its pool's; false when it cannot fit even then. Only the sender's
   * own partials or those of its pool are candidates: an unverified flood never evicts a verified peer.
   */
  private makeRoom(sender: number, verified: boolean, incoming: number, isNew: boolean, keep?: string): boolean {
    const l = this.limits;
    const poolMax = verified ? { cost: l.maxPartialBytesTotal, count: l.maxPartials } : { cost: l.maxUnverifiedBytes, count: l.maxUnverifiedPartials };
    const senderMax = { cost: Math.min(l.maxPartialBytesPerSender, poolMax.cost), count: Math.min(l.maxPartialsPerSender, poolMax.count) };
    if (incoming > senderMax.cost) return false;
    const added = isNew ? 1 : 0;
    const pool = verified ? this.pools.verified : this.pools.unverified;
    const overSender = () => {
      const s = this.bySender.get(sender) ?? { cost: 0, count: 0 };
      return s.cost + incoming > senderMax.cost || s.count + added > senderMax.count;
    };
    const overPool = () => pool.cost + incoming > poolMax.cost || pool.count + added > poolMax.count;
    // Map iteration is insertion order: the first entries are the oldest partials.
    for (const [id, p] of this.partials) {
      if (!overSender() && !overPool()) return true;
      if (id === keep || p.verified !== verified) continue;
      if (overSender() ? p.sender === sender : true) {
        if (verified) this.stats.evicted++;
        else this.stats.evictedUnverified++;
        this.drop(id, p);
      }
    }
    return !overSender() && !overPool();
  }

  private account(p: Partial, cost: number, count: number): void {
    const s = this.bySender.get(p.sender) ?? { cost: 0, count: 0 };
    s.cost += cost;
    s.count += count;
    if (s.count === 0) this.bySender.delete(p.sender);
    else this.bySender.set(p.sender, s);
    p.cost += cost;
    const pool = p.verified ? this.pools.verified : this.pools.unverified;
    pool.cost += cost;
    pool.count += count;
    this.stats.partials = this.partials.size;
    this.stats.partialBytes = this.pools.verified.cost + this.pools.unverified.cost;
    this.stats.unverifiedPartials = this.pools.unverified.count;
    this.stats.unverifiedBytes = this.pools.unverified.cost;
  }

  private drop(id: string, p: Partial): void {
    this.partials.delete(id);
    this.account(p, -p.cost, -1);
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.values().next().value as string);
  }
}

/** The last messages this node sent, as frames, to answer requests for missing fragments. */
export class SentFragments {
  private readonly byId = new Map<number, Uint8Array[]>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024) {}

  remember(messageId: number, frames: Uint8Array[]): void {
    if (frames.length < 2) return;
    this.forget(messageId);
    this.byId.set(messageId, frames);
    for (const f of frames) this.bytes += f.length;
    for (const [id] of this.byId) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(id);
    }
  }

  frames(messageId: number, indices: readonly number[]): Uint8Array[] {
    const frames = this.byId.get(messageId);
    if (frames === undefined) return [];
    return indices.filter((i) => i >= 0 && i < frames.length).map((i) => frames[i] as Uint8Array);
  }

  private forget(messageId: number): void {
    const frames = this.byId.get(messageId);
    if (frames === undefined) return;
    for (const f of frames) this.bytes -= f.length;
    this.byId.delete(messageId);
  }
}
