import { describe, expect, it } from "vitest";
import { bytesEqual } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { proposerRanks } from "../../src/consensus/schedule.js";
import { ConsensusSim } from "./harness.js";

const SLOT_MS = 10_000;

/**
 * The case the lock exists for (as in safety-fuzz-lock.test.ts), run with and without the lock: B
 * (slot s) and its child C (s + 1) are signed by a quorum, so B is final by the votes, but every
 * vote for C is lost; the proposer of s + 2, cut off since s, extends B's parent A. Returns the sim
 * once the network healed and ran on.
 */
function scriptedCase(lock: boolean): ConsensusSim {
  const sim = new ConsensusSim({ validators: 4, seed: 23, ...(lock ? {} : { engine: { unsafeDisableLockForTests: true } }) });
  const slots = SlotClock.of(sim.genesis, sim.genesis.params);
  sim.start();
  sim.runWithTraffic(60_000, 5_000);
  const s = slots.slotAt(sim.clock.now()) + 2;
  sim.runWithTraffic(slots.startOf(s) - 1 - sim.clock.now(), 5_000);
  const a = sim.nodes[0]!.engine.head();
  const proposerOfD = proposerRanks(a.weights, new Ledger(a.state).meta().randaoMix, s + 2, 2)[0]!;
  const p = sim.nodes.findIndex((n) => bytesEqual(n.identity.address, proposerOfD));
  const slotNow = () => slots.slotAt(sim.clock.now());
  sim.filter = (from, to, m) => {
    const slot = slotNow();
    if ((slot === s || slot === s + 1) && (from === p || to === p)) return false;
    if (slot === s + 1 && (m.kind === "vote" || m.kind === "vote-aggregate")) return false;
    if (slot === s + 2 && from !== p && (m.kind === "proposal" || m.kind === "compact-proposal")) return false;
    return true;
  };
  sim.runWithTraffic(3 * SLOT_MS + 1, 5_000);
  const d = [...sim.proposals.values()].find((x) => x.header.slot === s + 2 && bytesEqual(x.header.proposer, proposerOfD));
  expect(d?.header.parentHash).toEqual(a.hash);
  sim.filter = null;
  sim.runWithTraffic(12 * SLOT_MS, 5_000);
  return sim;
}

describe("the lock, switched off as a control", () => {
  it("without it, the scripted case finalizes two conflicting blocks by the votes signed", () => {
    const sim = scriptedCase(false);
    expect(sim.conflictingFinalByVotes()).toBeGreaterThan(0);
    expect(sim.nodes.reduce((sum, n) => sum + n.engine.stats.refusedByLock, 0)).toBe(0);
  });

  it("with it, the same case finalizes no conflicting blocks, and the lock is what refused", () => {
    const sim = scriptedCase(true);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    expect(sim.nodes.reduce((sum, n) => sum + n.engine.stats.refusedByLock, 0)).toBeGreaterThan(0);
  });
});
