import { describe, expect, it } from "vitest";
import { nodeWarnings, type WarningInputs } from "../../src/node/warnings.js";

/** A healthy validator of a three-validator chain with a radio: no warning. */
const healthy: WarningInputs = {
  role: "validator", validators: 3, sync: { state: "synced", percent: 100, etaSeconds: 0, targetHeight: 50 }, peers: 2, networked: true,
  height: 50, finalizedHeight: 50, finalizedAgeSeconds: 30, slotSeconds: 30, heartbeatSlots: 60, mempoolTransactions: 0, unfinalizedTransactions: false,
  ipLink: { state: "connected", lastError: null }, radio: { state: "connected", lastError: null, lastHourAirtimeSeconds: 20, budgetSecondsPerHour: 180 },
  disk: { freeBytes: 20e9, totalBytes: 32e9 },
  votes: [{ validator: "mca", lastVoteSlot: 100 }, { validator: "mcb", lastVoteSlot: 100 }, { validator: "mcc", lastVoteSlot: 99 }], headSlot: 100, peerClockOffsetMs: 400,
};
const codes = (i: Partial<WarningInputs>) => nodeWarnings({ ...healthy, ...i }).map((w) => w.code);
const reason = (i: Partial<WarningInputs>) => nodeWarnings({ ...healthy, ...i }).map((w) => w.reason).join(" | ");

describe("node warnings", () => {
  it("says nothing about a healthy node", () => {
    expect(nodeWarnings(healthy)).toEqual([]);
  });

  it("explains why the node is not ready, by sync state", () => {
    expect(reason({ sync: { state: "syncing", percent: 42.5, etaSeconds: 120, targetHeight: 900 } })).toBe("syncing: 42.5% of the way to height 900, about 120 s to go");
    expect(codes({ sync: { state: "behind", percent: 10, etaSeconds: null, targetHeight: 900 } })).toEqual(["NOT_READY"]);
    expect(reason({ sync: { state: "idle", percent: 100, etaSeconds: null, targetHeight: 0 } })).toContain("no peer has announced");
  });

  it("warns of no peers, except for a lone validator (it is the chain) or a node without network", () => {
    expect(codes({ peers: 0 })).toEqual(["NO_PEERS"]);
    expect(codes({ peers: 0, validators: 1, votes: [] })).toEqual([]);
    expect(codes({ peers: 0, networked: false })).toEqual([]);
  });

  it("says why an idle multi-validator chain is not finalizing: its blocks above finality are empty", () => {
    const w = nodeWarnings({ ...healthy, height: 53, finalizedHeight: 50, finalizedAgeSeconds: 5_000 });
    expect(w.map((x) => [x.code, x.severity])).toEqual([["FINALITY_WAITS_FOR_TRANSACTIONS", "info"]]);
    expect(w[0]?.reason).toContain("the 3 block(s) above finalized height 50 are empty");
    // One validator: each block is final as made, nothing to explain.
    expect(codes({ validators: 1, height: 53, finalizedHeight: 50, votes: [] })).toEqual([]);
  });

  it("warns when transactions wait and finality has not moved for 20 slots, not before", () => {
    expect(codes({ height: 53, finalizedHeight: 50, unfinalizedTransactions: true, finalizedAgeSeconds: 20 * 30 + 1 })).toEqual(["NOT_FINALIZING"]);
    expect(codes({ height: 53, finalizedHeight: 50, unfinalizedTransactions: true, finalizedAgeSeconds: 20 * 30 })).toEqual([]);
    expect(codes({ mempoolTransactions: 2, finalizedAgeSeconds: 1_000 })).toEqual(["NOT_FINALIZING"]);
  });

  it("names a link that is down, with its last error", () => {
    expect(reason({ ipLink: { state: "disconnected", lastError: "connect ECONNREFUSED" } })).toBe("the MQTT link to the broker is disconnected (last error: connect ECONNREFUSED); it reconnects by itself");
    expect(codes({ radio: { ...healthy.radio!, state: "connecting" } })).toEqual(["RADIO_LINK_DOWN"]);
  });

  it("warns from 80% of the hourly airtime budget", () => {
    expect(codes({ radio: { ...healthy.radio!, lastHourAirtimeSeconds: 143.9 } })).toEqual([]);
    expect(reason({ radio: { ...healthy.radio!, lastHourAirtimeSeconds: 144 } })).toBe("144.0 s of the 180 s hourly airtime budget used (80%): less urgent frames wait");
  });

  it("warns when the disk has under 10% or under 256 MB free", () => {
    expect(codes({ disk: { freeBytes: 3e9, totalBytes: 32e9 } })).toEqual(["DISK_FILLING"]);
    expect(codes({ disk: { freeBytes: 200 * 1024 * 1024, totalBytes: 1e9 } })).toEqual(["DISK_FILLING"]);
    expect(codes({ disk: { freeBytes: 4e9, totalBytes: 32e9 } })).toEqual([]);
    expect(codes({ disk: null })).toEqual([]);
  });

  it("names validators that stopped voting while others vote, and none on an idle chain", () => {
    const votes = [{ validator: "mca", lastVoteSlot: 100 }, { validator: "mcb", lastVoteSlot: 80 }, { validator: "mcc", lastVoteSlot: null }];
    expect(reason({ votes })).toBe("mcb (last vote slot 80), mcc (never heard): no vote in the last 10 slots (head at slot 100)");
    // Nobody voted lately: no blocks to vote on (an idle chain), not a silent validator.
    expect(codes({ votes: votes.map((v) => ({ ...v, lastVoteSlot: 50 })) })).toEqual([]);
    // A lower threshold (tests on short slots) names sooner, and counts recent blocks by it too.
    const lately = [{ validator: "mca", lastVoteSlot: 100 }, { validator: "mcb", lastVoteSlot: 94 }, { validator: "mcc", lastVoteSlot: 96 }];
    expect(codes({ votes: lately })).toEqual([]);
    expect(reason({ votes: lately, silentValidatorSlots: 5 })).toBe("mcb (last vote slot 94): no vote in the last 5 slots (head at slot 100)");
    expect(codes({ votes: lately.map((v) => ({ ...v, lastVoteSlot: 94 })), silentValidatorSlots: 5 })).toEqual([]);
  });

  it("warns when the clock is more than 30 s off the peers' median, and says which way", () => {
    expect(reason({ peerClockOffsetMs: 45_000 })).toContain("this clock is 45 s behind its peers'");
    expect(reason({ peerClockOffsetMs: -45_000 })).toContain("45 s ahead of its peers'");
    expect(codes({ peerClockOffsetMs: 29_000 })).toEqual([]);
    expect(codes({ peerClockOffsetMs: null })).toEqual([]);
  });
});
