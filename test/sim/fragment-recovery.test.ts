import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { DEFAULT_REASSEMBLY_LIMITS } from "../../src/mesh/fragmentation.js";
import { MessageEndpoint, type ReceivedMessage } from "../../src/mesh/endpoint.js";
import { MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { Priority } from "../../src/mesh/transport.js";
import { FirstTryLoss } from "../fixtures/lossy-transport.js";
import { seededRandom } from "../fixtures/random.js";

const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxMessageBytes: 4096, maxPartialBytesPerSender: 8192, maxPartialBytesTotal: 65536, timeoutMs: 300_000, requestAfterMs: 5_000, maxRequests: 5 };

describe("fragment recovery on a shared channel", () => {
  it("lets one request serve every node that missed the same fragments", async () => {
    const clock = new ManualClock(0);
    const air = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.SHORT_TURBO, random: seededRandom(1), txQueueLimit: 64 }, clock);
    const transport = (id: number) => new SimTransport(air.addRadio(id, { position: { x: id * 100, y: 0 }, rebroadcasts: false }), { nodeNumber: id, hopLimit: 0 });
    const [ta, tb, tc] = [transport(1), transport(2), transport(3)];
    await Promise.all([ta.start(), tb.start(), tc.start()]);
    // Fragments lost at the sender are lost for both receivers alike.
    const lossy = new FirstTryLoss(ta, 0.3, seededRandom(7));
    const a = new MessageEndpoint(lossy, { limits, tickMs: 100 }, { clock, random: seededRandom(3) });
    const receivers = [tb, tc].map((t, i) => new MessageEndpoint(t, { limits, tickMs: 100 }, { clock, random: seededRandom(10 + i) }));
    const got: ReceivedMessage[] = [];
    for (const r of receivers) {
      r.onMessage((m) => got.push(m));
      r.start();
    }
    a.start();
    await a.send(MessageType.SyncResponse, new Uint8Array(4000).fill(9), Priority.Sync);
    for (let i = 0; i < 600 && got.length < 2; i++) {
      clock.advance(100);
      await Promise.resolve();
    }
    expect(got).toHaveLength(2);
    expect(lossy.dropped.length).toBeGreaterThan(0);
    // Both receivers missed the same fragments; the one that asked first silenced the other.
    expect(receivers.map((r) => r.stats.fragmentRequestsSent).sort()).toEqual([0, 1]);
    expect(a.stats.fragmentsResent).toBe(lossy.dropped.length);
  });
});
