import { runSimDevnet, type DevnetReport } from "../devnet/sim.js";
import type { Measurement } from "./harness.js";

/**
 * The fixed airtime scenario of issue 6: 10 nodes, 7 validators, LongFast, 10% loss on every link,
 * a transfer every 20 s at a random node, 2 virtual hours, on the firmware-faithful channel. Chain
 * parameters are those chosen for the preset (consensus/preset-params.ts: 150 s slots, 9
 * transactions a block, so that a block's compact announcement is one LongFast frame).
 */
export const AIRTIME_SCENARIO = {
  nodes: 10, validators: 7, preset: "LONG_FAST", loss: 0.1, durationMs: 2 * 3_600_000, txPerMinute: 3, seed: 1,
} as const;

function measurements(label: string, r: DevnetReport): Measurement[] {
  const a = r.airtimeSeconds;
  const share = (x: number) => `${Math.round((x / a.total) * 100)}%`;
  return [
    { name: `airtime scenario${label}: overhead ratio`, value: r.overheadRatio ?? Number.NaN, unit: "× own tx airtime", note: `total ${Math.round(a.total)} s: tx ${share(a.tx)} (own ${share(a.txOwn)}, sent again ${share(a.txResent)}), block ${share(a.block)}, vote ${share(a.vote)}, control ${share(a.control)}, sync ${share(a.sync)}` },
    { name: `airtime scenario${label}: transactions finalized`, value: r.txsFinalized, unit: `of ${r.txsSubmitted}`, note: `finalized height ${r.finalizedHeight}, hashes agree: ${r.finalizedHashesAgree}, conflicting: ${r.conflictingFinalized}, restarts ${r.restarts}, drain ${r.drainSeconds} s` },
    { name: `airtime scenario${label}: finality latency p50`, value: r.finalityLatencySeconds.p50 ?? Number.NaN, unit: "s", note: `p95 ${r.finalityLatencySeconds.p95 ?? "n/a"} s` },
    { name: `airtime scenario${label}: busiest radio`, value: r.maxNodeDutyCycle * 100, unit: "% of an hour", note: "EU_868 allows 10%" },
  ];
}

export async function airtimeBenchmarks(): Promise<Measurement[]> {
  const plain = await runSimDevnet({ ...AIRTIME_SCENARIO, kill: false });
  const killed = await runSimDevnet({ ...AIRTIME_SCENARIO, kill: true });
  return [...measurements("", plain), ...measurements(" with --kill", killed)];
}
