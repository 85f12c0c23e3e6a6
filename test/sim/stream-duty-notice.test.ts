import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { Priority } from "../../src/mesh/transport.js";
import { advanceUntil, dutyCycleLinks, rigPerTest } from "../fixtures/stream-radios.js";

const { cleanups, use } = rigPerTest();

describe("meshtastic-stream transport and the firmware's duty-cycle notification", () => {
  it("pauses on the notification no longer than it says nor than the backoff's step, then offers the refused frame again and loses none", async () => {
    const clock = new ManualClock(5_000_000);
    // 0.36 s of airtime an hour: one LONG_SLOW packet spends it.
    const { rig, rec, a, got } = await dutyCycleLinks(clock, use, cleanups);
    await a.send(Uint8Array.of(1), Priority.Consensus);
    await advanceUntil(clock, 100, () => got.length === 1, 60_000, "the first frame");
    await a.send(Uint8Array.of(2), Priority.Consensus);
    await advanceUntil(clock, 100, () => a.dutyCyclePause !== null, 60_000, "the pause");
    const notice = rec.lines.find((l) => l.includes("You can send again in"));
    const minutes = Number(/in (\d+) mins/.exec(notice ?? "")?.[1]);
    expect(minutes).toBeGreaterThan(1);
    const pause = a.dutyCyclePause;
    const firstAcceptedAt = [...(rig.radios[0]?.stats.acceptedAt.values() ?? [])][0] as number;
    expect(pause?.heldFrames).toBe(1);
    // The radio said more than a minute, the backoff's first step is one: the shorter holds (the
    // firmware's figure can be far too long), within the step the test's clock took.
    expect(pause!.untilMs - clock.now()).toBeLessThanOrEqual(60_000);
    expect(pause!.untilMs - clock.now()).toBeGreaterThan(0);
    await advanceUntil(clock, 5_000, () => got.length === 2, 2 * 3_600_000, "both frames");
    const accepted = [...(rig.radios[0]?.stats.acceptedAt.values() ?? [])];
    // Offered again after each step (1, 2, 4 … minutes) until the radio takes it: never lost.
    expect(rig.radios[0]?.stats.refusedDutyCycle).toBeGreaterThanOrEqual(1);
    expect(a.linkStats.dutyCyclePauses).toBe(rig.radios[0]?.stats.refusedDutyCycle);
    expect((accepted[1] as number) - firstAcceptedAt).toBeGreaterThanOrEqual((minutes - 1) * 60_000);
  });
});
