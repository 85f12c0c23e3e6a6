import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import type { DecodedTx } from "../../src/core/tx/codec.js";
import { FinalityStall } from "../../src/node/finality-stall.js";
import { silentLogger } from "../../src/node/logger.js";
import { TxAnnouncer } from "../../src/node/tx-announcer.js";
import { SqliteMempoolStore } from "../../src/storage/mempool-store.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const SLOT = 150_000;
const dir = tempDirsPerTest();
const { users } = testChain({ users: 2 });
const [alice, bob] = users;

describe("FinalityStall: the chain carries transactions it does not finalize", () => {
  it("is stalled once finality has not moved for the stall time while blocks above it carry transactions", () => {
    const clock = new ManualClock(1_000_000);
    const stall = new FinalityStall(clock, 4 * SLOT);
    expect(stall.stalled(10, 5)).toBe(false);
    clock.advance(4 * SLOT - 1);
    expect(stall.stalled(10, 5)).toBe(false);
    clock.advance(1);
    expect(stall.stalled(10, 5)).toBe(true);
    // Finality moved: no longer stalled, and the time counts again from here.
    expect(stall.stalled(11, 5)).toBe(false);
    clock.advance(4 * SLOT - 1);
    expect(stall.stalled(11, 5)).toBe(false);
  });

  it("is never stalled with nothing above finality, or only empty heartbeats: an idle chain must still hear a lost transaction again", () => {
    const clock = new ManualClock(1_000_000);
    const stall = new FinalityStall(clock, 4 * SLOT);
    stall.stalled(3, 0);
    clock.advance(100 * SLOT);
    expect(stall.stalled(3, 0)).toBe(false);
    expect(stall.stalled(3, 1)).toBe(true);
  });
});

describe("TxAnnouncer held back while finality stalls", () => {
  function setup(holdBack: () => boolean) {
    const clock = new ManualClock(1_000_000);
    const store = new SqliteMempoolStore(join(dir(), "mempool.db"));
    const sent: { at: number; tx: DecodedTx }[] = [];
    const announcer = new TxAnnouncer({ baseMs: 6 * SLOT, maxMs: 32 * SLOT }, {
      clock, logger: silentLogger(), random: seededRandom(3), store,
      send: (tx) => sent.push({ at: clock.now(), tx }),
      place: () => "absent",
      readmit: () => "held",
      holdBack,
    });
    announcer.start();
    return { clock, store, sent, announcer };
  }

  it("announces nothing again while held back, and afterwards the waiting ones come due spread out, not at once", () => {
    let held = true;
    const { clock, store, sent, announcer } = setup(() => held);
    for (let n = 0; n < 20; n++) announcer.track(transfer(n % 2 === 0 ? alice! : bob!, Math.floor(n / 2), (n % 2 === 0 ? bob! : alice!).address, 1n));
    clock.advance(80 * 60_000);
    expect(sent).toEqual([]);
    expect(announcer.pending).toBe(20);
    held = false;
    const resumedAt = clock.now();
    for (let t = 0; t < 40 * 60_000; t += 10_000) clock.advance(10_000);
    // Every one is announced again after the stall, over minutes (each on its own jittered backoff).
    expect(new Set(sent.map((s) => s.tx)).size).toBe(20);
    const times = sent.map((s) => s.at - resumedAt);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(60_000);
    announcer.stop();
    store.close();
  });

  it("sends no burst for a link back up while held back, and the usual one when not", () => {
    let held = true;
    const { store, sent, announcer } = setup(() => held);
    for (let n = 0; n < 4; n++) announcer.track(transfer(alice!, n, bob!.address, 1n));
    announcer.announceAll();
    expect(sent).toEqual([]);
    held = false;
    announcer.announceAll();
    expect(sent).toHaveLength(4);
    announcer.stop();
    store.close();
  });

  it("announces again as before when not held back", () => {
    const { clock, store, sent, announcer } = setup(() => false);
    announcer.track(transfer(alice!, 0, bob!.address, 1n));
    clock.advance(8 * SLOT);
    expect(sent).toHaveLength(1);
    announcer.stop();
    store.close();
  });
});
