import { describe, expect, it } from "vitest";
import type { DevnetReport, DevnetSample } from "../../src/devnet/common.js";
import { devnetReportHtml } from "../../src/devnet/report-html.js";
import { runSimDevnet } from "../../src/devnet/sim.js";

describe("devnet progress and its HTML report", () => {
  it("reports progress while it runs, keeps the timeline, and draws it as a self-contained page", async () => {
    const seen: DevnetSample[] = [];
    // Five virtual minutes: samples enough to see each told as it happened and never going back
    // (seed 5 finalizes from the second minute on); ten cost twice the CPU for the same checks.
    const r = await runSimDevnet({
      nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0, durationMs: 5 * 60_000, txPerMinute: 1, seed: 5, kill: false,
      params: { slotMs: 30_000n, fallbackRanks: 0n }, onProgress: (s) => seen.push(s),
    });
    // One sample a virtual minute (and one after the drain), each told as it happened.
    expect(seen.length).toBe(6);
    expect(r.txsFinalized).toBeGreaterThan(0);
    expect(r.timeline).toEqual(seen);
    expect(seen.map((s) => s.seconds).slice(0, 3)).toEqual([60, 120, 180]);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.finalizedHeight).toBeGreaterThanOrEqual(seen[i - 1]!.finalizedHeight);
      expect(seen[i]!.txsFinal).toBeGreaterThanOrEqual(seen[i - 1]!.txsFinal);
    }
    const last = seen.at(-1)!;
    // Finality moved during the run: the checks above compared samples that differ.
    expect(last.finalizedHeight).toBeGreaterThan(seen[0]!.finalizedHeight);
    expect(last.finalizedHeight).toBe(r.finalizedHeight);
    expect(last.txsFinal).toBe(r.txsFinalized);
    expect(last.airtimeSeconds.vote).toBeCloseTo(r.airtimeSeconds.vote, 1);
    expect(r.finalityLatenciesSeconds).toHaveLength(r.txsFinalized);
    // Every final transfer's latency split by phase (all three nodes are validators: each block's notarization was seen).
    const phases = r.finalityPhasesSeconds!;
    expect(phases.transfers).toBe(r.txsFinalized);
    expect(phases.proposalToNotarized.p50).toBeGreaterThan(0);
    // Each phase is a part of some transfer's latency (header times are whole seconds: one second's slack).
    const longest = Math.max(...r.finalityLatenciesSeconds!);
    for (const phase of [phases.toProposal, phases.proposalToNotarized, phases.notarizedToFinal]) expect(phase.p95!).toBeLessThanOrEqual(longest + 1);

    const html = devnetReportHtml(r, "devnet <seed 5>");
    expect(html).toContain("<title>devnet &#60;seed 5&#62;</title>");
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).toContain(`${r.txsFinalized} transactions`);
    // Self-contained: no script, nothing fetched.
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  }, 300_000);

  it("says so when there is nothing to plot", () => {
    const empty: DevnetReport = {
      virtualSeconds: 0, drainSeconds: 0, finalizedHeight: 0, finalizedHashesAgree: true, conflictingFinalized: 0, txsSubmitted: 0, txsFinalized: 0,
      finalityLatencySeconds: { p50: null, p95: null }, airtimeSeconds: { tx: 0, txOwn: 0, txResent: 0, block: 0, vote: 0, sync: 0, control: 0, other: 0, total: 0 }, overheadRatio: null, maxNodeDutyCycle: 0, restarts: 0,
    };
    const html = devnetReportHtml(empty, "empty");
    expect(html).toContain("No samples.");
    expect(html).toContain("No transaction became final.");
  });
});
