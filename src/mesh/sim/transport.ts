import { PRIVATE_APP_PORT } from "../meshtastic/envelope.js";
import { MESHTASTIC_MTU } from "../transports/meshtastic-mqtt.js";
import { assertSendable, type Lifecycle } from "../transports/common.js";
import { emptyStats, FrameListeners, frameHopLimit, type Priority, type ReceivedFrame, type SendOptions, type Transport } from "../transport.js";
import type { SimRadio } from "./channel.js";

/**
 * A node's frames on the simulated LoRa channel, through its own simulated radio: the same MTU
 * and the same best-effort, unordered delivery as the real thing.
 */
export class SimTransport implements Transport {
  readonly kind = "sim";
  readonly mtu = MESHTASTIC_MTU;
  readonly stats = emptyStats();
  private readonly listeners = new FrameListeners();
  private state: Lifecycle = "new";
  private nextPacketId: number;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly radio: SimRadio,
    /** packetIds: a node's never-repeating ids (its ReservedCounter), else counting up from firstPacketId. */
    private readonly opts: { readonly nodeNumber: number; readonly hopLimit: number; readonly firstPacketId?: number; readonly packetIds?: { take(): number } },
  ) {
    this.nextPacketId = opts.firstPacketId ?? 1;
  }

  get localNode(): number {
    return this.opts.nodeNumber;
  }

  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.state = "running";
    this.unsubscribe = this.radio.onReceive((p, r) => {
      if (this.state !== "running") return;
      if (p.from === this.opts.nodeNumber) {
        this.stats.ownEchoes++;
        return;
      }
      if (p.portnum !== PRIVATE_APP_PORT) {
        this.stats.otherPorts++;
        return;
      }
      if (p.payload.length === 0 || p.payload.length > this.mtu) {
        this.stats.malformed++;
        return;
      }
      this.stats.framesReceived++;
      this.listeners.emit({ bytes: p.payload, from: p.from, hopsAway: p.hopStart - p.hopLimit, snr: r.snr, rssi: r.rssi, viaRadio: true });
    });
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  async send(frame: Uint8Array, _priority: Priority, options?: SendOptions): Promise<void> {
    assertSendable(this.state, frame, this.mtu, this.kind);
    let id = this.nextPacketId;
    if (this.opts.packetIds !== undefined) id = this.opts.packetIds.take();
    else this.nextPacketId = (this.nextPacketId % 0xffffffff) + 1;
    const hopLimit = frameHopLimit(this.opts.hopLimit, options);
    this.radio.send({ from: this.opts.nodeNumber, id, hopLimit, hopStart: hopLimit, portnum: PRIVATE_APP_PORT, payload: Uint8Array.from(frame) });
    this.stats.framesSent++;
  }

  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    return this.listeners.add(listener);
  }
}
