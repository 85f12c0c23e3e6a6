/** Scheduling classes, most urgent first (DESIGN.md §6). */
export enum Priority {
  Consensus = 0,
  Transaction = 1,
  Sync = 2,
  Control = 3,
}

export interface ReceivedFrame {
  readonly bytes: Uint8Array;
  /** The sender's 32-bit node number (Meshtastic `from`). */
  readonly from: number;
  /** hop_start − hop_limit when the radio reported both; null otherwise. */
  readonly hopsAway: number | null;
  readonly snr: number | null;
  readonly rssi: number | null;
  /** Heard on LoRa: such a frame must never be sent back to LoRa (the radios already flooded it). */
  readonly viaRadio: boolean;
}

/**
 * How one frame is sent. `hopLimit` caps how many times the mesh relays it (Meshtastic's hop_limit):
 * a radio keeps a client packet's hop_limit and relays a packet only while it is above 0, so 0 means
 * "heard only by the radios in direct range". It never raises the transport's configured limit; a
 * transport whose link cannot honour it exactly sends the nearest limit that still reaches its direct
 * neighbours (over MQTT a gateway never transmits a hop-0 downlink: 1), and links without relays
 * (IP) ignore it.
 */
export interface SendOptions {
  readonly hopLimit?: number;
}

/** The hop limit one frame goes at: the caller's, within 0 and the transport's configured limit. */
export function frameHopLimit(configured: number, options: SendOptions | undefined, least = 0): number {
  const asked = options?.hopLimit;
  if (asked === undefined || !Number.isInteger(asked)) return configured;
  return Math.min(configured, Math.max(least, asked));
}

/**
 * Hops a Meshtastic packet took, from its header: null when unknown. A hop_start of 0 is what firmware
 * before 2.3 sent, and what a packet sent at hop limit 0 carries; either way its hops cannot be told.
 */
export function hopsAwayOf(hopStart: number, hopLimit: number): number | null {
  return hopStart > 0 && hopStart >= hopLimit ? hopStart - hopLimit : null;
}

export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  /** Broken envelopes or frames, counted and dropped. */
  malformed: number;
  /** Encrypted packets that did not decrypt with our channel key. */
  undecryptable: number;
  /** Unencrypted packets on a channel that has a key: anyone without the key could have sent them. */
  plaintextRefused: number;
  duplicates: number;
  /** Packets for other applications (text, position, telemetry …), ignored quietly. */
  otherPorts: number;
  /** Our own packets echoed back by the broker or the radio. */
  ownEchoes: number;
}

export const emptyStats = (): TransportStats => ({ framesSent: 0, framesReceived: 0, malformed: 0, undecryptable: 0, plaintextRefused: 0, duplicates: 0, otherPorts: 0, ownEchoes: 0 });

/** A transport's link to the outside (a broker, a radio) coming up or going down. */
export interface LinkChange {
  readonly state: "connected" | "disconnected";
  /** Why it is down, as the socket, the broker or the radio said it. */
  readonly reason: string | null;
  /** When the next attempt is due, if one is. */
  readonly retryInMs: number | null;
  /** The transport logged this change itself, in its own words: listeners need not log it again. */
  readonly logged?: boolean;
}

/**
 * One way for frames to reach other nodes. Delivery is best effort and unordered: frames may be
 * lost, duplicated or reordered, and the layers above must not assume otherwise.
 */
export interface Transport {
  readonly kind: string;
  /** Largest frame `send` accepts, in bytes. */
  readonly mtu: number;
  readonly localNode: number;
  readonly stats: TransportStats;
  start(): Promise<void>;
  /** Idempotent; no frame is delivered after it resolves. */
  stop(): Promise<void>;
  /** Broadcast a frame. Throws TransportError: NOT_STARTED, CLOSED, FRAME_TOO_LARGE, QUEUE_FULL. */
  send(frame: Uint8Array, priority: Priority, options?: SendOptions): Promise<void>;
  /** Returns a function that removes the listener. */
  onFrame(listener: (frame: ReceivedFrame) => void): () => void;
  /** Transports that hold a link (a broker, a radio) tell when it comes up or goes down. */
  onLinkChange?(listener: (change: LinkChange) => void): () => void;
  /**
   * True while the transport holds frames its link cannot take yet (a radio's full queue, a duty-cycle
   * refusal): a scheduler above keeps its frames until `onReady`. Absent: always ready.
   */
  readonly holding?: boolean;
  /**
   * While the radio refused our frame for its duty cycle and the link waits before offering it again:
   * how many frames wait and until when (ms). Null or absent otherwise. Nothing of ours goes on air
   * meanwhile, so the node's status says so (RADIO_DUTY_CYCLE).
   */
  readonly dutyCyclePause?: DutyCyclePause | null;
  onReady?(listener: () => void): () => void;
}

export interface DutyCyclePause {
  readonly heldFrames: number;
  readonly untilMs: number;
}

/** Listener bookkeeping shared by transport implementations. */
export class FrameListeners {
  private readonly listeners = new Set<(f: ReceivedFrame) => void>();

  add(listener: (f: ReceivedFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(frame: ReceivedFrame): void {
    for (const l of this.listeners) l(frame);
  }
}
