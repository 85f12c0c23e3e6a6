import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { meshtasticFrameAirtimeMs } from "../../src/mesh/airtime/airtime.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY } from "../../src/mesh/airtime/scheduler.js";
import { TransportError } from "../../src/mesh/errors.js";
import { Priority } from "../../src/mesh/transport.js";
import { RecordingTransport } from "../fixtures/recording-transport.js";
import { seededRandom } from "../fixtures/random.js";

const HOUR = 3_600_000;
const cost = (f: Uint8Array) => meshtasticFrameAirtimeMs(PRESETS.LONG_FAST, f.length);

/** A frame that names itself: [class, serial hi, serial lo, padding…]. */
const frameOf = (priority: number, serial: number, size: number) => Uint8Array.from({ length: size }, (_, i) => (i === 0 ? priority : i === 1 ? serial >> 8 : i === 2 ? serial & 0xff : 0));

describe("airtime scheduler", () => {
  it("holds the budget, the duty cycle and the control cap exactly under a flood, most urgent first", async () => {
    const clock = new ManualClock(0);
    const sink = new RecordingTransport(231, 1, clock);
    const policy = { ...DEFAULT_AIRTIME_POLICY, budgetSecondsPerHour: 300, burstSeconds: 60, dutyCycle: 0.1, controlShare: 0.02, queueLimitPerClass: 40 };
    const scheduler = new AirtimeScheduler(sink, cost, policy, clock);
    const random = seededRandom(7);
    const enqueued = new Map<string, number>();
    let serial = 0;
    let refused = 0;
    // Offer far more than the budget in every class, at random times, for 4 virtual hours.
    for (let t = 0; t < 4 * HOUR; t += 1_000) {
      for (let priority = 0; priority < 4; priority++) {
        if (random() < 0.1) {
          const frame = frameOf(priority, serial++ & 0xffff, 20 + Math.floor(random() * 200));
          try {
            await scheduler.send(frame, priority);
            enqueued.set(Buffer.from(frame).toString("hex"), clock.now());
          } catch (e) {
            expect(e).toBeInstanceOf(TransportError);
            refused++;
          }
        }
      }
      clock.advance(1_000);
    }
    const sent = sink.sent.map((s) => ({ ...s, cost: cost(s.frame) }));
    expect(refused).toBeGreaterThan(0);
    // Duty cycle: no rolling hour holds more than 10% airtime. Token bucket: no window of length T
    // holds more than burst + rate·T. Control: at most 2% of the budget per rolling hour. Every
    // window is checked; the breaches are collected and asserted once (an expect per window, about a
    // million of them, cost seconds).
    const breaches: string[] = [];
    for (let i = 0; i < sent.length; i++) {
      const start = sent[i]!.at;
      let total = 0;
      let control = 0;
      for (let j = i; j < sent.length && sent[j]!.at < start + HOUR; j++) {
        total += sent[j]!.cost;
        if (sent[j]!.priority === Priority.Control) control += sent[j]!.cost;
        const window = sent[j]!.at - start + sent[j]!.cost;
        const bucket = policy.burstSeconds * 1000 + (policy.budgetSecondsPerHour * 1000 * window) / HOUR + 1e-6;
        if (total > bucket) breaches.push(`bucket: ${total} ms in the ${window} ms from ${start}, over ${bucket}`);
      }
      if (total > policy.dutyCycle * HOUR + 1e-6) breaches.push(`duty cycle: ${total} ms in the hour from ${start}`);
      if (control > policy.controlShare * policy.budgetSecondsPerHour * 1000 + 1e-6) breaches.push(`control: ${control} ms in the hour from ${start}`);
    }
    expect(breaches).toEqual([]);
    // Half-duplex: transmissions never overlap.
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at).toBeGreaterThanOrEqual(sent[i - 1]!.at + sent[i - 1]!.cost - 1e-6);
    // The budget is used, not wasted: close to burst + 4 hours of refill.
    const spent = sent.reduce((a, s) => a + s.cost, 0);
    expect(spent).toBeGreaterThan(0.95 * (policy.burstSeconds * 1000 + 4 * policy.budgetSecondsPerHour * 1000));
    // Most urgent first: when a frame left, no more urgent frame had been waiting.
    const sentAt = new Map(sent.map((s) => [Buffer.from(s.frame).toString("hex"), s.at]));
    const queued = [...enqueued].map(([id, queuedAt]) => ({ priority: Number.parseInt(id.slice(0, 2), 16), queuedAt, left: sentAt.get(id) }));
    for (const s of sent) {
      for (const q of queued) {
        if (q.priority >= s.priority || q.queuedAt > s.at) continue;
        if (q.left === undefined || q.left > s.at) expect.unreachable(`class ${q.priority} frame queued at ${q.queuedAt} waited while class ${s.priority} left at ${s.at}`);
      }
    }
    const stats = scheduler.airtimeStats;
    expect(stats.airtimeMsByClass.Consensus).toBeGreaterThan(stats.airtimeMsByClass.Sync);
    expect(stats.airtimeMsByClass.Control).toBeLessThanOrEqual(4 * policy.controlShare * policy.budgetSecondsPerHour * 1000 + 1e-6);
  });

  it("drops frames that waited past their usefulness, and refuses when a queue is full", async () => {
    const clock = new ManualClock(0);
    const sink = new RecordingTransport(231, 1, clock);
    const scheduler = new AirtimeScheduler(sink, cost, { ...DEFAULT_AIRTIME_POLICY, budgetSecondsPerHour: 10, burstSeconds: 3, queueLimitPerClass: 5, maxQueueDelayMs: 60_000 }, clock);
    // The first frame leaves at once on the burst allowance; the next five fill the queue.
    for (let i = 0; i < 6; i++) await scheduler.send(frameOf(2, i, 200), Priority.Sync);
    expect(sink.sent).toHaveLength(1);
    expect(scheduler.airtimeStats.queueDepth).toBe(5);
    await expect(scheduler.send(frameOf(2, 9, 200), Priority.Sync)).rejects.toMatchObject({ code: "QUEUE_FULL" });
    await scheduler.send(frameOf(0, 1, 50), Priority.Consensus);
    clock.advance(10 * 60_000);
    expect(scheduler.airtimeStats.droppedForBudget).toBeGreaterThan(0);
    expect(scheduler.airtimeStats.queueDepth).toBe(0);
    expect(sink.sent.some((s) => s.priority === Priority.Consensus)).toBe(true);
  });

  it("refuses frames over the MTU", async () => {
    const clock = new ManualClock(0);
    const scheduler = new AirtimeScheduler(new RecordingTransport(231, 1, clock), cost, DEFAULT_AIRTIME_POLICY, clock);
    await expect(scheduler.send(new Uint8Array(232), Priority.Sync)).rejects.toMatchObject({ code: "FRAME_TOO_LARGE" });
  });
});
