import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Admin, Config, Mesh } from "@meshtastic/protobufs";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { DEFAULT_AIRTIME_POLICY, AirtimeScheduler } from "../../src/mesh/airtime/scheduler.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { dutyCycleFraction } from "../../src/mesh/airtime/regions.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { encodeStreamFrame, StreamDeframer } from "../../src/mesh/meshtastic/stream-framing.js";
import { type AirPacket, DEFAULT_CHANNEL_OPTIONS, LoraChannel, type RadioRefusal, type SimRadio } from "../../src/mesh/sim/channel.js";
import { HOUR_MS, HourlyTxMeter } from "../../src/mesh/sim/duty-cycle.js";
import { StreamRadio } from "../../src/mesh/sim/stream-radio.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { nodeWarnings, type WarningInputs } from "../../src/node/warnings.js";
import { radioSettings } from "../fixtures/stream-radios.js";
import { seededRandom } from "../fixtures/random.js";

const MINUTE = 60_000;
/** A node with nothing to warn about (a validator in step, its radio link up and under budget). */
const HEALTHY: WarningInputs = {
  role: "validator", validators: 3, sync: { state: "synced", percent: 100, etaSeconds: 0, targetHeight: 50 }, peers: 2, networked: true,
  height: 50, finalizedHeight: 50, finalizedAgeSeconds: 30, slotSeconds: 30, heartbeatSlots: 60, mempoolTransactions: 0, unfinalizedTransactions: false,
  ipLink: null, radio: { state: "connected", lastError: null, lastHourAirtimeSeconds: 20, budgetSecondsPerHour: 180 }, disk: null,
  votes: [{ validator: "mca", lastVoteSlot: 100 }, { validator: "mcb", lastVoteSlot: 100 }, { validator: "mcc", lastVoteSlot: 99 }], headSlot: 100, peerClockOffsetMs: 400,
};
const frame = (size: number) => encodeFrame({ type: MessageType.Transaction, messageId: 1, fragment: null, payload: new Uint8Array(size - 3) });
let nextId = 1;
const packet = (from: number, hopLimit = 0, size = 90): AirPacket => ({ from, id: nextId++, hopLimit, hopStart: hopLimit, portnum: 256, payload: frame(size) });

function channel(dutyCycle: number, seed = 1) {
  const clock = new ManualClock(1_000_000);
  return { clock, ch: new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(seed), dutyCycle }, clock) };
}

/** Sends from `radio` until its hour holds more than `limitMs`, then lets the last frame end. */
function spend(clock: ManualClock, ch: LoraChannel, id: number, limitMs: number): void {
  const r = ch.radios.get(id)!;
  while (r.lastHourAirtimeMs <= limitMs) {
    expect(r.send(packet(id, 0, 200))).toBeNull();
    clock.advance(5_000);
  }
}


/** A radio with a 1% duty cycle that sent 200-byte frames every 5 s until one more would pass the hour's limit. */
function justUnderTheHour() {
  const { clock, ch } = channel(0.01);
  const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
  const airtime = ch.airtimeOf(packet(1, 0, 200));
  while (a.lastHourAirtimeMs + airtime < 0.01 * HOUR_MS) {
    a.send(packet(1, 0, 200));
    clock.advance(5_000);
  }
  return { clock, a, airtime };
}
describe("the radio's hour, as the firmware's AirTime keeps it", () => {
  it("counts a transmission once it has ended, in the minute it ended in", () => {
    const { clock, ch } = channel(1);
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    a.send(packet(1));
    while (!a.transmitting) clock.advance(1);
    expect(a.lastHourAirtimeMs).toBe(0);
    while (a.transmitting) clock.advance(1);
    expect(a.lastHourAirtimeMs).toBeCloseTo(ch.airtimeOf(packet(1)), 6);
  });

  it("forgets airtime a whole minute at a time: the hour is this minute and the 59 before it", () => {
    const meter = new HourlyTxMeter(0);
    meter.log(30_000, 1_000); // minute 0
    meter.log(90_000, 500); // minute 1
    expect(meter.lastHourMs(59 * MINUTE + 59_999)).toBe(1_500);
    // Minute 60 begins: minute 0's bucket is reused, though an exact sliding hour would still hold 30 s of it.
    expect(meter.lastHourMs(60 * MINUTE)).toBe(500);
    expect(meter.lastHourMs(61 * MINUTE)).toBe(0);
    meter.log(200 * MINUTE, 700);
    expect(meter.lastHourMs(200 * MINUTE)).toBe(700);
  });

  it("says how many minutes must pass before the hour is back within the limit", () => {
    const meter = new HourlyTxMeter(0);
    meter.log(1 * MINUTE, 4_000);
    meter.log(2 * MINUTE, 4_000);
    meter.log(3 * MINUTE, 4_000);
    const now = 10 * MINUTE;
    expect(meter.silentMinutes(now, 12_000)).toBe(0);
    // Minute 1 has left the hour at minute 61, minute 2 at minute 62: 51 and 52 minutes from minute 10.
    expect(meter.silentMinutes(now, 8_000)).toBe(51);
    expect(meter.silentMinutes(now, 7_999)).toBe(52);
  });
});

describe("Router::send's duty-cycle rule in the simulated radio", () => {
  it("refuses a packet of its own once the hour is over the limit, with DUTY_CYCLE_LIMIT, and sends nothing of it", () => {
    const { clock, ch } = channel(0.01);
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 100, y: 0 } });
    const heard: AirPacket[] = [];
    b.onReceive((p) => heard.push(p));
    spend(clock, ch, 1, 0.01 * HOUR_MS);
    const before = a.stats.transmissions;
    const p = packet(1);
    const refusal = a.send(p);
    expect(refusal?.code).toBe("DUTY_CYCLE_LIMIT");
    expect(refusal?.silentMinutes).toBeGreaterThan(0);
    clock.advance(MINUTE);
    expect(a.stats.transmissions).toBe(before);
    expect(a.stats.dutyCycleRefusals).toBe(1);
    expect(heard.some((h) => h.id === p.id)).toBe(false);
  });

  it("refuses only over the limit, not at it, and counts neither the packet's own airtime nor the queue", () => {
    // 36 s of airtime an hour. Just under it, three more frames are all taken and all sent.
    const { clock, a, airtime } = justUnderTheHour();
    expect(a.lastHourAirtimeMs).toBeLessThanOrEqual(0.01 * HOUR_MS);
    for (let i = 0; i < 3; i++) expect(a.send(packet(1, 0, 200))).toBeNull();
    clock.advance(MINUTE);
    expect(a.stats.dutyCycleRefusals).toBe(0);
    expect(a.lastHourAirtimeMs).toBeGreaterThan(0.01 * HOUR_MS + airtime);
    expect(a.send(packet(1))?.code).toBe("DUTY_CYCLE_LIMIT");
  });

  it("sends a packet queued before the hour was spent: there is no check at transmit", () => {
    const { clock, a, airtime } = justUnderTheHour();
    // Queue ten at once: the hour is spent after the first few, yet all ten go out.
    for (let i = 0; i < 10; i++) expect(a.send(packet(1, 0, 200))).toBeNull();
    const sent = a.stats.transmissions;
    clock.advance(5 * MINUTE);
    expect(a.stats.transmissions - sent).toBe(10);
    expect(a.lastHourAirtimeMs).toBeGreaterThan(0.01 * HOUR_MS + 5 * airtime);
  });

  it("releases a relay once the hour is spent, telling only its listeners, and relays again when the hour frees", () => {
    const { clock, ch } = channel(0.01);
    const [a, b, c] = [1, 2, 3].map((id) => ch.addRadio(id)) as [SimRadio, SimRadio, SimRadio];
    ch.link(1, 2);
    ch.link(2, 3);
    const atC: AirPacket[] = [];
    c.onReceive((p) => atC.push(p));
    const refused: { p: AirPacket; r: RadioRefusal }[] = [];
    b.onRefusal((p, r) => refused.push({ p, r }));
    spend(clock, ch, 2, 0.01 * HOUR_MS);
    const p = packet(1, 3);
    expect(a.send(p)).toBeNull();
    clock.advance(MINUTE);
    expect(b.hasSeen(1, p.id)).toBe(true);
    expect(b.stats.dutyCycleDrops).toBe(1);
    expect(b.queueLength).toBe(0);
    expect(refused.map((x) => [x.p.id, x.p.hopLimit, x.r.code])).toEqual([[p.id, 2, "DUTY_CYCLE_LIMIT"]]);
    expect(atC.some((x) => x.id === p.id)).toBe(false);
    // An hour on, B's own airtime has left its hour: it relays again.
    clock.advance(HOUR_MS);
    const q = packet(1, 3);
    a.send(q);
    clock.advance(MINUTE);
    expect(atC.some((x) => x.id === q.id)).toBe(true);
    expect(b.stats.dutyCycleDrops).toBe(1);
  });

  it("takes each radio's own limit over the channel's, and never refuses at 100%", () => {
    const { clock, ch } = channel(1);
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    for (let i = 0; i < 250; i++) {
      expect(a.send(packet(1, 0, 200))).toBeNull();
      clock.advance(10_000);
    }
    expect(a.lastHourAirtimeMs).toBeGreaterThan(0.1 * HOUR_MS);
    a.dutyCycle = 0.1;
    expect(a.send(packet(1))?.code).toBe("DUTY_CYCLE_LIMIT");
  });

  it("knows the firmware's duty-cycled regions", () => {
    expect([dutyCycleFraction("EU_868"), dutyCycleFraction("EU_433"), dutyCycleFraction("UA_433"), dutyCycleFraction("UA_868"), dutyCycleFraction("US")]).toEqual([0.1, 0.1, 0.1, 0.01, 1]);
  });
});

describe("SimTransport when its radio refuses", () => {
  it("holds a refused frame, pauses no longer than the radio says nor than its backoff step, offers it again, and loses none", async () => {
    const { clock, ch } = channel(0.01);
    const radio = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const rx = new SimTransport(ch.addRadio(2, { position: { x: 100, y: 0 } }), { nodeNumber: 2, hopLimit: 0 });
    const tx = new SimTransport(radio, { nodeNumber: 1, hopLimit: 0, dutyCyclePauseMs: 60_000 });
    await Promise.all([tx.start(), rx.start()]);
    const got: ReceivedFrame[] = [];
    rx.onFrame((f) => got.push(f));
    spend(clock, ch, 1, 0.01 * HOUR_MS);
    const offeredAt: number[] = [];
    const refusals: (RadioRefusal | null)[] = [];
    const send = radio.send.bind(radio);
    radio.send = (p) => {
      offeredAt.push(clock.now());
      const refusal = send(p);
      refusals.push(refusal);
      return refusal;
    };
    let ready = 0;
    tx.onReady(() => ready++);
    const start = clock.now();
    await tx.send(Uint8Array.of(7, 1), Priority.Consensus);
    await tx.send(Uint8Array.of(7, 2), Priority.Control);
    await tx.send(Uint8Array.of(7, 3), Priority.Consensus);
    expect(tx.holding).toBe(true);
    expect(tx.heldFrames).toBe(3);
    expect(tx.stats.framesSent).toBe(0);
    clock.advance(2 * HOUR_MS);
    // Offered at once, then again after each refusal: the radio's minutes, or the backoff's step (1, 2,
    // 4 … minutes while refusals continue) when that is shorter, since a firmware's figure can be too long.
    const gaps = offeredAt.slice(1).map((t, i) => t - (offeredAt[i] as number));
    expect(offeredAt[0]).toBe(start);
    const refused = refusals.filter((r): r is RadioRefusal => r !== null);
    expect(refused.length).toBeGreaterThan(0);
    refused.forEach((r, i) => expect(gaps[i]).toBe(Math.min(r.silentMinutes, Math.min(15, 2 ** i)) * MINUTE));
    expect(tx.linkStats.dutyCyclePauses).toBe(radio.stats.dutyCycleRefusals);
    // All three arrived, the consensus frames before the control frame, and the link says it is ready.
    expect(got.filter((f) => f.bytes[0] === 7).map((f) => f.bytes[1])).toEqual([1, 3, 2]);
    expect(tx.holding).toBe(false);
    expect(tx.stats.framesSent).toBe(3);
    expect(ready).toBeGreaterThan(0);
  });

  it("keeps the airtime scheduler's frames in the scheduler while it holds, so a long refusal drops nothing", async () => {
    const { clock, ch } = channel(0.01);
    const radio = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const rx = new SimTransport(ch.addRadio(2, { position: { x: 100, y: 0 } }), { nodeNumber: 2, hopLimit: 0 });
    const inner = new SimTransport(radio, { nodeNumber: 1, hopLimit: 0, queueLimit: 2 });
    const scheduler = new AirtimeScheduler(inner, () => 1, { ...DEFAULT_AIRTIME_POLICY, dutyCycle: 1, budgetSecondsPerHour: 3_600, maxQueueDelayMs: 3 * HOUR_MS }, clock);
    await Promise.all([scheduler.start(), rx.start()]);
    const got: ReceivedFrame[] = [];
    rx.onFrame((f) => got.push(f));
    spend(clock, ch, 1, 0.01 * HOUR_MS);
    for (let i = 0; i < 20; i++) await scheduler.send(Uint8Array.of(9, i), Priority.Transaction);
    expect(inner.heldFrames).toBeLessThanOrEqual(2);
    clock.advance(3 * HOUR_MS);
    expect(got.filter((f) => f.bytes[0] === 9).map((f) => f.bytes[1])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(scheduler.airtimeStats.droppedForBudget).toBe(0);
    expect(radio.stats.dutyCycleRefusals).toBeGreaterThan(0);
  });

  it("says while it waits out a duty-cycle refusal, and the node's status warns RADIO_DUTY_CYCLE (not for a full queue)", async () => {
    const { clock, ch } = channel(0.01);
    const radio = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const tx = new SimTransport(radio, { nodeNumber: 1, hopLimit: 0, dutyCyclePauseMs: 60_000 });
    await tx.start();
    expect(tx.dutyCyclePause).toBeNull();
    spend(clock, ch, 1, 0.01 * HOUR_MS);
    const refusedAt = clock.now();
    const said: number[] = [];
    radio.onRefusal((_p, r) => said.push(r.silentMinutes));
    await tx.send(Uint8Array.of(7, 1), Priority.Consensus);
    await tx.send(Uint8Array.of(7, 2), Priority.Transaction);
    expect(said).toHaveLength(1);
    expect(tx.dutyCyclePause).toEqual({ heldFrames: 2, untilMs: refusedAt + Math.min(said[0] as number, 1) * MINUTE });
    const warned = nodeWarnings({ ...HEALTHY, radio: { ...HEALTHY.radio!, dutyCyclePause: { heldFrames: 2, secondsLeft: 60 } } });
    expect(warned.map((w) => w.code)).toEqual(["RADIO_DUTY_CYCLE"]);
    expect(warned[0]?.reason).toContain("2 frame(s) held, offered again in 60 s");
    expect(nodeWarnings(HEALTHY)).toEqual([]);
    clock.advance(2 * HOUR_MS);
    expect(tx.holding).toBe(false);
    expect(tx.dutyCyclePause).toBeNull();
    // A full radio queue is a wait of a second, not a silence: no pause to report.
    const { ch: ch2 } = channel(1);
    const r2 = ch2.addRadio(1, { position: { x: 0, y: 0 } });
    const t2 = new SimTransport(r2, { nodeNumber: 1, hopLimit: 0 });
    await t2.start();
    for (let i = 0; i < 16; i++) r2.send(packet(1));
    await t2.send(Uint8Array.of(5), Priority.Sync);
    expect(t2.holding).toBe(true);
    expect(t2.dutyCyclePause).toBeNull();
  });

  it("waits a moment and offers again when the radio's transmit queue is full", async () => {
    const { clock, ch } = channel(1);
    const radio = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const rx = new SimTransport(ch.addRadio(2, { position: { x: 100, y: 0 } }), { nodeNumber: 2, hopLimit: 0 });
    const tx = new SimTransport(radio, { nodeNumber: 1, hopLimit: 0 });
    await Promise.all([tx.start(), rx.start()]);
    const got: ReceivedFrame[] = [];
    rx.onFrame((f) => got.push(f));
    for (let i = 0; i < 16; i++) radio.send(packet(1));
    await tx.send(Uint8Array.of(5), Priority.Sync);
    expect(radio.stats.txQueueRefusals).toBe(1);
    expect(tx.linkStats.radioQueueFullWaits).toBe(1);
    clock.advance(10 * MINUTE);
    expect(got.filter((f) => f.bytes.length === 1).map((f) => [...f.bytes])).toEqual([[5]]);
    expect(radio.stats.txQueueDrops).toBe(0);
  });
});

describe("the emulated stream radio shares the simulated radio's rule", () => {
  function phone(radio: StreamRadio) {
    const got: Mesh.FromRadio[] = [];
    const deframer = new StreamDeframer({ frame: (f) => got.push(fromBinary(Mesh.FromRadioSchema, f)) });
    const push = radio.attach({ kind: "tcp", write: (b) => deframer.push(b), close: () => undefined });
    const send = (m: Mesh.ToRadio["payloadVariant"]) => push?.(encodeStreamFrame(toBinary(Mesh.ToRadioSchema, create(Mesh.ToRadioSchema, { payloadVariant: m }))));
    send({ case: "wantConfigId", value: 1 });
    const packet = (id: number) => send({ case: "packet", value: create(Mesh.MeshPacketSchema, { to: 0xffffffff, id, payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: 256, payload: Uint8Array.of(1, 2, 3) }) } }) });
    return { got, send, packet };
  }
  const notifications = (got: Mesh.FromRadio[]) => got.flatMap((m) => (m.payloadVariant.case === "clientNotification" ? [m.payloadVariant.value] : []));

  it("gives the simulated radio its region's duty cycle, and none with override_duty_cycle", () => {
    const { clock, ch } = channel(1);
    const eu = ch.addRadio(1);
    new StreamRadio(eu, { settings: radioSettings(1, { region: "EU_868" }) }, clock);
    expect(eu.dutyCycle).toBe(0.1);
    const ua = ch.addRadio(2);
    new StreamRadio(ua, { settings: radioSettings(2, { region: "UA_868" }) }, clock);
    expect(ua.dutyCycle).toBe(0.01);
    const over = ch.addRadio(3);
    const overridden = new StreamRadio(over, { settings: radioSettings(3, { region: "EU_868" }), rebootMs: 10 }, clock);
    const p = phone(overridden);
    const lora = create(Config.Config_LoRaConfigSchema, { ...overridden.loraConfig, overrideDutyCycle: true });
    const admin = create(Admin.AdminMessageSchema, { payloadVariant: { case: "setConfig", value: create(Config.ConfigSchema, { payloadVariant: { case: "lora", value: lora } }) } });
    p.send({ case: "packet", value: create(Mesh.MeshPacketSchema, { to: 3, id: 9, payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: 6, payload: toBinary(Admin.AdminMessageSchema, admin) }) } }) });
    expect(over.dutyCycle).toBe(0.1);
    // It takes effect as the radio restarts.
    clock.advance(1_000);
    expect(overridden.stats.reboots).toBe(1);
    expect(over.dutyCycle).toBe(1);
  });

  it("NAKs its client's packet with DUTY_CYCLE_LIMIT and tells the client of relays it releases", () => {
    const { clock, ch } = channel(1);
    const [a, b] = [1, 2].map((id) => ch.addRadio(id)) as [SimRadio, SimRadio];
    ch.link(1, 2);
    const radio = new StreamRadio(b, { settings: radioSettings(2, { region: "EU_868" }), dutyCycle: 0.01 }, clock);
    const p = phone(radio);
    spend(clock, ch, 2, 0.01 * HOUR_MS);
    p.got.length = 0;
    p.packet(4242);
    const naks = p.got.flatMap((m) => (m.payloadVariant.case === "packet" && m.payloadVariant.value.payloadVariant.case === "decoded" ? [m.payloadVariant.value.payloadVariant.value] : []));
    expect(naks).toHaveLength(1);
    expect(naks[0]?.requestId).toBe(4242);
    expect(fromBinary(Mesh.RoutingSchema, naks[0]!.payload).variant).toEqual({ case: "errorReason", value: Mesh.Routing_Error.DUTY_CYCLE_LIMIT });
    expect(notifications(p.got).map((n) => n.replyId)).toEqual([4242]);
    expect(radio.stats.refusedDutyCycle).toBe(1);
    // A packet heard from A that B would relay: released, and its client hears of it.
    const relay = packet(1, 3);
    a.send(relay);
    clock.advance(MINUTE);
    expect(b.stats.dutyCycleDrops).toBe(1);
    expect(notifications(p.got).map((n) => n.replyId)).toEqual([4242, relay.id]);
    expect(notifications(p.got)[1]?.message).toMatch(/^Duty cycle limit exceeded\. You can send again in \d+ mins$/);
  });
});
