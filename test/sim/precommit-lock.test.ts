import { describe, expect, it } from "vitest";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import { blockHash } from "../../src/core/block/header.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { proposerRanks } from "../../src/consensus/schedule.js";
import { ConsensusSim } from "./harness.js";

const SLOT_MS = 10_000;

/*
 * The case the precommit's lock exists for, scripted (docs/consensus.md, "Precommits"): B (slot s) is
 * notarized and precommitted by a quorum, so it is final by the precommits signed, but every precommit
 * frame is lost, so no node knows it. Two of the precommitters restart, losing every block above
 * finality (their signing records keep the lock at s), and the third is cut off from them. The
 * proposer of s + 1, cut off since s, extends B's parent A. Without the lock the restarted
 * precommitters vote for that block D, D is notarized and then final under its child: two
 * conflicting final blocks. With it they refuse.
 */
function run(lock: boolean) {
  const sim = new ConsensusSim({ validators: 4, seed: 29, params: { finalityRule: 1n }, ...(lock ? {} : { engine: { unsafeDisableLockForTests: true } }) });
  const slots = SlotClock.of(sim.genesis, sim.genesis.params);
  sim.start();
  sim.runWithTraffic(60_000, 5_000);
  // The next slot whose proposer differs from the one after it: B's proposer must not be D's.
  let s = slots.slotAt(sim.clock.now()) + 2;
  const head = () => sim.nodes[0]!.engine.head();
  const first = (slot: number) => proposerRanks(head().weights, new Ledger(head().state).meta().randaoMix, slot, 2)[0]!;
  while (bytesEqual(first(s), first(s + 1))) s++;
  sim.runWithTraffic(slots.startOf(s) - 1 - sim.clock.now(), 5_000);
  const a = head();
  if (!sim.nodes.every((n) => n.engine.head().id === a.id)) throw new Error("the nodes do not share a head before the scenario");
  const proposerOfD = proposerRanks(a.weights, new Ledger(a.state).meta().randaoMix, s + 1, 2)[0]!;
  const p = sim.nodes.findIndex((n) => bytesEqual(n.identity.address, proposerOfD));
  const [keeper, ...restarted] = sim.nodes.map((n) => n.index).filter((i) => i !== p);
  const slotNow = () => slots.slotAt(sim.clock.now());
  sim.filter = (from, to, m) => {
    const slot = slotNow();
    if (slot === s && (from === p || to === p)) return false;
    if ((slot === s || slot === s + 1) && m.kind === "precommit-aggregate") return false;
    if (slot === s + 1 && from !== p && (m.kind === "proposal" || m.kind === "compact-proposal")) return false;
    if (slot === s + 1 && (from === keeper || to === keeper)) return false;
    return true;
  };
  sim.runWithTraffic(slots.startOf(s + 1) - 1 - sim.clock.now(), 5_000);
  for (const i of restarted) {
    sim.crash(i);
    sim.restart(i);
  }
  sim.runWithTraffic(SLOT_MS + 1, 5_000);
  const b = [...sim.proposals.values()].find((x) => x.header.slot === s && !bytesEqual(x.header.proposer, proposerOfD));
  const d = [...sim.proposals.values()].find((x) => x.header.slot === s + 1 && bytesEqual(x.header.proposer, proposerOfD));
  sim.filter = null;
  if (lock) sim.runWithTraffic(12 * SLOT_MS, 5_000);
  else sim.runWithTrafficUntil(() => sim.conflictingFinalByVotes() > 0, 12 * SLOT_MS, 5_000);
  return { sim, b, d, aHash: a.hash };
}

describe("the precommit's lock", () => {
  it("keeps a block final by precommits nobody saw: its restarted precommitters refuse a block on its parent", { timeout: 300_000 }, () => {
    const { sim, b, d, aHash } = run(true);
    expect(b).toBeDefined();
    expect(d?.header.parentHash).toEqual(aHash);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.nodes.reduce((sum, n) => sum + n.engine.stats.refusedByLock, 0)).toBeGreaterThan(0);
    // B stays in the chain every node finalizes.
    expect(sim.nodes.every((n) => n.engine.finalizedChain.includes(toHex(blockHash(b!.header))))).toBe(true);
  });

  it("switched off as a control, lets the same script finalize two conflicting blocks by the signatures made", () => {
    const { sim, d, aHash } = run(false);
    expect(d?.header.parentHash).toEqual(aHash);
    expect(sim.conflictingFinalByVotes()).toBeGreaterThan(0);
  });
});
