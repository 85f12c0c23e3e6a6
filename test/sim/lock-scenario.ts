import { blockHash } from "../../src/core/block/header.js";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import type { Block } from "../../src/core/block/block.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { proposerRanks } from "../../src/consensus/schedule.js";
import { ConsensusSim } from "./harness.js";

export const LOCK_SCENARIO_SLOT_MS = 10_000;

export interface LockScenario {
  readonly sim: ConsensusSim;
  /** The block final by the votes signed that no node saw final. */
  readonly b: Block;
  readonly bId: string;
  /** The proposer of slot s + 2's block D, on B's parent A. */
  readonly d: Block | undefined;
  readonly aHash: Uint8Array;
  /** C's voters that restarted, losing every block above finality (their signing records keep their locks). */
  readonly restarted: readonly number[];
}

/*
 * The case the lock exists for, scripted: B (slot s) and its child C (s + 1) are signed by a quorum,
 * so B is final by the votes, but every vote for C is lost, so no node knows it. Two of C's voters
 * then restart, losing every block above finality, and the third is cut off from them. The proposer
 * of s + 2, cut off since s, extends B's parent A. Without the lock, the restarted voters would vote
 * for that block D (its parent is notarized and the highest they know), D would be notarized and then
 * final under its child: two conflicting final blocks. With it they refuse. Ends with the network
 * healed and run on for twelve slots (without the lock, until the conflict).
 */
export function runLockScenario(lock: boolean): LockScenario {
  const sim = new ConsensusSim({ validators: 4, seed: 23, ...(lock ? {} : { engine: { unsafeDisableLockForTests: true } }) });
  const slots = SlotClock.of(sim.genesis, sim.genesis.params);
  sim.start();
  sim.runWithTraffic(60_000, 5_000);
  const s = slots.slotAt(sim.clock.now()) + 2;
  sim.runWithTraffic(slots.startOf(s) - 1 - sim.clock.now(), 5_000);
  const a = sim.nodes[0]!.engine.head();
  if (!sim.nodes.every((n) => n.engine.head().id === a.id)) throw new Error("the nodes do not share a head before the scenario");
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
  sim.runWithTraffic(LOCK_SCENARIO_SLOT_MS + 1, 5_000);
  // P, cut off, proposed in its own view too: B and C are the others'.
  const byOthers = (slot: number) => [...sim.proposals.values()].filter((x) => x.header.slot === slot && !bytesEqual(x.header.proposer, proposerOfD));
  const [c] = byOthers(s + 1);
  const b = c === undefined ? undefined : sim.proposals.get(toHex(c.header.parentHash));
  if (b === undefined || b.header.slot !== s) throw new Error("the scenario did not make B at slot s under C");
  const d = [...sim.proposals.values()].find((x) => x.header.slot === s + 2 && bytesEqual(x.header.proposer, proposerOfD));
  sim.filter = null;
  // Healed, for twelve slots. With the lock they are a window for a conflict to appear in; the
  // control (without it) asserts that one does, so it stops at the first, at most twelve slots on.
  if (lock) sim.runWithTraffic(12 * LOCK_SCENARIO_SLOT_MS, 5_000);
  else sim.runWithTrafficUntil(() => sim.conflictingFinalByVotes() > 0, 12 * LOCK_SCENARIO_SLOT_MS, 5_000);
  return { sim, b, bId: toHex(blockHash(b.header)), d, aHash: a.hash, restarted };
}
