import { connect, type Socket } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Admin, Config, Mesh } from "@meshtastic/protobufs";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { encodeStreamFrame } from "../../src/mesh/meshtastic/stream-framing.js";
import { CONFIG_WITHOUT_NODES } from "../../src/mesh/meshtastic/stream-session.js";
import { fromBinary } from "@bufbuild/protobuf";
import { StreamDeframer } from "../../src/mesh/meshtastic/stream-framing.js";
import { Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY } from "../../src/mesh/airtime/scheduler.js";
import { advanceUntil, dutyCycleLinks, logRecorder, radioRig, type RadioRig, rigPerTest, streamTransport } from "../fixtures/stream-radios.js";
import { waitFor } from "../fixtures/wait.js";

/** A bare stream-API client, to see exactly what the radio says. */
class RawClient {
  readonly messages: Mesh.FromRadio[] = [];
  closed = false;
  private constructor(private readonly socket: Socket) {
    const deframer = new StreamDeframer({ frame: (f) => this.messages.push(fromBinary(Mesh.FromRadioSchema, f)) });
    socket.on("data", (b: Buffer) => deframer.push(new Uint8Array(b)));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static async open(url: string): Promise<RawClient> {
    const [host, port] = url.slice("tcp://".length).split(":") as [string, string];
    const socket = connect({ host, port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawClient(socket);
  }

  send(payloadVariant: Mesh.ToRadio["payloadVariant"]): void {
    this.socket.write(encodeStreamFrame(toBinary(Mesh.ToRadioSchema, create(Mesh.ToRadioSchema, { payloadVariant }))));
  }

  packet(id: number, payload: Uint8Array, channel = 0): void {
    this.send({ case: "packet", value: create(Mesh.MeshPacketSchema, { to: 0xffffffff, id, channel, payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: 256, payload }) } }) });
  }

  admin(to: number, admin: Admin.AdminMessage): void {
    this.send({ case: "packet", value: create(Mesh.MeshPacketSchema, { to, id: 77, payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: 6, payload: toBinary(Admin.AdminMessageSchema, admin) }) } }) });
  }

  async handshake(nonce = CONFIG_WITHOUT_NODES): Promise<void> {
    this.send({ case: "wantConfigId", value: nonce });
    await waitFor(() => this.messages.some((m) => m.payloadVariant.case === "configCompleteId"), 5_000, "config_complete_id");
  }

  queueStatuses(): Mesh.QueueStatus[] {
    return this.messages.flatMap((m) => (m.payloadVariant.case === "queueStatus" ? [m.payloadVariant.value] : []));
  }

  close(): void {
    this.socket.destroy();
  }
}

let rig: RadioRig | null = null;
const { cleanups, use } = rigPerTest();

describe("emulated stream radio: firmware rules", () => {
  it("answers want_config in the firmware's order and ends with the same nonce", async () => {
    rig = use(await radioRig(1));
    const c = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => c.close());
    await c.handshake(4242);
    const order = c.messages.map((m) => m.payloadVariant.case);
    const firstOf = (k: string) => order.indexOf(k as never);
    expect(order[0]).toBe("myInfo");
    expect(firstOf("myInfo")).toBeLessThan(firstOf("nodeInfo"));
    expect(firstOf("nodeInfo")).toBeLessThan(firstOf("metadata"));
    expect(firstOf("metadata")).toBeLessThan(firstOf("channel"));
    expect(order.filter((k) => k === "channel")).toHaveLength(8);
    expect(order.lastIndexOf("channel")).toBeLessThan(firstOf("config"));
    expect(order.lastIndexOf("config")).toBeLessThan(firstOf("moduleConfig"));
    const last = c.messages.at(-1) as Mesh.FromRadio;
    expect(last.payloadVariant).toEqual({ case: "configCompleteId", value: 4242 });
  });

  it("delivers packets heard on air only to a client that finished the handshake", async () => {
    rig = use(await radioRig(2));
    const listener = await RawClient.open(rig.urls[1] as string);
    const sender = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => listener.close(), () => sender.close());
    await sender.handshake();
    sender.packet(1, Uint8Array.of(1));
    await waitFor(() => rig?.radios[1]?.stats.delivered === 1, 5_000, "the first packet on air");
    expect(listener.messages).toEqual([]);
    await listener.handshake();
    sender.packet(2, Uint8Array.of(2));
    await waitFor(() => listener.messages.some((m) => m.payloadVariant.case === "packet"), 5_000, "the second packet");
    const packets = listener.messages.flatMap((m) => (m.payloadVariant.case === "packet" ? [m.payloadVariant.value] : []));
    expect(packets.map((p) => p.id)).toEqual([2]);
  });

  it("holds at most 16 packets and says so in QueueStatus; the 17th waiting one is refused", async () => {
    rig = use(await radioRig(1, { preset: "VERY_LONG_SLOW" }));
    const c = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => c.close());
    await c.handshake();
    // The first waits its contention delay in the queue like the rest (it may leave for the air before
    // the last ones arrive): 16 wait, and whatever comes while they do finds no room.
    for (let id = 1; id <= 18; id++) c.packet(id, Uint8Array.of(id));
    await waitFor(() => c.queueStatuses().length === 18, 5_000, "18 queue statuses");
    const statuses = c.queueStatuses();
    expect(statuses.map((q) => q.meshPacketId)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(statuses.every((q) => q.maxlen === 16)).toBe(true);
    const accepted = statuses.filter((q) => q.res === 0).length;
    expect([16, 17]).toContain(accepted);
    expect(statuses.slice(0, accepted).every((q) => q.res === 0)).toBe(true);
    expect(statuses[accepted - 1]?.free).toBe(0);
    expect(statuses.slice(accepted).every((q) => q.res !== 0)).toBe(true);
    expect(rig.radios[0]?.stats.refusedQueueFull).toBe(18 - accepted);
    c.send({ case: "heartbeat", value: create(Mesh.HeartbeatSchema, {}) });
    await waitFor(() => c.queueStatuses().length === 19, 5_000, "the heartbeat's queue status");
    expect(c.queueStatuses()[18]).toMatchObject({ meshPacketId: 0, maxlen: 16 });
    expect(c.queueStatuses()[18]?.free).toBeLessThanOrEqual(1);
  });

  it("refuses a packet on a channel it does not have, with Routing NO_CHANNEL", async () => {
    rig = use(await radioRig(1));
    const c = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => c.close());
    await c.handshake();
    c.packet(9, Uint8Array.of(1), 5);
    await waitFor(() => c.messages.some((m) => m.payloadVariant.case === "packet"), 5_000, "the routing error");
    const nak = c.messages.find((m) => m.payloadVariant.case === "packet")?.payloadVariant.value as Mesh.MeshPacket;
    expect(nak.payloadVariant.case === "decoded" && nak.payloadVariant.value.requestId).toBe(9);
    expect(rig.radios[0]?.stats.refusedNoChannel).toBe(1);
  });

  it("accepts one TCP client: a newcomer closes the old connection", async () => {
    rig = use(await radioRig(1));
    const first = await RawClient.open(rig.urls[0] as string);
    await first.handshake();
    const second = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => first.close(), () => second.close());
    await waitFor(() => first.closed, 5_000, "the first client closed");
    await second.handshake();
    expect(rig.radios[0]?.clientCount).toBe(1);
  });

  it("drops a client silent for 15 minutes, and keeps one that sends heartbeats", async () => {
    const clock = new ManualClock(1_000_000);
    rig = use(await radioRig(1, { clock }));
    const silent = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => silent.close());
    await silent.handshake();
    clock.advance(14 * 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(silent.closed).toBe(false);
    silent.send({ case: "heartbeat", value: create(Mesh.HeartbeatSchema, {}) });
    await waitFor(() => silent.queueStatuses().length === 1, 5_000, "heartbeat answer");
    clock.advance(14 * 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(silent.closed).toBe(false);
    clock.advance(60_001);
    await waitFor(() => silent.closed, 5_000, "the silent client dropped");
    expect(rig.radios[0]?.stats.timeouts).toBe(1);
  });

  it("reboots after a config change: clients dropped, nobody let in until it is back, new settings served", async () => {
    rig = use(await radioRig(1, { radio: () => ({ rebootMs: 300 }) }));
    const c = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => c.close());
    await c.handshake();
    const lora = create(Config.Config_LoRaConfigSchema, { ...rig.radios[0]?.loraConfig, region: Config.Config_LoRaConfig_RegionCode.EU_868, hopLimit: 5 });
    c.admin(0x5000_0001, create(Admin.AdminMessageSchema, { payloadVariant: { case: "setConfig", value: create(Config.ConfigSchema, { payloadVariant: { case: "lora", value: lora } }) } }));
    await waitFor(() => c.closed, 5_000, "the reboot");
    expect(rig.radios[0]?.rebooting).toBe(true);
    const during = await RawClient.open(rig.urls[0] as string);
    await waitFor(() => during.closed, 5_000, "a connection refused while rebooting");
    await waitFor(() => rig?.radios[0]?.rebooting === false, 5_000, "the radio back");
    const after = await RawClient.open(rig.urls[0] as string);
    cleanups.push(() => after.close());
    await after.handshake();
    const loraAfter = after.messages.flatMap((m) => (m.payloadVariant.case === "config" && m.payloadVariant.value.payloadVariant.case === "lora" ? [m.payloadVariant.value.payloadVariant.value] : []))[0];
    expect(loraAfter?.hopLimit).toBe(5);
    // As the firmware does, choosing a duty-cycle-limited region turned ignore_mqtt on.
    expect(loraAfter?.ignoreMqtt).toBe(true);
  });
});

describe("meshtastic-stream transport against the firmware rules", () => {
  it("never has more packets at the radio than its queue has room for, and loses none", async () => {
    rig = use(await radioRig(2, { preset: "SHORT_SLOW" }));
    const a = streamTransport(rig.urls[0] as string);
    const b = streamTransport(rig.urls[1] as string);
    cleanups.push(() => a.stop(), () => b.stop());
    await Promise.all([a.start(), b.start()]);
    const got: ReceivedFrame[] = [];
    b.onFrame((f) => got.push(f));
    for (let i = 0; i < 40; i++) await a.send(Uint8Array.of(i, 0xaa), Priority.Sync);
    // A bound on waiting, not on speed. Three loaded CI runs stopped at 31 of 40 frames, all distinct, and
    // stayed there (100 s in the last): a stall under CPU starvation, not slowness, cause not yet found
    // (docs/testing.md). Quiet, all 40 arrive within seconds. Should it stall again, the message says where
    // the missing frames are: still in the link, at radio A, or delivered to someone other than b.
    const where = () => {
      const ra = rig?.radios[0]?.stats;
      const rb = rig?.radios[1]?.stats;
      return `40 frames (${got.length} so far, ids ${got.map((f) => f.bytes[0]).join(",")}); link A waiting ${a.queuedFrames}, free ${a.radioFreeSlots}, sent ${a.stats.framesSent}, ${JSON.stringify(a.linkStats)}; radio A accepted ${ra?.accepted}, queue refusals ${ra?.refusedQueueFull}; radio B delivered ${rb?.delivered}; link B ${JSON.stringify(b.linkStats)}, received ${b.stats.framesReceived}, duplicates ${b.stats.duplicates}`;
    };
    await waitFor(() => got.length === 40, 100_000, where);
    expect(rig.radios[0]?.stats.refusedQueueFull).toBe(0);
    expect(a.linkStats.radioQueueFullWaits).toBeGreaterThan(0);
    expect(new Set(got.map((f) => f.bytes[0])).size).toBe(40);
  }, 120_000);

  it("pauses on DUTY_CYCLE_LIMIT and sends the refused frame again later, none early and none lost", async () => {
    const clock = new ManualClock(5_000_000);
    // 0.36 s of airtime an hour: one LONG_SLOW packet spends it.
    const links = await dutyCycleLinks(clock, use, cleanups);
    rig = links.rig;
    const { rec, a, got } = links;
    const radio = links.rig.radios[0];
    await a.send(Uint8Array.of(1), Priority.Consensus);
    // The firmware counts a frame's airtime once it has been sent: the second is refused after that.
    await advanceUntil(clock, 100, () => got.length === 1, 60_000, "the first frame");
    await a.send(Uint8Array.of(2), Priority.Consensus);
    await advanceUntil(clock, 100, () => radio?.stats.refusedDutyCycle === 1, 60_000, "the refusal");
    const refusedAt = clock.now();
    await advanceUntil(clock, 5_000, () => got.length === 2, 2 * 3_600_000, "both frames");
    const acceptedTimes = [...(radio?.stats.acceptedAt.values() ?? [])];
    expect(acceptedTimes).toHaveLength(2);
    // Each refusal started a pause; nothing was offered again before it ran out.
    expect(a.linkStats.dutyCyclePauses).toBe(radio?.stats.refusedDutyCycle);
    expect((acceptedTimes[1] as number) - refusedAt).toBeGreaterThanOrEqual(60_000);
    expect(got.map((f) => [...f.bytes])).toEqual([[1], [2]]);
    expect(rec.lines.some((l) => l.includes("DUTY_CYCLE_LIMIT"))).toBe(true);
  });

  it("holds the airtime scheduler while the radio refuses, so a long refusal loses nothing", async () => {
    const clock = new ManualClock(7_000_000);
    // About one LONG_SLOW packet an hour; the transport itself holds at most 2 frames.
    rig = use(await radioRig(2, { clock, preset: "LONG_SLOW", radio: () => ({ dutyCycle: 0.0003 }) }));
    const inner = streamTransport(rig.urls[0] as string, { dutyCyclePauseMs: 60_000, queueLimit: 2 }, clock);
    const b = streamTransport(rig.urls[1] as string, {}, clock);
    const scheduler = new AirtimeScheduler(inner, () => 1, { ...DEFAULT_AIRTIME_POLICY, dutyCycle: 1, budgetSecondsPerHour: 3_600 }, clock);
    cleanups.push(() => scheduler.stop(), () => b.stop());
    await Promise.all([scheduler.start(), b.start()]);
    const got: ReceivedFrame[] = [];
    b.onFrame((f) => got.push(f));
    // The radio counts a frame's airtime once sent (as the firmware does): the rest come after the first.
    await scheduler.send(Uint8Array.of(0), Priority.Transaction);
    await advanceUntil(clock, 1_000, () => got.length === 1, 60_000, "the first frame");
    for (let i = 1; i < 6; i++) await scheduler.send(Uint8Array.of(i), Priority.Transaction);
    await advanceUntil(clock, 10_000, () => got.length === 6, 10 * 3_600_000, "all six frames");
    expect(got.map((f) => f.bytes[0]).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rig.radios[0]?.stats.refusedDutyCycle).toBeGreaterThan(0);
    expect(scheduler.airtimeStats.droppedForBudget).toBe(0);
  });

  it("keeps the link alive past 15 minutes with heartbeats, and reconnects when dropped for silence", async () => {
    const clock = new ManualClock(9_000_000);
    rig = use(await radioRig(1, { clock }));
    const alive = streamTransport(rig.urls[0] as string, { heartbeatIntervalMs: 60_000 }, clock);
    cleanups.push(() => alive.stop());
    await alive.start();
    await advanceUntil(clock, 30_000, () => clock.now() >= 9_000_000 + 20 * 60_000, 21 * 60_000, "20 minutes");
    expect(rig.radios[0]?.stats.timeouts).toBe(0);
    expect(alive.linkStats.connects).toBe(1);
    await alive.stop();
    const rec = logRecorder();
    const mute = streamTransport(rig.urls[0] as string, { heartbeatIntervalMs: 3_600_000 }, clock, rec.log);
    cleanups.push(() => mute.stop());
    await mute.start();
    await advanceUntil(clock, 30_000, () => mute.linkStats.connects === 2, 20 * 60_000, "the reconnect");
    expect(rig.radios[0]?.stats.timeouts).toBe(1);
    expect(rec.lines.some((l) => l.startsWith("warn: radio link lost"))).toBe(true);
  });

  it("refuses for good what the radio cannot carry (NO_CHANNEL), and says what to check", async () => {
    rig = use(await radioRig(1));
    const rec = logRecorder();
    const t = streamTransport(rig.urls[0] as string, { channelIndex: 3 }, undefined, rec.log);
    cleanups.push(() => t.stop());
    await t.start();
    expect(rec.lines.some((l) => l.includes("channel 3 MISSING"))).toBe(true);
    await t.send(Uint8Array.of(1), Priority.Control);
    await waitFor(() => t.linkStats.refusedByRadio === 1, 5_000, "the refusal");
    expect(t.stats.framesSent).toBe(0);
    expect(t.queuedFrames).toBe(0);
    expect(rec.lines.some((l) => l.includes("NO_CHANNEL") && l.includes("radio check"))).toBe(true);
  });
});
