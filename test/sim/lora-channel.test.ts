import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { type AirPacket, DEFAULT_CHANNEL_OPTIONS, LoraChannel, type SimRadio } from "../../src/mesh/sim/channel.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { seededRandom } from "../fixtures/random.js";

const HOUR = 3_600_000;

function channel(opts: Partial<typeof DEFAULT_CHANNEL_OPTIONS> & { random?: () => number } = {}, seed = 1) {
  const clock = new ManualClock(0);
  return { clock, ch: new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(seed), ...opts }, clock) };
}

const frame = (type: MessageType, size: number) => encodeFrame({ type, messageId: 1, fragment: null, payload: new Uint8Array(size - 3) });
let nextId = 1;
const packet = (from: number, hopLimit: number, payload = frame(MessageType.Transaction, 90)): AirPacket => ({ from, id: nextId++, hopLimit, hopStart: hopLimit, portnum: 256, payload });

function inbox(r: SimRadio) {
  const got: { p: AirPacket; hops: number; at: number }[] = [];
  r.onReceive((p) => got.push({ p, hops: p.hopStart - p.hopLimit, at: 0 }));
  return got;
}

describe("LoRa channel simulator", () => {
  it("delivers after the packet's time on air", () => {
    const { clock, ch } = channel();
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 1000, y: 0 } });
    const got = inbox(b);
    a.send(packet(1, 0));
    const airtime = ch.airtimeOf(packet(1, 0));
    // It first waits its contention delay (at most 2^3 slots of 28 ms on an idle LongFast channel).
    let waited = 0;
    while (!a.transmitting && waited < 8 * 28) {
      clock.advance(1);
      waited++;
    }
    expect(a.transmitting).toBe(true);
    clock.advance(airtime - 1);
    expect(got).toHaveLength(0);
    clock.advance(1);
    expect(got).toHaveLength(1);
    expect(ch.report().airtimeMsByClass.tx).toBeCloseTo(airtime, 6);
  });

  it("loses both packets when two transmissions overlap at a receiver (hidden terminals)", () => {
    const { clock, ch } = channel({ listenBeforeTalk: true });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 4_000, y: 0 } });
    const c = ch.addRadio(3, { position: { x: 8_000, y: 0 } });
    const got = inbox(b);
    // A and C cannot hear each other, so listening first does not help them.
    a.send(packet(1, 0));
    c.send(packet(3, 0));
    clock.advance(10_000);
    expect(got).toHaveLength(0);
    expect(b.stats.collisions).toBe(2);
  });

  it("lets a radio that hears the channel busy wait its turn", () => {
    const { clock, ch } = channel({ listenBeforeTalk: true });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 1_000, y: 0 } });
    const c = ch.addRadio(3, { position: { x: 2_000, y: 0 } });
    const got = inbox(b);
    a.send(packet(1, 0));
    clock.advance(300);
    c.send(packet(3, 0));
    clock.advance(10_000);
    expect(got.map((g) => g.p.from).sort()).toEqual([1, 3]);
    expect(b.stats.collisions).toBe(0);
  });

  it("is half-duplex: a radio transmitting hears nothing", () => {
    const { clock, ch } = channel({ listenBeforeTalk: false });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 1_000, y: 0 } });
    const got = inbox(b);
    b.send(packet(2, 0, frame(MessageType.Block, 200)));
    clock.advance(5);
    a.send(packet(1, 0));
    clock.advance(10_000);
    expect(got).toHaveLength(0);
    expect(b.stats.lostHalfDuplex).toBe(1);
  });

  it("loses packets on a lossy link at the configured rate", () => {
    const { clock, ch } = channel({}, 99);
    const a = ch.addRadio(1);
    const b = ch.addRadio(2);
    ch.link(1, 2, { loss: 0.3 });
    const got = inbox(b);
    for (let i = 0; i < 1000; i++) {
      a.send(packet(1, 0));
      clock.advance(2_000);
    }
    // Binomial(1000, 0.7): within ±5 standard deviations.
    expect(got.length).toBeGreaterThan(700 - 5 * 14.5);
    expect(got.length).toBeLessThan(700 + 5 * 14.5);
    expect(b.stats.lostOnLink).toBe(1000 - got.length);
  });

  it("floods along a line for exactly hop_limit relays, reporting hops away", () => {
    const { clock, ch } = channel();
    const radios = [1, 2, 3, 4, 5].map((id) => ch.addRadio(id));
    for (let i = 1; i < 5; i++) ch.link(i, i + 1);
    const boxes = radios.map(inbox);
    radios[0]!.send(packet(1, 2));
    clock.advance(60_000);
    expect(boxes.map((b) => b.length)).toEqual([0, 1, 1, 1, 0]);
    expect(boxes.slice(1, 4).map((b) => b[0]!.hops)).toEqual([0, 1, 2]);
    expect(radios.map((r) => r.stats.relays)).toEqual([0, 1, 1, 0, 0]);
  });

  it("delivers once per radio and keeps relays quiet once one is heard (managed flooding)", () => {
    const { clock, ch } = channel({}, 5);
    const radios = [1, 2, 3, 4, 5, 6].map((id) => ch.addRadio(id, { position: { x: id * 100, y: 0 } }));
    const boxes = radios.map(inbox);
    radios[0]!.send(packet(1, 3));
    clock.advance(60_000);
    expect(boxes.slice(1).every((b) => b.length === 1)).toBe(true);
    const relays = radios.reduce((a, r) => a + r.stats.relays, 0);
    const suppressed = radios.reduce((a, r) => a + r.stats.relaysSuppressed, 0);
    // Everyone hears everyone: the first relay silences the rest.
    expect(relays).toBe(1);
    expect(suppressed).toBe(4);
  });

  it("enforces each radio's duty cycle over a rolling hour", () => {
    const { clock, ch } = channel({ dutyCycle: 0.1 });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    ch.addRadio(2, { position: { x: 10, y: 0 } });
    const block = () => packet(1, 0, frame(MessageType.Block, 231));
    for (let t = 0; t < 3 * HOUR; t += 3_000) {
      a.send(block());
      clock.advance(3_000);
    }
    expect(a.stats.dutyCycleRefusals).toBeGreaterThan(0);
    // The firmware refuses once the hour is over its limit, and logs a frame in the minute it ends
    // in: each hour may end a frame or two past it.
    expect(a.stats.txAirtimeMs).toBeLessThanOrEqual(3 * (0.1 * HOUR + 2 * ch.airtimeOf(block())));
  });

  it("reports utilisation and airtime by class, and runs a thousand virtual hours quickly", () => {
    const { clock, ch } = channel({}, 8);
    const radios = Array.from({ length: 10 }, (_, i) => ch.addRadio(i + 1, { position: { x: (i % 5) * 1500, y: Math.floor(i / 5) * 1500 } }));
    const random = seededRandom(9);
    const types = [MessageType.Transaction, MessageType.Vote, MessageType.Block, MessageType.Status];
    const schedule = () => {
      const r = radios[Math.floor(random() * radios.length)]!;
      r.send(packet(r.id, 3, frame(types[Math.floor(random() * types.length)]!, 40 + Math.floor(random() * 150))));
      clock.setTimeout(schedule, 60_000 + random() * 120_000);
    };
    schedule();
    clock.advance(1000 * HOUR);
    const report = ch.report();
    expect(report.elapsedMs).toBe(1000 * HOUR);
    expect(report.airtimeMsByClass.tx).toBeGreaterThan(0);
    expect(report.airtimeMsByClass.vote).toBeGreaterThan(0);
    expect(report.airtimeMsByClass.control).toBeGreaterThan(0);
    for (const r of report.radios) {
      expect(r.channelUtilisation).toBeGreaterThan(0);
      expect(r.channelUtilisation).toBeLessThan(0.25);
      expect(r.txUtilisation).toBeLessThanOrEqual(r.channelUtilisation);
    }
  });
});

describe("LoRa channel simulator: the firmware's channel access", () => {
  const always = (x: number) => () => x;

  it("sends its own frame after a whole number of contention slots, within 2^CWmin slots on an idle channel", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { clock, ch } = channel({}, seed);
      const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
      ch.addRadio(2, { position: { x: 100, y: 0 } });
      a.send(packet(1, 0));
      let waited = 0;
      while (!a.transmitting) {
        clock.advance(1);
        waited++;
      }
      expect(waited % 28).toBe(0);
      expect(waited).toBeLessThan(8 * 28);
    }
  });

  it("collides when two radios key up within the channel activity detection time, even though they hear each other", () => {
    const { clock, ch } = channel({ random: always(0) });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 100, y: 0 } });
    const c = ch.addRadio(3, { position: { x: 200, y: 0 } });
    const got = inbox(c);
    // Both draw a zero delay; B keys up 10 ms after A, before its CAD (2.5 symbols, 20 ms) can see A.
    a.send(packet(1, 0));
    clock.advance(10);
    expect(a.transmitting).toBe(true);
    b.send(packet(2, 0));
    clock.advance(10_000);
    expect(got).toHaveLength(0);
    expect(c.stats.collisions).toBe(2);
  });

  it("draws a new delay when its delay ends while it senses a transmission, and sends after it", () => {
    const { clock, ch } = channel({ random: always(0.5) });
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 100, y: 0 } });
    const c = ch.addRadio(3, { position: { x: 200, y: 0 } });
    const got = inbox(c);
    a.send(packet(1, 0));
    while (!a.transmitting) clock.advance(1);
    clock.advance(100); // well past the CAD time: B senses A
    b.send(packet(2, 0));
    clock.advance(10_000);
    expect(got.map((g) => g.p.from)).toEqual([1, 2]);
    expect(c.stats.collisions).toBe(0);
  });

  it("lets a ROUTER relay before a CLIENT that heard the same packet", () => {
    let routerRelays = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { clock, ch } = channel({}, seed);
      const origin = ch.addRadio(1);
      const client = ch.addRadio(2, { role: "CLIENT" });
      const router = ch.addRadio(3, { role: "ROUTER" });
      ch.addRadio(4);
      ch.link(1, 2, { snr: -15 });
      ch.link(1, 3, { snr: 10 });
      ch.link(2, 3);
      ch.link(2, 4);
      ch.link(3, 4);
      origin.send(packet(1, 1));
      clock.advance(60_000);
      routerRelays += router.stats.relays;
      expect(router.stats.relays + client.stats.relays).toBe(1);
    }
    // Even with the stronger signal (the widest window) the router's whole window ends before a client's starts.
    expect(routerRelays).toBe(8);
  });

  it("lets the CLIENT that heard the weaker signal (the farther one) relay first, most of the time", () => {
    let farRelays = 0;
    for (const seed of Array.from({ length: 20 }, (_, i) => i + 1)) {
      const { clock, ch } = channel({}, seed);
      const origin = ch.addRadio(1);
      const far = ch.addRadio(2);
      ch.addRadio(3);
      ch.link(1, 2, { snr: -15 });
      ch.link(1, 3, { snr: 10 });
      ch.link(2, 3);
      origin.send(packet(1, 1));
      clock.advance(60_000);
      farRelays += far.stats.relays;
    }
    // The far radio draws from 2^3 slots, the near one from 2^8: the near one wins only with fewer than 8.
    expect(farRelays).toBeGreaterThanOrEqual(17);
  });

  it("does not relay as CLIENT_MUTE", () => {
    const { clock, ch } = channel();
    const radios = [ch.addRadio(1), ch.addRadio(2, { role: "CLIENT_MUTE" }), ch.addRadio(3)];
    ch.link(1, 2);
    ch.link(2, 3);
    const far = inbox(radios[2]!);
    radios[0]!.send(packet(1, 3));
    clock.advance(60_000);
    expect(radios[1]!.stats.relays).toBe(0);
    expect(far).toHaveLength(0);
  });

  it("measures channel utilisation as the firmware does: the busy share of the last minute, which widens its window", () => {
    const { clock, ch } = channel();
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 100, y: 0 } });
    for (let i = 0; i < 5; i++) {
      a.send(packet(1, 0, frame(MessageType.Block, 231)));
      clock.advance(3_000);
    }
    const busy = 5 * ch.airtimeOf(packet(1, 0, frame(MessageType.Block, 231)));
    expect(b.channelUtilisationPercent).toBeCloseTo((busy / 60_000) * 100, 6);
    clock.advance(61_000);
    expect(b.channelUtilisationPercent).toBe(0);
  });
});
