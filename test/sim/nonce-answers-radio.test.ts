import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/core/state/ledger.js";
import { TxKind } from "../../src/core/tx/types.js";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { tx } from "../fixtures/chain.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;

describe("a nonce gap's request on the radio, with every holder hearing the transaction on air", () => {
  it("is answered by one holder a slot (the ranked one), not by each, even when the holders cannot hear each other's answer", () => {
    const sim = new ConsensusSim({ validators: 6, seed: 8, engine: { link: SIM_RADIO_LINK } });
    // Loaded radio queues (minutes long on a spent bridge): no holder hears another's answer in time.
    sim.filter = (_from, to, m) => m.kind !== "tx" || to === 0;
    sim.start();
    const user = sim.users[0]!;
    const [first, ...later] = [0, 1, 2].map((nonce) => tx(user, nonce, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 1n }));
    const firstId = toHex(txHash(first!.bytes));
    // Nonce 0 was heard on air by every validator but one; 1 and 2 by everyone. The one without it asks when it leads.
    for (let i = 1; i < 6; i++) sim.deliverTo(i, { kind: "tx", tx: first! });
    for (let i = 0; i < 6; i++) for (const t of later) sim.deliverTo(i, { kind: "tx", tx: t });
    const answers: { from: number; at: number }[] = [];
    let asked = 0;
    sim.onSend = (from, m) => {
      if (m.kind === "get-nonces") asked++;
      if (m.kind === "tx" && toHex(txHash(m.tx.bytes)) === firstId) answers.push({ from, at: sim.clock.now() });
    };
    sim.runUntil(() => sim.nodes.every((n) => new Ledger(n.engine.finalizedState).account(user.address).nonce === 3), 10 * MINUTE, 10_000);
    for (const n of sim.nodes) expect(new Ledger(n.engine.finalizedState).account(user.address).nonce).toBe(3);
    // Every holder answered each request before (five copies); now at most one a request.
    expect(asked).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.length).toBeLessThanOrEqual(asked);
  });
});
