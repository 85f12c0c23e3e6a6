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
  /** Bytes of incomplete messages held for one sender; its oldest partials go first. */
  readonly maxPartialBytesPerSender: number;
  /** Bytes of incomplete messages held in all. */
  readonly maxPartialBytesTotal: number;
  /** An incomplete message is dropped this long after its first fragment. */
  readonly timeoutMs: number;
  /** Missing fragments are requested when nothing new arrived for this long. */
  readonly requestAfterMs: number;
  readonly maxRequests: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxPartialBytesPerSender: 8 * 1024,
  maxPartialBytesTotal: 256 * 1024,
  timeoutMs: 5 * 60_000,
  requestAfterMs: 20_000,
  maxRequests: 3,
};

interface Partial {
  readonly sender: number;
  readonly messageId: number;
  readonly type: MessageType;
  readonly count: number;
  readonly parts: (Uint8Array | undefined)[];
  bytes: number;
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
  partialBytes: number;
  completed: number;
  duplicates: number;
  expired: number;
  evicted: number;
  rejected: number;
}

const RECENT_LIMIT = 4096;

/**
 * Puts fragmented messages back together, in any arrival order. Memory is bounded per sender and
 * in total, so a flood of fragments that never complete cannot grow the node without limit.
 */
export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private readonly bytesBySender = new Map<number, number>();
  /** Recently completed messages, so that late duplicates do not start a new partial. */
  private readonly recent = new Set<string>();
  private totalBytes = 0;
  readonly stats: ReassemblyStats = { partials: 0, partialBytes: 0, completed: 0, duplicates: 0, expired: 0, evicted: 0, rejected: 0 };

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  /** Offer one frame; returns the whole message when this frame completes it. */
  accept(sender: number, frame: Frame, now: number): CompleteMessage | null {
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
    let p = this.partials.get(id);
    if (p !== undefined && p.count !== count) {
      // The sender reused the id for another message, or is lying: start over with the new one.
      this.drop(id, p);
      p = undefined;
    }
    if (p === undefined) {
      p = { sender, messageId: frame.messageId, type: frame.type, count, parts: new Array<Uint8Array | undefined>(count), bytes: 0, received: 0, startedAt: now, lastArrivalAt: now, requests: 0 };
      this.partials.set(id, p);
    }
    if (p.parts[index] !== undefined) {
      this.stats.duplicates++;
      return null;
    }
    const size = frame.payload.length;
    if (p.bytes + size > this.limits.maxMessageBytes) {
      this.stats.rejected++;
      this.drop(id, p);
      return null;
    }
    this.makeRoom(sender, size, id);
    p.parts[index] = frame.payload;
    p.bytes += size;
    p.received++;
    p.lastArrivalAt = now;
    this.account(sender, size);
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

  private makeRoom(sender: number, incoming: number, keep: string): void {
    const overSender = () => (this.bytesBySender.get(sender) ?? 0) + incoming > this.limits.maxPartialBytesPerSender;
    const overTotal = () => this.totalBytes + incoming > this.limits.maxPartialBytesTotal;
    // Map iteration is insertion order: the first entries are the oldest partials.
    for (const [id, p] of this.partials) {
      if (!overSender() && !overTotal()) return;
      if (id === keep) continue;
      if (overSender() ? p.sender === sender : true) {
        this.stats.evicted++;
        this.drop(id, p);
      }
    }
  }

  private account(sender: number, delta: number): void {
    const next = (this.bytesBySender.get(sender) ?? 0) + delta;
    if (next === 0) this.bytesBySender.delete(sender);
    else this.bytesBySender.set(sender, next);
    this.totalBytes += delta;
    this.stats.partials = this.partials.size;
    this.stats.partialBytes = this.totalBytes;
  }

  private drop(id: string, p: Partial): void {
    this.partials.delete(id);
    this.account(p.sender, -p.bytes);
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
