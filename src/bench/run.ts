import { readFileSync, writeFileSync } from "node:fs";
import { blockBenchmarks, signatureBenchmarks, transactionBenchmark } from "./ledger.js";
import { machineDescription, type Measurement } from "./harness.js";
import { consensusBenchmarks } from "./consensus.js";
import { simulatorBenchmark } from "./sim.js";
import { airtimeBenchmarks } from "./airtime.js";
import { syncBenchmark } from "./sync.js";

/*
 * npm run bench [-- --json] [-- --write] [-- --only=sync]
 * --write replaces the results section of docs/benchmarks.md (between the markers) with this run.
 * --only=NAME runs one group (ledger, consensus, sim, sync, airtime); --write needs them all.
 */
const argv = process.argv.slice(2);
const args = new Set(argv);
const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? null;
const groups: Record<string, () => Promise<Measurement[]> | Measurement[]> = {
  ledger: () => [...signatureBenchmarks(), transactionBenchmark(), ...blockBenchmarks()],
  sim: () => [simulatorBenchmark()],
  consensus: () => consensusBenchmarks(),
  sync: () => syncBenchmark(),
  airtime: () => airtimeBenchmarks(),
};
if (only !== null && !(only in groups)) throw new Error(`--only=${only}: expected one of ${Object.keys(groups).join(", ")}`);
if (only !== null && args.has("--write")) throw new Error("--write replaces the whole results table: run every group");
const results: Measurement[] = [];
for (const [name, run] of Object.entries(groups)) if (only === null || only === name) results.push(...(await run()));
const machine = machineDescription();
const date = new Date().toISOString().slice(0, 10);

function format(v: number): string {
  if (Number.isNaN(v)) return "n/a";
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
}

const table = [
  "| benchmark | result | unit | note |",
  "|---|---:|---|---|",
  ...results.map((r) => `| ${r.name} | ${format(r.value)} | ${r.unit} | ${r.note ?? ""} |`),
].join("\n");

if (args.has("--json")) {
  process.stdout.write(`${JSON.stringify({ machine, date, results }, null, 2)}\n`);
} else {
  process.stdout.write(`Machine: ${machine}\nDate: ${date}\n\n${table}\n`);
}

if (args.has("--write")) {
  const path = new URL("../../docs/benchmarks.md", import.meta.url);
  const doc = readFileSync(path, "utf8");
  const begin = "<!-- bench:ledger:begin -->";
  const end = "<!-- bench:ledger:end -->";
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error("docs/benchmarks.md lacks the bench:ledger markers");
  const section = `${begin}\nMachine: ${machine}. Date: ${date}.\n\n${table}\n${end}`;
  writeFileSync(path, doc.slice(0, i) + section + doc.slice(j + end.length));
}
