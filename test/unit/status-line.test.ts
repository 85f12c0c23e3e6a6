import { describe, expect, it } from "vitest";
import { formatStatusTable, parseStatus } from "../../src/cli/status-table.js";
import type { NodeStatus } from "../../src/node/node.js";
import { StatusHistory } from "../../src/node/status-history.js";
import { formatAge, formatStatusLine, StatusNotifier } from "../../src/node/status-line.js";

const status: NodeStatus = {
  chainId: "meshchain-test", role: "validator", height: 120, finalizedHeight: 118, tipHash: "ab".repeat(32), slot: 400, lastBlockAgeSeconds: 12, address: "mc0123456789abcdef0123", peers: 3,
  sync: { state: "synced", percent: 100, etaSeconds: 0, targetHeight: 118, fallbacks: 0, blocksPerSecond: null },
  finality: { lagBlocks: 2, ageSeconds: 75 }, validators: 3,
  consensus: { mode: "poa", epoch: 1, nextEpochStart: 200, joining: ["mc00000000000000000001"], proposals: [{ id: 2, action: "remove", validator: "mc00000000000000000002", yes: 1, endHeight: 600 }] },
  links: { ip: "connected", radio: "connected" },
  mempool: { transactions: 4, bytes: 380 }, airtimeSeconds: 42.25, airtime: { lastHourSeconds: 42.25, budgetSecondsPerHour: 180, dutyCycle: 0.1 },
  storage: { fault: null, faults: 0 }, accepted: { pending: 0, reannounced: 0 }, ready: { ok: true, reason: null }, radio: null,
  checkpoint: null, uptimeSeconds: 7_300, warnings: [],
};

describe("the status line", () => {
  it("says sync state, heights with ages, peers, mempool, airtime of the budget and the radio in one line", () => {
    expect(formatStatusLine(status)).toBe("Synced - head 120 (12s ago) - finalized 118 (75s ago) - peers 3 - mempool 4 - airtime 42.3/180s this hour - radio connected");
  });

  it("shows progress with rate and ETA while syncing, the broker only when it is down, and warnings by code", () => {
    const line = formatStatusLine({
      ...status, sync: { ...status.sync, state: "syncing", percent: 37.5, etaSeconds: 400, targetHeight: 5_000, blocksPerSecond: 8.2 }, links: { ip: "disconnected", radio: null }, airtime: null,
      warnings: [{ code: "NOT_READY", severity: "warn", reason: "syncing" }, { code: "FINALITY_WAITS_FOR_TRANSACTIONS", severity: "info", reason: "idle" }],
    });
    expect(line).toBe("Syncing 37.5% of 5000 8.2 blocks/s eta 7m - head 120 (12s ago) - finalized 118 (75s ago) - peers 3 - mempool 4 - broker disconnected - warnings NOT_READY");
  });

  it("writes ages in the unit a person reads", () => {
    expect([formatAge(0), formatAge(89), formatAge(90), formatAge(5_399), formatAge(5_400), formatAge(129_600)]).toEqual(["0s", "89s", "2m", "90m", "2h", "2d"]);
  });

  it("is logged when what it says changes, and an unchanged one only every quietEvery ticks", () => {
    const notifier = new StatusNotifier(3);
    expect(notifier.next(status)).not.toBeNull();
    // Ages move with time alone: not a change.
    expect(notifier.next({ ...status, lastBlockAgeSeconds: 22 })).toBeNull();
    expect(notifier.next(status)).toBeNull();
    expect(notifier.next(status)).not.toBeNull();
    expect(notifier.next({ ...status, height: 121 })).not.toBeNull();
    expect(notifier.next({ ...status, height: 121, peers: 2 })).not.toBeNull();
    expect(notifier.next({ ...status, height: 121, peers: 2 })).toBeNull();
  });
});

describe("meshchain status table", () => {
  it("reads in one screen, with each warning's reason", () => {
    const table = formatStatusTable(parseStatus(JSON.parse(JSON.stringify({ ...status, warnings: [{ code: "DISK_FILLING", severity: "warn", reason: "120 MB free of 32000 MB on the data directory's disk; the node stops writing blocks when it is full" }] }))), 80);
    const lines = table.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines).toContain("finalized  118 (75s ago, 2 behind head)");
    // What changes at the next epoch, and the open membership vote with the id to vote on.
    expect(lines).toContain("consensus  poa, epoch 1, next epoch at height 200");
    expect(lines).toContain("joining    mc00000000000000000001 at height 200");
    expect(lines).toContain("proposal   #2 remove mc00000000000000000002: 1 yes, open until height 600");
    expect(lines).toContain("airtime    42.3 s of 180 s budget this hour (23%; duty cycle allows 360 s)");
    expect(table).toContain("! DISK_FILLING: 120 MB free");
    // A long reason wraps at the width, its continuation indented under the code.
    expect(table).toMatch(/\n {4}\S.*full\n$/);
    expect(lines.at(-2)?.length).toBeLessThanOrEqual(80);
  });

  it("refuses an answer of the wrong shape with a typed error, not a table of undefined", () => {
    expect(() => parseStatus({ height: "high" })).toThrow(expect.objectContaining({ code: "NODE_API_UNAVAILABLE" }));
  });
});

describe("the status history", () => {
  it("keeps the last window, at most maxSamples", () => {
    const h = new StatusHistory(60_000, 4);
    for (let t = 0; t <= 100_000; t += 10_000) h.add({ at: t, height: t / 1000, finalizedHeight: 0, peers: 0, mempool: 0, airtimeSecondsByClass: null });
    expect(h.list().map((s) => s.at)).toEqual([70_000, 80_000, 90_000, 100_000]);
    const wide = new StatusHistory(25_000, 100);
    for (let t = 0; t <= 100_000; t += 10_000) wide.add({ at: t, height: 0, finalizedHeight: 0, peers: 0, mempool: 0, airtimeSecondsByClass: null });
    expect(wide.list().map((s) => s.at)).toEqual([80_000, 90_000, 100_000]);
  });
});
