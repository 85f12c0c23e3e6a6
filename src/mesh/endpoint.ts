import type { Clock } from "../core/clock.js";
import { FrameError } from "./errors.js";
import { decodeFrame, MessageType } from "./frame.js";
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REASSEMBLY_LIMITS, fragmentMessage, Reassembler, type ReassemblyLimits, SentFragments } from "./fragmentation.js";
import { fragmentRequestCodec } from "./messages/fragment-request.js";
import { priorityOf } from "./messages/registry.js";
import { TokenBucket } from "./token-bucket.js";
import { Priority, type ReceivedFrame, type SendOptions, type Transport } from "./transport.js";

export interface ReceivedMessage {
  readonly type: MessageType;
  readonly payload: Uint8Array;
  readonly messageId: number;
  /** Metadata of the frame that completed the message. */
  readonly meta: Omit<ReceivedFrame, "bytes">;
}

export interface EndpointOptions {
  readonly limits?: ReassemblyLimits;
  readonly maxMessageBytes?: number;
  /** How often partial messages are checked for expiry and missing fragments. */
  readonly tickMs?: number;
  /**
   * Whether a sender proved its key (a verified hello): others get the reassembler's small separate
   * budget and are never asked for missing fragments. Default: every sender counts as verified.
   */
  readonly isVerifiedSender?: (node: number) => boolean;
}

/** Fragments we resend on request, per minute in all: a request costs its sender one frame, and us up to 255. */
export const RESENDS_PER_MINUTE = 120;
/** Missing-fragment requests we send, per minute in all, and at most one per sender per this interval. */
export const FRAGMENT_REQUESTS_PER_MINUTE = 30;
export const FRAGMENT_REQUEST_SENDER_INTERVAL_MS = 5_000;

export interface EndpointStats {
  messagesSent: number;
  messagesReceived: number;
  badFrames: number;
  fragmentRequestsSent: number;
  fragmentsResent: number;
  /** Fragments asked of us that we did not resend: over the resend budget. */
  resendsRefused: number;
  /** Requests for missing fragments we did not send: an unverified sender, or over the request budget. */
  fragmentRequestsSuppressed: number;
}

/**
 * Messages over one transport: splits them into frames that fit its MTU, puts received fragments
 * back together, and asks for (and answers requests for) fragments that went missing.
 */
export class MessageEndpoint {
  private readonly reassembler: Reassembler;
  private readonly sent = new SentFragments();
  private readonly listeners = new Set<(m: ReceivedMessage) => void>();
  private nextMessageId: number;
  /** Fragment requests heard from anyone, by (sender, message id): one request serves every listener. */
  private readonly requestsHeard = new Map<string, number>();
  /** When each of our fragments was last resent: a burst of requests gets one resend. */
  private readonly resentAt = new Map<string, number>();
  private timer: unknown = null;
  private unsubscribe: (() => void) | null = null;
  readonly stats: EndpointStats = { messagesSent: 0, messagesReceived: 0, badFrames: 0, fragmentRequestsSent: 0, fragmentsResent: 0, resendsRefused: 0, fragmentRequestsSuppressed: 0 };
  private readonly resendBudget: TokenBucket;
  private readonly requestBudget: TokenBucket;
  /** When we last asked each sender for fragments (bounded: entries older than the interval are dropped). */
  private readonly askedAt = new Map<number, number>();

  constructor(
    readonly transport: Transport,
    private readonly opts: EndpointOptions,
    private readonly deps: { clock: Clock; random: () => number },
  ) {
    this.reassembler = new Reassembler(opts.limits ?? DEFAULT_REASSEMBLY_LIMITS);
    this.nextMessageId = Math.floor(deps.random() * 0x10000) & 0xffff;
    this.resendBudget = new TokenBucket(RESENDS_PER_MINUTE, 60_000, deps.clock.now());
    this.requestBudget = new TokenBucket(FRAGMENT_REQUESTS_PER_MINUTE, 60_000, deps.clock.now());
  }

  get reassembly() {
    return this.reassembler.stats;
  }

  start(): void {
    this.unsubscribe = this.transport.onFrame((f) => this.onFrame(f));
    this.scheduleTick();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  onMessage(listener: (m: ReceivedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends at the type's registry priority unless told otherwise; `options` apply to each of its frames. */
  async send(type: MessageType, message: Uint8Array, priority: Priority = priorityOf(type), options?: SendOptions): Promise<number> {
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) & 0xffff;
    const frames = fragmentMessage(type, messageId, message, this.transport.mtu, this.opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.sent.remember(messageId, frames);
    for (const f of frames) await this.transport.send(f, priority, options);
    this.stats.messagesSent++;
    return messageId;
  }

  private onFrame(received: ReceivedFrame): void {
    let frame;
    try {
      frame = decodeFrame(received.bytes);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      this.stats.badFrames++;
      return;
    }
    const { bytes: _bytes, ...meta } = received;
    const verified = frame.fragment === null || (this.opts.isVerifiedSender?.(received.from) ?? true);
    const complete = this.reassembler.accept(received.from, frame, this.deps.clock.now(), verified);
    if (complete === null) return;
    if (complete.type === MessageType.FragmentRequest) {
      void this.answerFragmentRequest(complete.payload);
      return;
    }
    this.stats.messagesReceived++;
    const message: ReceivedMessage = { type: complete.type, payload: complete.payload, messageId: complete.messageId, meta };
    for (const l of this.listeners) l(message);
  }

  private async answerFragmentRequest(payload: Uint8Array): Promise<void> {
    let request;
    try {
      request = fragmentRequestCodec.decode(payload);
    } catch {
      this.stats.badFrames++;
      return;
    }
    const now = this.deps.clock.now();
    this.requestsHeard.set(`${request.target}:${request.messageId}`, now);
    if (this.requestsHeard.size > 4096) this.requestsHeard.delete(this.requestsHeard.keys().next().value as string);
    if (request.target !== this.transport.localNode) return;
    const interval = (this.opts.limits ?? DEFAULT_REASSEMBLY_LIMITS).requestAfterMs / 2;
    const fresh = request.missing.filter((i) => now - (this.resentAt.get(`${request.messageId}:${i}`) ?? -Infinity) >= interval);
    const frames = this.sent.frames(request.messageId, fresh);
    if (frames.length === 0) return;
    if (!this.resendBudget.take(now, frames.length)) {
      this.stats.resendsRefused += frames.length;
      return;
    }
    for (const i of fresh) this.resentAt.set(`${request.messageId}:${i}`, now);
    if (this.resentAt.size > 4096) this.resentAt.delete(this.resentAt.keys().next().value as string);
    for (const f of frames) {
      this.stats.fragmentsResent++;
      await this.transport.send(f, Priority.Sync).catch(() => undefined);
    }
  }

  /** Only verified senders are asked, each at most once per interval, all within the request budget. */
  private mayAsk(sender: number, now: number): boolean {
    if (!(this.opts.isVerifiedSender?.(sender) ?? true)) return false;
    for (const [node, at] of this.askedAt) if (now - at >= FRAGMENT_REQUEST_SENDER_INTERVAL_MS) this.askedAt.delete(node);
    if (this.askedAt.has(sender) || !this.requestBudget.take(now)) return false;
    this.askedAt.set(sender, now);
    return true;
  }

  private heardRecently(key: string, now: number, windowMs: number): boolean {
    return now - (this.requestsHeard.get(key) ?? Number.NEGATIVE_INFINITY) < windowMs;
  }

  private scheduleTick(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      const now = this.deps.clock.now();
      const quiet = (this.opts.limits ?? DEFAULT_REASSEMBLY_LIMITS).requestAfterMs;
      for (const due of this.reassembler.tick(now)) {
        const key = `${due.sender}:${due.messageId}`;
        // Someone else asked recently: the resend will reach us too.
        if (this.heardRecently(key, now, quiet)) continue;
        if (!this.mayAsk(due.sender, now)) {
          this.stats.fragmentRequestsSuppressed++;
          continue;
        }
        const request = fragmentRequestCodec.encode({ target: due.sender, messageId: due.messageId, type: due.type, missing: due.missing });
        // A random pause spreads the requests of everyone who missed the same fragment;
        // whoever asks first silences the rest.
        this.deps.clock.setTimeout(() => {
          if (this.heardRecently(key, this.deps.clock.now(), quiet)) return;
          this.stats.fragmentRequestsSent++;
          void this.send(MessageType.FragmentRequest, request).catch(() => undefined);
        }, Math.floor((this.deps.random() * quiet) / 2));
      }
      this.scheduleTick();
    }, this.opts.tickMs ?? 1_000);
  }
}
