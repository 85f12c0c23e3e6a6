import { describe, expect, it } from "vitest";
import { blockHash } from "../../src/core/block/header.js";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { proposerRanks } from "../../src/consensus/schedule.js";
import { ConsensusSim } from "./harness.js";
import { safetyRun } from "./safety-fuzz.js";

const SLOT_MS = 10_000;

// The two-slot rule's lock under harsher asynchrony: deliveries late by up to three slots (a vote
// or certificate arriving after later rounds), partitions shifting for longer, and a restart in
// most steps, half of them onto a record from before locks were kept. The safety oracle counts
// finality over the votes signed, so a broken lock fails here even when no node sees both forks.
describe("safety of the two-slot rule's lock under asynchrony and restarts", () => {
  const shape = { maxDelayMs: 30_000, steps: 6, restartChance: 0.7 };
  it.each([9001, 9002, 9003])("seed %i", (seed) => safetyRun(seed, undefined, shape));
});

/*
 * The case the lock exists for, scripted: B (slot s) and its child C (s + 1) are signed by a quorum,
 * so B is final by the votes, but every vote for C is lost, so no node knows it. Two of C's voters
 * then restart, losing every block above finality (their signing records keep their locks), and
 * the third is cut off from them. The proposer of s + 2, cut off since s, extends B's parent A.
 * Without the lock, the restarted voters would vote for that block D (its parent is notarized and
 * the highest they know), D would be notarized and then final under its child: two conflicting
 * final blocks. With it they refuse, and once B reaches them the chain goes on from it.
 */
describe("the lock refuses a block that would undo a final block no node has seen final", () => {
  it("keeps B final by the votes across restarts, and finality going past it", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 23 });
    const slots = SlotClock.of(sim.genesis, sim.genesis.params);
    sim.start();
    sim.runWithTraffic(60_000, 5_000);
    const s = slots.slotAt(sim.clock.now()) + 2;
    sim.runWithTraffic(slots.startOf(s) - 1 - sim.clock.now(), 5_000);
    const a = sim.nodes[0]!.engine.head();
    expect(sim.nodes.every((n) => n.engine.head().id === a.id)).toBe(true);
    const proposerOfD = proposerRanks(a.weights, new Ledger(a.state).meta().randaoMix, s + 2, 2)[0]!;
    const p = sim.nodes.findIndex((n) => bytesEqual(n.identity.address, proposerOfD));
    const [keeper, ...restarted] = sim.nodes.map((n) => n.index).filter((i) => i !== p);
    const slotNow = () => slots.slotAt(sim.clock.now());
    sim.filter = (from, to, m) => {
      const slot = slotNow();
      if ((slot === s || slot === s + 1) && (from === p || to === p)) return false;
      if (slot === s + 1 && (m.kind === "vote" || m.kind === "vote-aggregate")) return false;
      if (slot === s + 2 && from !== p && (m.kind === "proposal" || m.kind === "compact-proposal")) return false;
      if (slot === s + 2 && (from === keeper || to === keeper)) return false;
      return true;
    };
    sim.runWithTraffic(slots.startOf(s + 2) - 1 - sim.clock.now(), 5_000);
    for (const i of restarted) {
      sim.crash(i);
      sim.restart(i);
    }
    sim.runWithTraffic(SLOT_MS + 1, 5_000);
    // P, cut off, proposed in its own view too: B and C are the others'.
    const byOthers = (slot: number) => [...sim.proposals.values()].filter((x) => x.header.slot === slot && !bytesEqual(x.header.proposer, proposerOfD));
    const [c] = byOthers(s + 1);
    const b = c === undefined ? undefined : sim.proposals.get(toHex(c.header.parentHash));
    expect(b?.header.slot).toBe(s);
    const d = [...sim.proposals.values()].find((x) => x.header.slot === s + 2 && bytesEqual(x.header.proposer, proposerOfD));
    expect(d?.header.parentHash).toEqual(a.hash);
    sim.filter = null;
    sim.runWithTraffic(12 * SLOT_MS, 5_000);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    expect(restarted.some((i) => sim.nodes[i]!.engine.stats.refusedByLock > 0)).toBe(true);
    // Liveness: the chain went on from B, which every node now holds final.
    const bId = toHex(blockHash(b!.header));
    expect(sim.nodes.every((n) => n.engine.finalizedChain.includes(bId) && n.engine.finalizedHeight > b!.header.height)).toBe(true);
  });
});
