import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { type DecodedTx, txHash } from "../../src/core/tx/codec.js";
import { silentLogger } from "../../src/node/logger.js";
import { type Readmission, TxAnnouncer } from "../../src/node/tx-announcer.js";
import { SqliteMempoolStore } from "../../src/storage/mempool-store.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const { users } = testChain({ users: 3 });
const [alice, bob, carol] = users;
const BASE = 4_000;
const MAX = 64_000;

function setup(dataDir = dir(), opts: { readmit?: (tx: DecodedTx) => Readmission } = {}) {
  const clock = new ManualClock(1_000_000);
  const store = new SqliteMempoolStore(join(dataDir, "mempool.db"));
  const sent: DecodedTx[] = [];
  const included = new Set<string>();
  const inChain = new Set<string>();
  const announcer = new TxAnnouncer({ baseMs: BASE, maxMs: MAX }, {
    clock, logger: silentLogger(), random: seededRandom(7), store,
    send: (tx) => sent.push(tx),
    place: (hash) => (included.has(toHex(hash)) ? "final" : inChain.has(toHex(hash)) ? "in-chain" : "absent"),
    readmit: opts.readmit ?? (() => "held"),
  });
  announcer.start();
  return { clock, store, sent, included, inChain, announcer, dataDir };
}

const idOf = (tx: DecodedTx) => toHex(txHash(tx.bytes));

describe("TxAnnouncer: accepted transactions are announced until included", () => {
  it("announces again with exponential backoff, within ±25% jitter, capped at maxMs", () => {
    const { clock, sent, announcer } = setup();
    announcer.track(transfer(alice!, 0, bob!.address, 5n));
    const times: number[] = [];
    const start = clock.now();
    for (let t = 0; t < 600_000; t += 250) {
      clock.advance(250);
      while (times.length < sent.length) times.push(clock.now() - start);
    }
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    // First gap around base, then doubling, then at most the cap (+25%).
    expect(gaps[0]).toBeGreaterThanOrEqual(0.75 * BASE - 250);
    expect(gaps[0]).toBeLessThanOrEqual(1.25 * BASE + 250);
    for (let i = 1; i < gaps.length; i++) {
      const plain = Math.min(MAX, BASE * 2 ** i);
      expect(gaps[i]).toBeGreaterThanOrEqual(0.75 * plain - 250);
      expect(gaps[i]).toBeLessThanOrEqual(1.25 * plain + 250);
    }
    expect(gaps.length).toBeGreaterThan(8);
    announcer.stop();
  });

  it("stops once the chain includes the transaction, and forgets it on disk", () => {
    const { clock, sent, included, announcer, store } = setup();
    const t = transfer(alice!, 0, bob!.address, 5n);
    announcer.track(t);
    clock.advance(BASE * 2);
    const before = sent.length;
    expect(before).toBeGreaterThan(0);
    included.add(idOf(t));
    announcer.onNewHead();
    clock.advance(MAX * 4);
    expect(sent.length).toBe(before);
    expect(announcer.pending).toBe(0);
    expect(store.loadLocal()).toEqual([]);
    announcer.stop();
  });

  it("waits, announcing nothing, while the transaction sits in a block that is not final, and goes on if that block is undone", () => {
    const { clock, sent, inChain, announcer, store } = setup();
    const t = transfer(alice!, 0, bob!.address, 5n);
    announcer.track(t);
    inChain.add(idOf(t));
    announcer.onNewHead();
    clock.advance(MAX * 2);
    expect(sent).toEqual([]);
    expect(announcer.pending).toBe(1);
    expect(store.loadLocal()).toHaveLength(1);
    // A reorganisation undid the block: the transaction is announced again.
    inChain.delete(idOf(t));
    clock.advance(MAX * 2);
    expect(sent.length).toBeGreaterThan(0);
    announcer.stop();
  });

  it("stops announcing a transaction that can no longer apply", () => {
    const { clock, sent, announcer } = setup(undefined, { readmit: () => "cannot-apply" });
    announcer.track(transfer(alice!, 0, bob!.address, 5n));
    clock.advance(MAX * 4);
    expect(sent).toEqual([]);
    expect(announcer.pending).toBe(0);
    announcer.stop();
  });

  it("survives a restart: what was accepted is announced at once by the next process", () => {
    const first = setup();
    const a0 = transfer(alice!, 0, bob!.address, 5n);
    const a1 = transfer(alice!, 1, bob!.address, 6n);
    first.announcer.track(a0);
    first.announcer.track(a1);
    first.announcer.stop();
    first.store.close();
    const second = setup(first.dataDir);
    expect(second.announcer.pending).toBe(2);
    second.clock.advance(0);
    expect(second.sent.map(idOf)).toEqual([idOf(a0), idOf(a1)]);
    second.announcer.stop();
    second.store.close();
  });

  it("a link that comes back hears every pending transaction at once, each sender's in nonce order, at most once a base interval", () => {
    const { clock, sent, announcer } = setup();
    const txs = [transfer(bob!, 2, alice!.address, 1n), transfer(alice!, 1, bob!.address, 1n), transfer(bob!, 1, carol!.address, 1n), transfer(alice!, 0, carol!.address, 1n)];
    for (const t of txs) announcer.track(t);
    announcer.announceAll();
    const bySender = (who: Uint8Array) => sent.filter((t) => toHex(t.tx.sender) === toHex(who)).map((t) => t.tx.nonce);
    expect(sent.length).toBe(4);
    expect(bySender(alice!.address)).toEqual([0, 1]);
    expect(bySender(bob!.address)).toEqual([1, 2]);
    announcer.announceAll();
    expect(sent.length).toBe(4);
    clock.advance(BASE);
    sent.length = 0;
    announcer.announceAll();
    expect(sent.length).toBeGreaterThanOrEqual(4);
    announcer.stop();
  });

  it("never announces more often than the backoff allows, whatever the order of events (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ advance: fc.integer({ min: 0, max: 20_000 }), burst: fc.boolean() }), { maxLength: 40 }), (events) => {
        const { clock, sent, announcer, store } = setup();
        announcer.track(transfer(alice!, 0, bob!.address, 5n));
        let elapsed = 0;
        for (const e of events) {
          clock.advance(e.advance);
          elapsed += e.advance;
          if (e.burst) announcer.announceAll();
        }
        // Bursts at most once per base interval, plus backoff announcements: bounded by elapsed time.
        expect(sent.length).toBeLessThanOrEqual(2 + 2 * Math.floor(elapsed / (0.75 * BASE)));
        announcer.stop();
        store.close();
      }),
      { numRuns: 40 },
    );
  });
});
