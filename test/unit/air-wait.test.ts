import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { txHash } from "../../src/core/tx/codec.js";
import { meshtasticFrameAirtimeMs } from "../../src/mesh/airtime/airtime.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY } from "../../src/mesh/airtime/scheduler.js";
import { Priority } from "../../src/mesh/transport.js";
import { AirWait } from "../../src/node/air-wait.js";
import { PoolAdapter } from "../../src/node/engine-adapters.js";
import { DEFAULT_MEMPOOL_OPTIONS, TxPool } from "../../src/node/mempool.js";
import { CHAIN_ID, COIN, genesisStore, testChain, transfer } from "../fixtures/chain.js";
import { RecordingTransport } from "../fixtures/recording-transport.js";

const SLOT_MS = 155_000;
const cost = (f: Uint8Array) => meshtasticFrameAirtimeMs(PRESETS.LONG_FAST, f.length);

describe("a user's new transaction is held out of our blocks until its frame is on air", () => {
  it("the scheduler tells when the frame goes, after the consensus frames queued before it, and never for one dropped stale", async () => {
    const clock = new ManualClock(0);
    const sink = new RecordingTransport(231, 1, clock);
    // A bucket that holds two frames: the rest wait for its refill, consensus first.
    const scheduler = new AirtimeScheduler(sink, cost, { ...DEFAULT_AIRTIME_POLICY, burstSeconds: 2 * cost(new Uint8Array(200)) / 1000, maxQueueDelayMs: 600_000 }, clock);
    const aired: string[] = [];
    await scheduler.send(new Uint8Array(200), Priority.Consensus);
    await scheduler.send(new Uint8Array(200), Priority.Transaction, { onAir: () => aired.push("tx") });
    await scheduler.send(new Uint8Array(200), Priority.Consensus);
    clock.advance(5_000);
    // The compact block of our proposal goes first: the transaction is not on air yet.
    expect(sink.sent.map((s) => s.priority)).toEqual([Priority.Consensus, Priority.Consensus]);
    expect(aired).toEqual([]);
    clock.advance(60_000);
    expect(sink.sent.map((s) => s.priority)).toEqual([Priority.Consensus, Priority.Consensus, Priority.Transaction]);
    expect(aired).toEqual(["tx"]);
    // Dropped after waiting too long: never called (the waiter's own bound applies).
    await scheduler.send(new Uint8Array(200), Priority.Consensus);
    await scheduler.send(new Uint8Array(200), Priority.Consensus);
    await scheduler.send(new Uint8Array(200), Priority.Consensus);
    await scheduler.send(new Uint8Array(200), Priority.Transaction, { onAir: () => aired.push("stale") });
    for (let i = 0; i < 30; i++) {
      await scheduler.send(new Uint8Array(200), Priority.Consensus).catch(() => undefined);
      clock.advance(30_000);
    }
    expect(aired).toEqual(["tx"]);
    expect(scheduler.airtimeStats.droppedForBudget).toBeGreaterThan(0);
  });

  it("the pool offers our blocks the transaction once it aired, or a slot after it was handed on if it never did", () => {
    const c = testChain({ users: 3 });
    const [a, b] = c.users as [NonNullable<(typeof c.users)[0]>, NonNullable<(typeof c.users)[0]>];
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, { state: genesisStore(c.genesis).store, height: 0, slot: 0 });
    const clock = new ManualClock(0);
    const wait = new AirWait(SLOT_MS);
    const adapter = new PoolAdapter(pool, { wait, clock });
    const heard = transfer(b, 0, a.address, COIN);
    const fresh = transfer(a, 0, b.address, COIN);
    const lost = transfer(a, 1, b.address, COIN);
    for (const t of [heard, fresh, lost]) pool.add(t);
    const id = (t: typeof heard) => toHex(txHash(t.bytes));
    wait.wait(id(fresh), clock.now());
    wait.wait(id(lost), clock.now());
    expect(adapter.candidates().map(id)).toEqual([id(heard)]);
    wait.aired(id(fresh));
    expect(adapter.candidates().map(id).sort()).toEqual([id(heard), id(fresh)].sort());
    // `lost` never airs (dropped from the queue): a slot later it is proposable anyway, never starved.
    clock.advance(SLOT_MS);
    expect(adapter.candidates()).toHaveLength(3);
    expect(wait.size).toBe(0);
  });

  it("holds at most its limit, forgetting the oldest first", () => {
    const wait = new AirWait(SLOT_MS, 2);
    wait.wait("a", 0);
    wait.wait("b", 0);
    wait.wait("c", 0);
    expect(wait.size).toBe(2);
    expect(wait.waiting("a", 1)).toBe(false);
    expect(wait.waiting("c", 1)).toBe(true);
  });
});
