import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/core/state/ledger.js";
import { TxKind } from "../../src/core/tx/types.js";
import { COIN, tx } from "../fixtures/chain.js";
import { ConsensusSim } from "./harness.js";
import { SOAK } from "./seeds.js";

const MINUTE = 60_000;

describe("consensus reaches and keeps finality", () => {
  function reachesAndKeepsFinality(validators: number, minutes: number): void {
    const sim = new ConsensusSim({ validators, seed: validators });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() > 3, minutes * MINUTE, 20_000);
    const first = sim.minFinalized();
    expect(first).toBeGreaterThan(3);
    sim.runWithTrafficUntil(() => sim.minFinalized() > first, MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(first);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
  }

  it.each([4, 7])("with %i validators", (validators) => reachesAndKeepsFinality(validators, 4));

  // Three times the BLS work of the 7-validator run (about 17 s of CPU): the size sweep's top end is soak's.
  it.skipIf(!SOAK)("with 21 validators (npm run soak)", () => reachesAndKeepsFinality(21, 2));

  it("falls silent when idle: no blocks without transactions until the heartbeat", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 11, params: { heartbeatSlots: 30n } });
    sim.start();
    sim.run(29 * 10_000);
    expect(sim.nodes.every((n) => n.engine.stats.proposed === 0)).toBe(true);
    sim.run(2 * 10_000);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.proposed, 0)).toBeGreaterThan(0);
  });

  it("finalizes every submitted transaction at every node once traffic stops", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 5 });
    sim.start();
    sim.runWithTraffic(3 * MINUTE, 15_000);
    sim.runUntil(() => sim.finalizedTxCount() === sim.submitted.length, 2 * MINUTE, 10_000);
    expect(sim.finalizedTxCount()).toBe(sim.submitted.length);
    // Nothing was lost, so nothing was sent twice (and once all are final, none is left to send).
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.txsResent, 0)).toBe(0);
  });

  it("sends again a transaction whose every copy was lost, and finalizes it", () => {
    // Validator 0 holds almost no stake, so it (nearly) never proposes: only the others can include it.
    const sim = new ConsensusSim({ validators: 4, seed: 8, stakes: [1_000n * COIN, 1_000_000n * COIN, 1_000_000n * COIN, 1_000_000n * COIN] });
    sim.start();
    const user = sim.users[0]!;
    const t = tx(user, 0, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 1n });
    // Its flood reached nobody: only validator 0's pool has it.
    sim.nodes[0]!.mempool.add(t);
    sim.run(MINUTE);
    expect(sim.nodes[0]!.engine.stats.txsResent).toBeGreaterThan(0);
    sim.run(2 * MINUTE);
    for (const n of sim.nodes) expect(new Ledger(n.engine.finalizedState).account(user.address).nonce).toBe(1);
    // Once the others held it, nobody sent it again.
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.txsResent, 0)).toBe(1);
  });

  it("sends a vote again in the middle of the slot while its block lacks a quorum", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 5 });
    // One validator is down: every block needs both remaining voters, and each one's first copy is lost.
    sim.crash(3);
    for (const i of [0, 1, 2]) sim.firstVotesLost.add(i);
    sim.start();
    const votesResent = () => sim.nodes.reduce((a, n) => a + n.engine.stats.votesResent, 0);
    sim.runWithTrafficUntil(() => sim.minFinalized() > 3 && votesResent() > 0, 3 * MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(3);
    expect(votesResent()).toBeGreaterThan(0);
    expect(sim.conflictingFinalized).toBe(0);
  });

  it("asks for a transaction its pool waits on when the sender's later ones arrived, and finalizes them all", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 8, stakes: [1_000n * COIN, 1_000_000n * COIN, 1_000_000n * COIN, 1_000_000n * COIN] });
    sim.start();
    const user = sim.users[0]!;
    const [first, ...later] = [0, 1, 2].map((nonce) => tx(user, nonce, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 1n }));
    // Nonce 0 reached validator 0 only; 1 and 2 reached everyone, and wait on the gap.
    sim.nodes[0]!.mempool.add(first!);
    for (const n of sim.nodes) for (const t of later) n.mempool.add(t);
    sim.run(MINUTE);
    expect(sim.nodes.slice(1).reduce((a, n) => a + n.engine.stats.nonceRequests, 0)).toBeGreaterThan(0);
    for (const n of sim.nodes) expect(new Ledger(n.engine.finalizedState).account(user.address).nonce).toBe(3);
    // The request brought it before any block could pass it over: nothing was resent on suspicion.
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.txsResent, 0)).toBe(0);
  });
});
