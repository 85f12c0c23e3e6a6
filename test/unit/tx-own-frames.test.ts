import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { summarise } from "../../src/devnet/common.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { type AirPacket, DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { seededRandom } from "../fixtures/random.js";

// The overhead ratio's denominator (issue 20): a transaction's own frame is its first packet on air
// and the mesh's relays of that packet; any later copy is overhead, whoever sends it.

/** Radios 1 - 2 - 3 in a line: 2 relays what 1 and 3 send, and nobody else hears both ends. */
function line() {
  const clock = new ManualClock(0);
  const ch = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(7) }, clock);
  const radios = [1, 2, 3].map((id) => ch.addRadio(id));
  ch.link(1, 2);
  ch.link(2, 3);
  return { clock, ch, radios };
}

const txBody = new Uint8Array(120).map((_, i) => i);
/** The same transaction under a sender's message id: what a re-announcement puts on air. */
const txFrame = (messageId: number, body = txBody) => encodeFrame({ type: MessageType.Transaction, messageId, fragment: null, payload: body });
let nextId = 1;
const packet = (from: number, payload: Uint8Array, hopLimit = 3): AirPacket => ({ from, id: nextId++, hopLimit, hopStart: hopLimit, portnum: 256, payload });

describe("a transaction's own frames", () => {
  it("counts the first packet and the mesh's relays of it as the transaction's own", () => {
    const { clock, ch, radios } = line();
    radios[0]!.send(packet(1, txFrame(1)));
    clock.advance(60_000);
    const r = ch.report();
    // The origin's packet and both relays of it (radio 3 has hop limit left, though no one new to tell).
    expect(radios.map((x) => x.stats.transmissions)).toEqual([1, 1, 1]);
    expect(r.airtimeMsByClass.tx).toBeGreaterThan(0);
    expect(r.txResentAirtimeMs).toBe(0);
    const s = summarise(r, []);
    expect(s.airtimeSeconds.txOwn).toBe(s.airtimeSeconds.tx);
    expect(s.overheadRatio).toBe(1);
  });

  it("counts a re-send by the origin, under a new message id, and its relays as overhead", () => {
    const { clock, ch, radios } = line();
    radios[0]!.send(packet(1, txFrame(1)));
    clock.advance(60_000);
    const ownMs = ch.report().airtimeMsByClass.tx;
    radios[0]!.send(packet(1, txFrame(2)));
    clock.advance(60_000);
    const r = ch.report();
    expect(r.txResentAirtimeMs).toBeCloseTo(r.airtimeMsByClass.tx - ownMs, 6);
    expect(r.txResentAirtimeMs).toBeCloseTo(ownMs, 6);
    expect(summarise(r, []).overheadRatio).toBe(2);
  });

  it("counts another node's copy of the transaction as overhead", () => {
    const { clock, ch, radios } = line();
    radios[0]!.send(packet(1, txFrame(1)));
    clock.advance(60_000);
    const ownMs = ch.report().airtimeMsByClass.tx;
    radios[2]!.send(packet(3, txFrame(40)));
    clock.advance(60_000);
    // The copy, and the relays of it by radios 2 and 1, are overhead.
    for (const r of radios) expect(r.stats.txResentAirtimeMs).toBeGreaterThan(0);
    const r = ch.report();
    expect(r.airtimeMsByClass.tx - r.txResentAirtimeMs).toBeCloseTo(ownMs, 6);
  });

  it("keeps distinct transactions apart, and never counts a frame that is not a transaction as own", () => {
    const { clock, ch, radios } = line();
    radios[0]!.send(packet(1, txFrame(1)));
    radios[2]!.send(packet(3, txFrame(1, txBody.map((b) => b ^ 0xff))));
    clock.advance(60_000);
    expect(ch.report().txResentAirtimeMs).toBe(0);
    const txMs = ch.report().airtimeMsByClass.tx;
    radios[0]!.send(packet(1, encodeFrame({ type: MessageType.Block, messageId: 3, fragment: null, payload: txBody })));
    // Another application's packet with the bytes of a transaction frame is not ours.
    radios[2]!.send({ ...packet(3, txFrame(9)), portnum: 1 });
    clock.advance(60_000);
    const r = ch.report();
    expect(r.txResentAirtimeMs).toBe(0);
    expect(r.airtimeMsByClass.tx).toBe(txMs);
    const s = summarise(r, []);
    expect(s.airtimeSeconds.txOwn).toBeCloseTo(txMs / 1000, 2);
    expect(s.overheadRatio).toBeGreaterThan(1.5);
  });
});
