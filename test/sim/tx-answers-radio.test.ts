import { describe, expect, it } from "vitest";
import { ASKERS, radioSim, recordAnswers } from "./tx-answers.js";

const MINUTE = 60_000;

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
