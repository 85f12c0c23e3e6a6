import { describe, expect, it } from "vitest";
import { meshtasticFrameAirtimeMs } from "../../src/mesh/airtime/airtime.js";
import { controlRates, helloMinIntervalMs, helloSpreadMs, StatusSuppression, statusRoundAirtimeMs } from "../../src/mesh/airtime/control-rates.js";
import { PRESET_NAMES, PRESETS } from "../../src/mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../../src/mesh/airtime/scheduler.js";

const HOUR = 3_600_000;

describe("control rates from the preset and the slot", () => {
  it("keeps one node's status rounds (hello + chain status, flooded) within half of control's share of its budget", () => {
    for (const name of PRESET_NAMES) {
      for (const slotMs of [5_000, 30_000, 180_000]) {
        const r = controlRates(PRESETS[name], slotMs);
        const roundMs = 2 * (meshtasticFrameAirtimeMs(PRESETS[name], 127) + meshtasticFrameAirtimeMs(PRESETS[name], 75));
        expect(statusRoundAirtimeMs(PRESETS[name])).toBeCloseTo(roundMs, 6);
        const perHourMs = (HOUR / r.statusIntervalMs) * roundMs;
        const budgetMs = DEFAULT_AIRTIME_POLICY.budgetSecondsPerHour * 1000 * DEFAULT_AIRTIME_POLICY.controlShare;
        // Capped at three hours (peers forget a node silent for eight): only the slowest presets hit the cap.
        if (r.statusIntervalMs < 3 * HOUR) expect(perHourMs).toBeLessThanOrEqual(budgetMs / 2 + 1e-6);
        expect(r.statusIntervalMs % slotMs === 0 || r.statusIntervalMs === 3 * HOUR).toBe(true);
        expect(r.statusIntervalMs).toBeGreaterThanOrEqual(Math.min(6 * slotMs, 3 * HOUR));
        expect(r.maxStatusSilenceMs).toBeGreaterThanOrEqual(r.statusIntervalMs);
      }
    }
  });

  it("gives LongFast with 3-minute slots a round every 53 slots, and ShortFast far more often", () => {
    expect(controlRates(PRESETS.LONG_FAST, 180_000).statusIntervalMs).toBe(53 * 180_000);
    expect(controlRates(PRESETS.SHORT_FAST, 20_000).statusIntervalMs).toBeLessThan(15 * 60_000);
  });

  it("spaces hellos by their airtime, never closer than a minute", () => {
    expect(helloMinIntervalMs(PRESETS.LONG_FAST)).toBeGreaterThan(40 * 60_000);
    expect(helloMinIntervalMs(PRESETS.SHORT_TURBO)).toBe(Math.max(60_000, helloMinIntervalMs(PRESETS.SHORT_TURBO)));
    expect(helloMinIntervalMs(PRESETS.SHORT_TURBO, { budgetSecondsPerHour: 3_600, controlShare: 0.02 })).toBe(60_000);
  });

  it("spreads hellos at start over a hundred hellos' airtime, at least 10 s", () => {
    expect(helloSpreadMs(PRESETS.LONG_FAST)).toBe(Math.ceil(100 * meshtasticFrameAirtimeMs(PRESETS.LONG_FAST, 127)));
    expect(helloSpreadMs(PRESETS.SHORT_TURBO)).toBe(10_000);
  });

  it("refuses a nonsensical slot or budget", () => {
    expect(() => controlRates(PRESETS.LONG_FAST, 0)).toThrow(RangeError);
    expect(() => controlRates(PRESETS.LONG_FAST, 30_000, { budgetSecondsPerHour: 0, controlShare: 0.02 })).toThrow(RangeError);
  });
});

describe("status suppression", () => {
  const rates = { statusIntervalMs: 1_000, maxStatusSilenceMs: 5_000, helloMinIntervalMs: 60_000 };

  it("spreads the first round over the first interval and jitters the next ones by ±25%", () => {
    const gate = new StatusSuppression(rates, () => 0.5, 0);
    expect(gate.msUntilDue(0)).toBe(500);
    expect(gate.shouldSend(499)).toBe(false);
    expect(gate.shouldSend(500)).toBe(true);
    expect(gate.msUntilDue(500)).toBe(1_000);
    const early = new StatusSuppression(rates, () => 0, 0);
    expect(early.shouldSend(0)).toBe(true);
    expect(early.msUntilDue(0)).toBe(750);
  });

  it("waits one to one and a quarter intervals before the first round of a node that has just said hello", () => {
    expect(new StatusSuppression(rates, () => 0, 0, "after-interval").msUntilDue(0)).toBe(1_000);
    expect(new StatusSuppression(rates, () => 0.5, 0, "after-interval").msUntilDue(0)).toBe(1_125);
    expect(new StatusSuppression(rates, () => 0.999, 0, "after-interval").shouldSend(1_248)).toBe(false);
  });

  it("skips a round when a peer's status said the same, but never stays silent past the longest silence", () => {
    const gate = new StatusSuppression(rates, () => 0, 0);
    expect(gate.shouldSend(0)).toBe(true);
    let now = 0;
    const decisions: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      gate.heard(true);
      now += gate.msUntilDue(now);
      decisions.push(gate.shouldSend(now));
    }
    // Rounds every 750 ms, all echoed: silent until 5 s have passed since the last one sent.
    expect(decisions.filter(Boolean).length).toBe(1);
    expect(decisions.indexOf(true)).toBe(6);
    expect(gate.suppressed).toBe(9);
  });

  it("speaks when what it heard differed from what it would say", () => {
    const gate = new StatusSuppression(rates, () => 0, 0);
    gate.shouldSend(0);
    gate.heard(false);
    expect(gate.shouldSend(750)).toBe(true);
  });
});
