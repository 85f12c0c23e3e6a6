import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { frameHopLimit, Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { seededRandom } from "../fixtures/random.js";

const frame = encodeFrame({ type: MessageType.VoteAggregate, messageId: 1, fragment: null, payload: new Uint8Array(61) });

/** Three radios in a line, 4 km apart: the ends cannot hear each other, the middle one relays between them. */
async function line() {
  const clock = new ManualClock(0);
  const ch = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(7), defaultLoss: 0 }, clock);
  const radios = [0, 1, 2].map((i) => ch.addRadio(i + 1, { position: { x: 4_000 * i, y: 0 } }));
  const transports = radios.map((r, i) => new SimTransport(r, { nodeNumber: i + 1, hopLimit: 3 }));
  const heard = transports.map((t) => {
    const got: ReceivedFrame[] = [];
    t.onFrame((f) => got.push(f));
    return got;
  });
  await Promise.all(transports.map((t) => t.start()));
  return { clock, radios, transports, heard };
}

/** A frame's own hop limit (issue 20: vote turn frames that only the validators in direct range need). */
describe("per-frame hop limit", () => {
  it("a frame sent at hop limit 0 is heard by the sender's neighbours and relayed by none", async () => {
    const { clock, radios, transports, heard } = await line();
    await transports[0]!.send(frame, Priority.Consensus, { hopLimit: 0 });
    clock.advance(30_000);
    // Heard, but its hops cannot be told: hop_start 0 reads as unknown, as from firmware before 2.3.
    expect(heard[1]!.map((f) => f.hopsAway)).toEqual([null]);
    expect(heard[2]).toHaveLength(0);
    expect(radios[1]!.stats.transmissions).toBe(0);
    expect(radios[0]!.stats.transmissions).toBe(1);
  });

  it("without one, the frame goes at the configured limit and is relayed to the far end", async () => {
    const { clock, radios, transports, heard } = await line();
    await transports[0]!.send(frame, Priority.Consensus);
    clock.advance(30_000);
    expect(heard[1]!.map((f) => f.hopsAway)).toEqual([0]);
    expect(heard[2]!.map((f) => f.hopsAway)).toEqual([1]);
    expect(radios[1]!.stats.transmissions).toBe(1);
  });

  it("never raises the configured limit, and keeps to the least a link allows", () => {
    expect(frameHopLimit(3, undefined)).toBe(3);
    expect(frameHopLimit(3, { hopLimit: 0 })).toBe(0);
    expect(frameHopLimit(3, { hopLimit: 7 })).toBe(3);
    expect(frameHopLimit(3, { hopLimit: -2 })).toBe(0);
    expect(frameHopLimit(3, { hopLimit: 0.5 })).toBe(3);
    // Over MQTT a gateway never transmits a hop-0 downlink: 1 is the least there.
    expect(frameHopLimit(3, { hopLimit: 0 }, 1)).toBe(1);
  });
});
