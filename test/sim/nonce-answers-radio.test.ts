import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/core/state/ledger.js";
import { TxKind } from "../../src/core/tx/types.js";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { tx } from "../fixtures/chain.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;

function setup() {
  const sim = new ConsensusSim({ validators: 6, seed: 8, engine: { link: SIM_RADIO_LINK } });
  const user = sim.users[0]!;
  const sent = [0, 1, 2].map((nonce) => tx(user, nonce, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 1n }));
  const nonceAt = (i: number, final: boolean) => new Ledger(final ? sim.nodes[i]!.engine.finalizedState : sim.nodes[i]!.engine.head().state).account(user.address).nonce;
  return { sim, user, sent, nonceAt };
}

describe("a nonce gap's request on the radio, with every holder hearing the transaction on air", () => {
  it("is answered by one holder a slot (the ranked one), not by each, even when the holders cannot hear each other's answer", () => {
    const { sim, sent, nonceAt } = setup();
    const firstId = toHex(txHash(sent[0]!.bytes));
    let asked = 0;
    // Loaded radio queues (minutes long on a spent bridge): no holder hears another's answer in time.
    // Until node 0 asks, everything but the request is lost: no block carries nonce 0 and no copy of it
    // reaches node 0, so its gap is real when it leads.
    sim.filter = (_from, to, m) => (m.kind === "tx" ? to === 0 && asked > 0 : asked > 0 || m.kind === "get-nonces");
    sim.start();
    // Nonce 0 was heard on air by every validator but one; 1 and 2 by everyone. The one without it asks when it leads.
    for (let i = 1; i < 6; i++) sim.deliverTo(i, { kind: "tx", tx: sent[0]! });
    for (let i = 0; i < 6; i++) for (const t of sent.slice(1)) sim.deliverTo(i, { kind: "tx", tx: t });
    const answers: { from: number; at: number }[] = [];
    sim.onSend = (from, m) => {
      if (m.kind === "get-nonces") asked++;
      if (m.kind === "tx" && asked > 0 && toHex(txHash(m.tx.bytes)) === firstId) answers.push({ from, at: sim.clock.now() });
    };
    sim.runUntil(() => sim.nodes.every((_, i) => nonceAt(i, true) === 3), 10 * MINUTE, 10_000);
    for (let i = 0; i < 6; i++) expect(nonceAt(i, true)).toBe(3);
    // Every holder answered each request before (five copies); now at most one a request.
    expect(asked).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.length).toBeLessThanOrEqual(asked);
  });

  it("is not sent for a nonce that a block the node holds above finality carries (a restarted node's pool never sees it)", () => {
    const { sim, sent, nonceAt } = setup();
    let cutOff = false;
    // No transaction on air (node 0 must not hear nonce 0 but inside a block); later, node 0 hears nothing.
    sim.filter = (_from, to, m) => m.kind !== "tx" && !(cutOff && to === 0);
    sim.start();
    for (let i = 1; i < 6; i++) for (const t of sent) sim.deliverTo(i, { kind: "tx", tx: t });
    const requests: number[] = [];
    sim.onSend = (from, m) => {
      if (m.kind === "get-nonces") requests.push(from);
    };
    sim.runUntil(() => nonceAt(0, false) === 3, 5 * MINUTE, 1_000);
    // Node 0 holds the block with nonces 0..2 above its finality, and not nonce 0 in its pool.
    expect(nonceAt(0, false)).toBe(3);
    expect(nonceAt(0, true)).toBe(0);
    cutOff = true;
    // Nonces 1 and 2 arrive (late copies): its pool holds them waiting for nonce 0, which it never heard.
    for (const t of sent.slice(1)) sim.deliverTo(0, { kind: "tx", tx: t });
    expect(sim.nodes[0]!.pool.missingNonces()).toEqual([{ sender: sent[0]!.tx.sender, nonces: [0] }]);
    const ledBefore = sim.nodes[0]!.engine.stats.ledSlots;
    sim.run(3 * MINUTE);
    // Cut off, node 0 leads slots on its own head (holding the block) and finalizes nothing: the gap would have been asked for.
    expect(sim.nodes[0]!.engine.stats.ledSlots).toBeGreaterThan(ledBefore);
    expect(nonceAt(0, true)).toBe(0);
    cutOff = false;
    sim.runUntil(() => sim.nodes.every((_, i) => nonceAt(i, true) === 3), 10 * MINUTE, 10_000);
    for (let i = 0; i < 6; i++) expect(nonceAt(i, true)).toBe(3);
    expect(requests).toEqual([]);
  });
});
