import { describe, expect, it } from "vitest";
import { RADIO_LINK } from "../../src/consensus/engine.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { TxKind } from "../../src/core/tx/types.js";
import { tx } from "../fixtures/chain.js";
import { ConsensusSim } from "../sim/harness.js";
import { radioSim, recordAnswers } from "../sim/tx-answers.js";

const MINUTE = 60_000;

/*
 * Transaction requests (type 4) and the block key of their answers (type 16) are unsigned: anyone
 * sends them. A forged request must cost bounded airtime, a forged answer must silence no one.
 */
describe("forged transaction requests and answers on the radio", () => {
  it("a request repeated many times draws each transaction once within the repeat window", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 9, engine: { link: RADIO_LINK } });
    const { copies } = recordAnswers(sim);
    const onSend = sim.onSend;
    let request: ConsensusMessage | null = null;
    sim.onSend = (from, m, reach) => {
      onSend?.(from, m, reach);
      if (request === null && m.kind === "compact-proposal" && m.compact.shortIds.length === 1) request = { kind: "get-txs", slot: m.compact.slot, blockRef: m.compact.signature.subarray(0, 8), indexes: [0] };
    };
    sim.start();
    sim.submit(tx(sim.users[0]!, 0, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 5n }), 0);
    sim.runUntil(() => request !== null, 2 * MINUTE, 1_000);
    expect(request).not.toBeNull();
    sim.run(5_000);
    // Twenty copies of the request within a second, to every node (unsigned: anyone can send them).
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < sim.nodes.length; i++) sim.deliverTo(i, request!);
      sim.run(50);
    }
    sim.run(30_000);
    // The proposer once; a backup stays quiet, having heard it.
    expect([...copies.values()].map((s) => s.length)).toEqual([1]);
  });

  it("an answer that names a block but carries none of its transactions silences no one", () => {
    const sim = radioSim(7);
    const { copies } = recordAnswers(sim);
    const foreign = tx(sim.users[2]!, 40, { kind: TxKind.Transfer, to: sim.users[3]!.address, amount: 1n });
    // Each request is followed at once by a forged answer for the same block, to every node.
    const onSend = sim.onSend;
    let forged = 0;
    sim.onSend = (from, m, reach) => {
      onSend?.(from, m, reach);
      if (m.kind !== "get-txs") return;
      forged++;
      for (let i = 0; i < sim.nodes.length; i++) sim.deliverTo(i, { kind: "block-txs", slot: m.slot, blockRef: m.blockRef, txs: [foreign] });
    };
    sim.start();
    const target = sim.minFinalized() + 3;
    sim.runWithTrafficUntil(() => sim.minFinalized() >= target, 10 * MINUTE, 3_000);
    expect(forged).toBeGreaterThan(0);
    expect(sim.minFinalized()).toBeGreaterThanOrEqual(target);
    // The askers got every block's transactions all the same: one real answer each.
    const real = [...copies.entries()].filter(([key]) => !key.endsWith(toHex(txHash(foreign.bytes))));
    expect(real.length).toBeGreaterThan(0);
    for (const [, senders] of real) expect(senders).toHaveLength(1);
  });
});
