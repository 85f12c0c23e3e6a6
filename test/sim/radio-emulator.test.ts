import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { encodeEnvelope } from "../../src/mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel, type SimRadio } from "../../src/mesh/sim/channel.js";
import { EmulatedRadio } from "../../src/mesh/sim/radio-emulator.js";
import { Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { MeshtasticMqttTransport } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { systemClock } from "../../src/node/clock.js";
import { embeddedBroker, type TestBroker } from "../fixtures/brokers.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";

const CHANNEL = channelKey("Village", new Uint8Array(16).fill(7));
const NODE_A = 0x0a00_0001;
const NODE_B = 0x0b00_0001;
const RADIO_1 = 0x1100_0001;
const RADIO_2 = 0x2200_0002;

function counter(start: number) {
  let n = start;
  return { take: () => n++ };
}

/**
 * node A → broker 1 → radio 1 → simulated air → radio 2 → broker 2 → node B, and back. Two brokers,
 * as on two Pis, so nothing can reach B except over the air.
 */
describe("end to end through emulated radios and simulated LoRa", () => {
  let broker1: TestBroker;
  let broker2: TestBroker;
  let air: LoraChannel;
  let r1: SimRadio;
  /** Packet ids radio 2 heard on the air. */
  const heardOnAir = new Set<number>();
  let radio1: EmulatedRadio;
  let radio2: EmulatedRadio;
  let nodeA: MeshtasticMqttTransport;
  let nodeB: MeshtasticMqttTransport;
  const atA: ReceivedFrame[] = [];
  const atB: ReceivedFrame[] = [];

  beforeAll(async () => {
    [broker1, broker2] = await Promise.all([embeddedBroker(), embeddedBroker()]);
    air = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.SHORT_TURBO, random: seededRandom(3) }, systemClock);
    r1 = air.addRadio(RADIO_1, { position: { x: 0, y: 0 } });
    const r2 = air.addRadio(RADIO_2, { position: { x: 2_000, y: 0 } });
    r2.onReceive((p) => heardOnAir.add(p.id));
    const deps = (seed: number) => ({ clock: systemClock, random: seededRandom(seed) });
    radio1 = new EmulatedRadio({ link: { url: broker1.url, clientId: "radio1" }, region: "EU_868", channel: CHANNEL, nodeNumber: RADIO_1 }, r1, deps(1));
    radio2 = new EmulatedRadio({ link: { url: broker2.url, clientId: "radio2" }, region: "EU_868", channel: CHANNEL, nodeNumber: RADIO_2 }, r2, deps(2));
    const node = (url: string, nodeNumber: number, seed: number) =>
      new MeshtasticMqttTransport({ link: { url, clientId: `node-${nodeNumber}` }, region: "EU_868", channel: CHANNEL, portnum: 256, hopLimit: 3, nodeNumber, packetIds: counter(100) }, deps(seed));
    nodeA = node(broker1.url, NODE_A, 3);
    nodeB = node(broker2.url, NODE_B, 4);
    nodeA.onFrame((f) => atA.push(f));
    nodeB.onFrame((f) => atB.push(f));
    await Promise.all([radio1.start(), radio2.start(), nodeA.start(), nodeB.start()]);
  });

  afterAll(async () => {
    await Promise.all([nodeA.stop(), nodeB.stop(), radio1.stop(), radio2.stop()]);
    await Promise.all([broker1.close(), broker2.close()]);
  });

  it("carries frames both ways, with the original sender and hops away", async () => {
    await nodeA.send(Uint8Array.of(0x41, 0, 1, 7, 7), Priority.Transaction);
    await waitFor(() => atB.length === 1, 10_000, "A's frame at B");
    expect(atB[0]).toMatchObject({ from: NODE_A, hopsAway: 0, viaRadio: true });
    expect([...atB[0]!.bytes]).toEqual([0x41, 0, 1, 7, 7]);
    await nodeB.send(Uint8Array.of(0x41, 0, 2, 9), Priority.Transaction);
    await waitFor(() => atA.length === 1, 10_000, "B's frame at A");
    expect(atA[0]!.from).toBe(NODE_B);
    // Nothing loops: each radio put exactly one packet of ours on air and echoed none back.
    await new Promise((r) => setTimeout(r, 300));
    expect(atB).toHaveLength(1);
    expect(atA).toHaveLength(1);
    expect(radio1.stats.fromItself + radio2.stats.fromItself).toBeGreaterThan(0);
  });

  /** Publish an envelope to broker 1 as some client would, and report whether radio 1 put it on air. */
  let nextId = 0x7000;
  async function offered(build: (id: number) => { bytes: Uint8Array; gateway?: number }, expectId?: number): Promise<boolean> {
    const id = nextId++;
    const { bytes, gateway } = build(id);
    const c = await mqtt.connectAsync(broker1.url, { reconnectPeriod: 0 });
    await c.publishAsync(`msh/EU_868/2/e/Village/!${(gateway ?? 0x33).toString(16).padStart(8, "0")}`, Buffer.from(bytes));
    await c.endAsync();
    await new Promise((r) => setTimeout(r, 150));
    return heardOnAir.has(expectId ?? id);
  }

  const envelope = (id: number, over: { from?: number; hopLimit?: number; channel?: typeof CHANNEL; gateway?: number } = {}) =>
    encodeEnvelope({ from: over.from ?? 0x55, to: 0xffffffff, id, hopLimit: over.hopLimit ?? 3, hopStart: 3 }, { portnum: 256, payload: Uint8Array.of(0x41, 0, 3), bitfield: 1, wantResponse: false }, over.channel ?? CHANNEL, over.gateway ?? 0x33);

  it("takes a well-formed downlink onto the air", async () => {
    expect(await offered((id) => ({ bytes: envelope(id) }))).toBe(true);
  });

  it("refuses another channel's name", async () => {
    const other = { ...CHANNEL, name: "Other" };
    expect(await offered((id) => ({ bytes: envelope(id, { channel: other }) }))).toBe(false);
    expect(radio1.stats.otherChannel).toBeGreaterThan(0);
  });

  it("refuses a packet that does not decrypt with its key, or whose hash is not its channel's", async () => {
    expect(await offered((id) => ({ bytes: envelope(id, { channel: channelKey("Village", new Uint8Array(16).fill(8)) }) }))).toBe(false);
    expect(await offered((id) => ({ bytes: envelope(id, { channel: { ...CHANNEL, hash: (CHANNEL.hash + 1) & 0xff } }) }))).toBe(false);
    expect(radio1.stats.undecryptable).toBeGreaterThanOrEqual(2);
  });

  it("refuses its own gateway id and its own node number as sender", async () => {
    expect(await offered((id) => ({ bytes: envelope(id, { gateway: RADIO_1 }), gateway: RADIO_1 }))).toBe(false);
    expect(await offered((id) => ({ bytes: envelope(id, { from: RADIO_1 }) }))).toBe(false);
    expect(radio1.stats.fromItself).toBeGreaterThanOrEqual(2);
  });

  it("refuses a (from, id) it has seen", async () => {
    let first: Uint8Array | null = null;
    let firstId = 0;
    expect(await offered((id) => ({ bytes: (first = envelope((firstId = id), { from: 0x66 })) }))).toBe(true);
    // Radio 2 would drop a repeat itself, so judge by what radio 1 took from MQTT.
    const downlinked = radio1.stats.downlinked;
    await offered(() => ({ bytes: first! }), firstId);
    expect(radio1.stats.downlinked).toBe(downlinked);
    expect(radio1.stats.duplicate).toBeGreaterThan(0);
  });

  it("refuses a packet with no hops left", async () => {
    expect(await offered((id) => ({ bytes: envelope(id, { hopLimit: 0 }) }))).toBe(false);
    expect(radio1.stats.noHopsLeft).toBeGreaterThan(0);
  });

  it("counts a broken envelope and carries on", async () => {
    expect(await offered(() => ({ bytes: Uint8Array.of(1, 2, 3) }))).toBe(false);
    expect(radio1.stats.malformed).toBeGreaterThan(0);
  });
});
