import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel, PERIOD_MS } from "../../src/mesh/sim/channel.js";
import { seededRandom } from "../fixtures/random.js";

const frame = (type: MessageType) => encodeFrame({ type, messageId: 1, fragment: null, payload: new Uint8Array(60) });

describe("a simulated radio's airtime per period, its own frames apart from its relays", () => {
  it("books each transmission by type into the period it began in, own or relayed", () => {
    const clock = new ManualClock(1_000_000);
    const ch = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random: seededRandom(2) }, clock);
    const a = ch.addRadio(1, { position: { x: 0, y: 0 } });
    const b = ch.addRadio(2, { position: { x: 3_000, y: 0 } });
    ch.addRadio(3, { position: { x: 6_000, y: 0 } });
    a.send({ from: 1, id: 1, hopLimit: 1, hopStart: 1, portnum: 256, payload: frame(MessageType.Transaction) });
    clock.advance(60_000);
    clock.advance(PERIOD_MS);
    b.send({ from: 2, id: 1, hopLimit: 0, hopStart: 0, portnum: 256, payload: frame(MessageType.Vote) });
    clock.advance(60_000);
    const air = ch.airtimeOf({ from: 1, id: 1, hopLimit: 0, hopStart: 0, portnum: 256, payload: frame(MessageType.Transaction) });
    expect(a.stats.airtimeMsByPeriod[0]).toEqual({ own: { Transaction: air }, relayed: {} });
    // Radio 2 relayed radio 1's transaction in the first period and sent its own vote in the second.
    expect(b.stats.airtimeMsByPeriod[0]).toEqual({ own: {}, relayed: { Transaction: air } });
    expect(b.stats.airtimeMsByPeriod[1]?.own.Vote).toBeGreaterThan(0);
    expect(b.stats.airtimeMsByPeriod[1]?.relayed).toEqual({});
    // The split adds up to the totals by type.
    const sum = (r: typeof b) => r.stats.airtimeMsByPeriod.reduce((n, p) => n + Object.values(p.own).reduce((x, y) => x + y, 0) + Object.values(p.relayed).reduce((x, y) => x + y, 0), 0);
    expect(sum(b)).toBeCloseTo(b.stats.txAirtimeMs, 6);
  });
});
