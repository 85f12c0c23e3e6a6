import { runSimDevnet, type DevnetReport } from "../devnet/sim.js";
import { AIRTIME_SCENARIO } from "./airtime.js";

/*
 * The airtime scenario over many seeds (issue 20): median and worst of each figure.
 *   npx tsx src/bench/airtime-matrix.ts [--seeds 1-8] [--kill] [--validators 7] [--nodes 10] [--hop-limit 3] [--routers 0] [--json]
 * Chain parameters are those chosen for the preset and the validator count (consensus/preset-params.ts).
 * CPU-heavy (a few minutes a seed): run it niced.
 */

export interface MatrixRow {
  readonly seed: number;
  readonly overheadRatio: number;
  readonly p50: number;
  readonly p95: number;
  readonly finalized: number;
  readonly submitted: number;
  readonly conflicting: number;
  readonly shares: Readonly<Record<string, number>>;
  /** Share of all airtime by message type, %. */
  readonly typeShares: Readonly<Record<string, number>>;
  readonly busiestRadioPercent: number;
}

export function matrixRow(seed: number, r: DevnetReport): MatrixRow {
  const a = r.airtimeSeconds;
  const shares = Object.fromEntries((["tx", "txOwn", "txResent", "block", "vote", "control", "sync", "other"] as const).map((k) => [k, Math.round((a[k] / a.total) * 1000) / 10]));
  const typeShares = Object.fromEntries(Object.entries(r.airtimeSecondsByType ?? {}).map(([k, v]) => [k, Math.round((v / a.total) * 1000) / 10]));
  return {
    typeShares, seed, overheadRatio: r.overheadRatio ?? Number.NaN, p50: r.finalityLatencySeconds.p50 ?? Number.NaN, p95: r.finalityLatencySeconds.p95 ?? Number.NaN,
    finalized: r.txsFinalized, submitted: r.txsSubmitted, conflicting: r.conflictingFinalized, shares, busiestRadioPercent: Math.round(r.maxNodeDutyCycle * 1000) / 10,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Median and worst (highest for costs and latencies) over the rows. */
export function summariseMatrix(rows: readonly MatrixRow[]): Record<string, { median: number; worst: number }> {
  const figure = (f: (r: MatrixRow) => number, worstIsLow = false) => {
    const xs = rows.map(f);
    return { median: Math.round(median(xs) * 100) / 100, worst: worstIsLow ? Math.min(...xs) : Math.max(...xs) };
  };
  return {
    overheadRatio: figure((r) => r.overheadRatio), p50: figure((r) => r.p50), p95: figure((r) => r.p95),
    finalizedShare: figure((r) => r.finalized / Math.max(1, r.submitted), true), conflicting: figure((r) => r.conflicting),
    voteShare: figure((r) => r.shares.vote ?? 0), blockShare: figure((r) => r.shares.block ?? 0), controlShare: figure((r) => r.shares.control ?? 0),
    busiestRadioPercent: figure((r) => r.busiestRadioPercent),
  };
}

function parseSeeds(s: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (m === null) throw new RangeError(`--seeds ${s}: like 1-8 or 3`);
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function main(argv: readonly string[]): Promise<void> {
  const value = (flag: string, fallback: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
  };
  const seeds = parseSeeds(value("--seeds", "1-8"));
  const kill = argv.includes("--kill");
  const validators = Number(value("--validators", String(AIRTIME_SCENARIO.validators)));
  const nodes = Number(value("--nodes", String(Math.max(AIRTIME_SCENARIO.nodes, validators))));
  const hopLimit = argv.includes("--hop-limit") ? Number(value("--hop-limit", "3")) : undefined;
  const routers = Number(value("--routers", "0"));
  const rows: MatrixRow[] = [];
  for (const seed of seeds) {
    const report = await runSimDevnet({ ...AIRTIME_SCENARIO, nodes, validators, seed, kill, ...(hopLimit === undefined ? {} : { hopLimit }), routers });
    const row = matrixRow(seed, report);
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  const summary = { nodes, validators, kill, seeds, routers, ...summariseMatrix(rows) };
  process.stdout.write(`${JSON.stringify(argv.includes("--json") ? { summary, rows } : summary)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  await main(process.argv.slice(2));
}
