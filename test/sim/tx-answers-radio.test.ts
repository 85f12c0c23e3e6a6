import { describe, expect, it } from "vitest";
import { RADIO_LINK } from "../../src/consensus/engine.js";
import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { TxKind } from "../../src/core/tx/types.js";
import { tx } from "../fixtures/chain.js";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;
/** Nodes that hear no transaction gossip, nor each other's requests: each asks for every block's transactions itself. */
const ASKERS = [3, 4, 5];

type Answer = Extract<ConsensusMessage, { kind: "block-txs" }>;

/** Every transaction sent in a block-txs answer, by block key and transaction, with who sent it. */
function recordAnswers(sim: ConsensusSim): { copies: Map<string, number[]>; requests: Map<string, number> } {
  const copies = new Map<string, number[]>();
  const requests = new Map<string, number>();
  sim.onSend = (from, m) => {
    if (m.kind === "get-txs") requests.set(`${m.slot}:${toHex(m.blockRef)}`, (requests.get(`${m.slot}:${toHex(m.blockRef)}`) ?? 0) + 1);
    if (m.kind !== "block-txs") return;
    for (const t of (m as Answer).txs) {
      const key = `${m.slot}:${toHex(m.blockRef)}:${toHex(txHash(t.bytes))}`;
      copies.set(key, [...(copies.get(key) ?? []), from]);
    }
  };
  return { copies, requests };
}

function radioSim(seed: number): ConsensusSim {
  const sim = new ConsensusSim({ validators: 6, seed, engine: { link: RADIO_LINK } });
  // Requests that cross on the air: no asker hears another's request before sending its own.
  sim.filter = (from, to, m) => !(ASKERS.includes(to) && (m.kind === "tx" || (m.kind === "get-txs" && ASKERS.includes(from))));
  return sim;
}

describe("answers to transaction requests on the radio", () => {
  it("send each of a block's transactions once, however many nodes ask for it at the same time", () => {
    const sim = radioSim(5);
    const { copies, requests } = recordAnswers(sim);
    sim.start();
    const target = sim.minFinalized() + 4;
    sim.runWithTrafficUntil(() => sim.minFinalized() >= target, 10 * MINUTE, 3_000);
    expect(sim.minFinalized()).toBeGreaterThanOrEqual(target);
    expect(sim.conflictingFinalized).toBe(0);
    // Blocks asked for by several nodes at once: the proposer answered each request apart before (a copy each).
    expect([...requests.values()].some((n) => n > 1)).toBe(true);
    expect(copies.size).toBeGreaterThan(0);
    for (const senders of copies.values()) expect(senders).toHaveLength(1);
  });

  it("are sent by one backup, not every holder, when the proposer is gone", () => {
    const sim = radioSim(6);
    const { copies } = recordAnswers(sim);
    let gone: number | null = null;
    const onSend = sim.onSend;
    sim.onSend = (from, m, reach) => {
      onSend?.(from, m, reach);
      // The proposer goes down as its proposal leaves (that still reaches everyone): only backups can answer.
      if (gone === null && m.kind === "compact-proposal" && m.compact.notarization === null && m.compact.shortIds.length > 0 && !ASKERS.includes(from)) {
        gone = from;
        sim.crash(from);
      }
    };
    sim.start();
    sim.runWithTrafficUntil(() => gone !== null, 5 * MINUTE, 3_000);
    expect(gone).not.toBeNull();
    const height = sim.minFinalized();
    sim.runUntil(() => sim.nodes.every((n, i) => i === gone || n.engine.finalizedHeight > height + 1), 5 * MINUTE, 1_000);
    for (let i = 0; i < sim.nodes.length; i++) if (i !== gone) expect(sim.nodes[i]!.engine.finalizedHeight).toBeGreaterThan(height + 1);
    // Every holder answered with chance 2/6 before: two or three copies when the holders did not hear each other in time.
    expect(copies.size).toBeGreaterThan(0);
    for (const senders of copies.values()) expect(senders).toHaveLength(1);
  });
});

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
