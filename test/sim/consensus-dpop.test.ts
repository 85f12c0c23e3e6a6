import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/core/state/ledger.js";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;

describe("DPoP: slashing and proximity", () => {
  it("catches an equivocating proposer, slashes its stake and jails it", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 31 });
    sim.start();
    sim.runWithTraffic(MINUTE, 15_000);
    const before = new Ledger(sim.nodes[0]!.engine.finalizedState);
    const offender = sim.nodes[3]!.identity.address;
    const bond = before.validator(offender)!.selfBond;
    const supply = before.meta().totalSupply;
    const evidenceFound = () => sim.nodes.slice(0, 3).some((n) => n.engine.stats.evidenceFound > 0);
    sim.setEquivocating(3, true);
    sim.runWithTrafficUntil(evidenceFound, 3 * MINUTE, 15_000);
    sim.setEquivocating(3, false);
    // Until the slash is final at validator 0 (asserted below, with the rest).
    sim.runWithTrafficUntil(() => new Ledger(sim.nodes[0]!.engine.finalizedState).validator(offender)!.selfBond < bond, 3 * MINUTE, 15_000);
    sim.run(MINUTE);
    expect(evidenceFound()).toBe(true);
    const after = new Ledger(sim.nodes[0]!.engine.finalizedState);
    const v = after.validator(offender)!;
    expect(v.selfBond).toBeLessThan(bond);
    expect(v.lastInfractionSlot).toBeGreaterThan(0);
    expect(v.jailedUntil).toBeGreaterThan(after.meta().height);
    // The slashed stake is burned (minted rewards aside).
    expect(after.meta().totalSupply - supply).toBeLessThan(BigInt(after.meta().height - before.meta().height) * after.params().blockReward);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
  });

  it("takes proximity, and so weight, from a validator whose votes arrive late, and gives it back when they arrive again", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 32, params: { proximityWindow: 4n } });
    sim.start();
    const slow = sim.nodes[6]!.identity.address;
    const proximity = () => new Ledger(sim.nodes[0]!.engine.finalizedState).validator(slow)!.proximityBps;
    const others = () => new Ledger(sim.nodes[0]!.engine.finalizedState).validator(sim.nodes[0]!.identity.address)!.proximityBps;
    const start = proximity();
    // Its votes now arrive more than a slot late: after the next proposer has built the certificate.
    sim.setExtraDelay(6, 15_000);
    sim.runWithTrafficUntil(() => proximity() < start && others() > proximity(), 4 * MINUTE, 15_000);
    const late = proximity();
    expect(late).toBeLessThan(start);
    expect(others()).toBeGreaterThan(late);
    sim.setExtraDelay(6, 0);
    sim.runWithTrafficUntil(() => proximity() > late, 4 * MINUTE, 15_000);
    expect(proximity()).toBeGreaterThan(late);
    expect(sim.finalizedAgree()).toBe(true);
  });
});
