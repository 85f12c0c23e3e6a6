/**
 * The largest MQTT packet a MeshChain client or the embedded broker accepts, bytes. Our frames are at
 * most MQTT_MTU (8 KiB) plus a topic; Meshtastic envelopes a few hundred bytes. Anything larger is
 * someone else's traffic or an attack: a 100 MiB publish used to be buffered whole before any check.
 */
export const MAX_MQTT_PACKET_BYTES = 16 * 1024;

/**
 * Follows packet boundaries in a byte stream of MQTT packets (fixed header: one byte, then the
 * remaining length as a variable-length integer of 1–4 bytes) and reports the first packet whose
 * total size exceeds the limit as soon as its length is known, before its body arrives.
 */
export class MqttPacketSizeGuard {
  private state: "header" | "length" | "body" = "header";
  private length = 0;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number = MAX_MQTT_PACKET_BYTES) {}

  /** Feed the next bytes; returns the announced size of a packet over the limit, else null. */
  feed(chunk: Uint8Array): number | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "body") {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = "header";
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === "header") {
        this.state = "length";
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if ((byte & 0x80) !== 0 && this.lengthBytes < 4) continue;
      const total = 1 + this.lengthBytes + this.length;
      if (total > this.maxPacketBytes || (byte & 0x80) !== 0) return total;
      this.remaining = this.length;
      this.state = this.remaining === 0 ? "header" : "body";
    }
    return null;
  }
}

/** What a guarded connection needs: its bytes as they are read, and a way to cut it. */
export interface GuardableStream {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  destroy(error?: Error): unknown;
}

/**
 * Watch a connection's incoming bytes (a passive "data" listener: it changes neither flowing nor
 * paused reading) and cut the connection at the first oversized packet, so at most one read chunk of
 * it is ever buffered by the MQTT parser behind.
 */
export function guardMqttPacketSize(stream: GuardableStream, onOversize: (bytes: number) => void, maxPacketBytes = MAX_MQTT_PACKET_BYTES): void {
  const guard = new MqttPacketSizeGuard(maxPacketBytes);
  let cut = false;
  stream.on("data", (chunk) => {
    if (cut) return;
    const over = guard.feed(chunk);
    if (over === null) return;
    cut = true;
    onOversize(over);
    stream.destroy();
  });
}
