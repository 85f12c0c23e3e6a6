import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { HOUR_MS } from "../../src/mesh/sim/duty-cycle.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { Priority } from "../../src/mesh/transport.js";
import { DutyCycleBackoff, dutyCycleMinutes, MAX_RADIO_PAUSE_MINUTES, radioPauseMinutes } from "../../src/mesh/transports/common.js";
import { seededRandom } from "../fixtures/random.js";

const MINUTE = 60_000;

describe("the firmware's duty-cycle notification, read by a link", () => {
  it("reads the minutes from the text Router::send writes", () => {
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 7 mins")).toBe(7);
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 1 mins")).toBe(1);
  });

  it("reads zero as one minute: the next whole minute leaves the hour within a minute", () => {
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 0 mins")).toBe(1);
  });

  it("bounds what it believes to the hour: a garbled or hostile figure cannot silence the node for longer", () => {
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 9999 mins")).toBe(MAX_RADIO_PAUSE_MINUTES);
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 99999999999 mins")).toBeNull();
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in -3 mins")).toBeNull();
    expect(dutyCycleMinutes("Duty cycle limit exceeded. You can send again in 2.5 mins")).toBeNull();
    expect(dutyCycleMinutes("Duty cycle limit exceeded")).toBeNull();
    expect(dutyCycleMinutes("Rate limit exceeded. Try again later")).toBeNull();
    expect(radioPauseMinutes(Number.NaN)).toBeNull();
    expect(radioPauseMinutes(61)).toBe(60);
  });

  it("never yields a pause outside 1-60 minutes, whatever the text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat().map((n) => `Duty cycle limit exceeded. You can send again in ${n} mins`)), (text) => {
        const m = dutyCycleMinutes(text);
        return m === null || (Number.isInteger(m) && m >= 1 && m <= MAX_RADIO_PAUSE_MINUTES);
      }),
    );
  });
});

describe("DutyCycleBackoff", () => {
  it("pauses no longer than the radio's minutes, and no longer than the backoff's step: the firmware's figure can be far too long", () => {
    const b = new DutyCycleBackoff(4 * MINUTE);
    // Shorter than the step: the radio's word.
    expect(b.refused(1)).toBe(MINUTE);
    // A firmware that walks its ring by index can say 50 where 1 is true: the step (now 8 min) bounds it.
    expect(b.refused(50)).toBe(8 * MINUTE);
    expect(b.refused(12)).toBe(12 * MINUTE);
    expect(b.refused(60)).toBe(15 * MINUTE);
    b.accepted();
    expect(b.refused()).toBe(4 * MINUTE);
  });

  it("without the radio's word, doubles from the first pause up to 15 minutes, and starts over once the radio takes a packet", () => {
    const b = new DutyCycleBackoff(MINUTE);
    expect([1, 2, 3, 4, 5, 6].map(() => b.refused() / MINUTE)).toEqual([1, 2, 4, 8, 15, 15]);
    b.accepted();
    expect(b.refused(null)).toBe(MINUTE);
  });
});

describe("SimTransport told of a relay its radio released for the duty cycle", () => {
  it("holds its own frames after a released relay's notice, no longer than the radio said nor than its backoff step, as the stream link does", async () => {
    const clock = new ManualClock(1_000_000);
    const ch = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(1), dutyCycle: 0.01 }, clock);
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 100, y: 0 } });
    b.dutyCycle = 1;
    const tx = new SimTransport(a, { nodeNumber: 1, hopLimit: 0, dutyCyclePauseMs: MINUTE });
    await tx.start();
    // Spend radio 1's hour with its own frames, then let radio 2 send a packet radio 1 would relay.
    const payload = encodeFrame({ type: MessageType.Transaction, messageId: 1, fragment: null, payload: new Uint8Array(150) });
    let id = 1;
    while (a.lastHourAirtimeMs <= 0.01 * HOUR_MS) {
      a.send({ from: 1, id: id++, hopLimit: 0, hopStart: 0, portnum: 256, payload });
      clock.advance(5_000);
    }
    const said: number[] = [];
    a.onRefusal((p, r) => {
      if (p.from === 2) said.push(r.silentMinutes);
    });
    b.send({ from: 2, id: 1, hopLimit: 3, hopStart: 3, portnum: 256, payload });
    clock.advance(10_000);
    expect(said).toHaveLength(1);
    const refusals = a.stats.dutyCycleRefusals;
    await tx.send(Uint8Array.of(9), Priority.Consensus);
    // Not even offered: the radio would refuse it, and the link knows until when.
    expect(a.stats.dutyCycleRefusals).toBe(refusals);
    expect(tx.dutyCyclePause?.heldFrames).toBe(1);
    expect(tx.dutyCyclePause!.untilMs).toBeLessThanOrEqual(clock.now() + Math.min(said[0] as number, 1) * MINUTE);
    expect(tx.dutyCyclePause!.untilMs).toBeGreaterThan(clock.now());
    clock.advance(2 * HOUR_MS);
    expect(tx.holding).toBe(false);
    expect(tx.stats.framesSent).toBe(1);
  });
});
