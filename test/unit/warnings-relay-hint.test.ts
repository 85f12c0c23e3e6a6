import { describe, expect, it } from "vitest";
import { nodeWarnings, type WarningInputs } from "../../src/node/warnings.js";

/** A validator whose chain has not finalized for 30 slots, transactions waiting in blocks above it. */
const STALLED: WarningInputs = {
  role: "validator", validators: 7, sync: { state: "synced", percent: 100, etaSeconds: 0, targetHeight: 31 }, peers: 8, networked: true,
  height: 31, finalizedHeight: 13, finalizedAgeSeconds: 30 * 150, slotSeconds: 150, heartbeatSlots: 120, mempoolTransactions: 40, unfinalizedTransactions: true,
  ipLink: null, radio: { state: "connected", lastError: null, lastHourAirtimeSeconds: 60, budgetSecondsPerHour: 180, dutyCyclePause: null }, disk: null,
  votes: [], headSlot: 100, peerClockOffsetMs: null,
};
const reason = (i: WarningInputs) => nodeWarnings(i).find((w) => w.code === "NOT_FINALIZING")?.reason ?? null;

describe("NOT_FINALIZING on the air: the node cannot see a relay's duty cycle, only that its own radio is fine", () => {
  it("says a relay between the validators may have spent its hour when this radio is connected and not held", () => {
    expect(reason(STALLED)).toContain("a radio relaying between the validators may have spent its hour");
  });

  it("says nothing of relays when this radio is itself held for its duty cycle (RADIO_DUTY_CYCLE says why), is down, or there is none", () => {
    const held = nodeWarnings({ ...STALLED, radio: { ...STALLED.radio!, dutyCyclePause: { heldFrames: 3, secondsLeft: 600 } } });
    expect(held.map((w) => w.code)).toEqual(["NOT_FINALIZING", "RADIO_DUTY_CYCLE"]);
    expect(held[0]?.reason).not.toContain("relaying");
    expect(reason({ ...STALLED, radio: { ...STALLED.radio!, state: "reconnecting" } })).not.toContain("relaying");
    expect(reason({ ...STALLED, radio: null })).not.toContain("relaying");
  });
});
