/**
 * `npm test`: the two vitest projects of vitest.config.ts side by side, as two vitest processes.
 *
 * Run by one vitest they take turns (one pool per `sequence.groupOrder`), and the real-time group, which
 * mostly waits on its wall-clock slots, left one core idle for two minutes after the CPU-bound group.
 * Side by side, the parallel group runs at the lowest CPU priority (nice 19, inherited by its workers and
 * every process they spawn): the kernel then gives the real-time files the CPU whenever they want it, so
 * their validators keep their slots as when they ran alone, and the parallel group takes what is left.
 *
 * Extra arguments go to both (`npm test -- test/unit`): a filter that matches no file of one project
 * is no failure. Each line is prefixed with its group; the last line adds both groups up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { type Counts, parseSummaryLine, summaryLine } from "../reporters/summary-line.js";
import buildTestCli, { TEST_CLI_DIR } from "./build-cli.js";

const LOWEST_PRIORITY = 19;
// vitest's package exports no path to its binary: found beside its package.json.
const VITEST = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

interface GroupResult {
  readonly name: string;
  readonly exitCode: number;
  readonly counts: Counts | undefined;
}

function runGroup(name: string, lowPriority: boolean, extraArgs: readonly string[]): { child: ChildProcess; done: Promise<GroupResult> } {
  const args = [VITEST, "run", "--project", name, ...(extraArgs.length > 0 ? ["--passWithNoTests", ...extraArgs] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    // Built once below for both groups: their global setup sees it and skips the build.
    env: { ...process.env, TEST_CLI_BUILT_INTO: TEST_CLI_DIR, ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}) },
  });
  // Set before vitest has loaded its config, so before it forks a worker: every worker inherits it.
  if (lowPriority && child.pid !== undefined) setPriority(child.pid, LOWEST_PRIORITY);
  const label = `${name.padEnd(8)} │ `;
  let counts: GroupResult["counts"];
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    createInterface({ input: from }).on("line", (line) => {
      to.write(`${label}${line}\n`);
      counts = parseSummaryLine(line) ?? counts;
    });
  }
  const done = new Promise<GroupResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ name, exitCode: code ?? (signal ? 1 : 0), counts }));
  });
  return { child, done };
}

const started = Date.now();
buildTestCli();
const extraArgs = process.argv.slice(2);
const groups = [runGroup("realtime", false, extraArgs), runGroup("parallel", true, extraArgs)];
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => groups.forEach((g) => g.child.kill(signal)));
}
const results = await Promise.all(groups.map((g) => g.done));

const sum = (i: 0 | 1 | 2): number => results.reduce((n, r) => n + (r.counts?.[i] ?? 0), 0);
for (const r of results) {
  process.stdout.write(`${r.name}: ${r.counts ? summaryLine(r.counts) : "no summary (it did not finish its run)"}, exit ${r.exitCode}\n`);
}
const failed = results.some((r) => r.exitCode !== 0 || r.counts === undefined);
process.stdout.write(`\nboth groups in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
// The plain line CI systems read, for the whole run.
process.stdout.write(`${summaryLine([sum(0), sum(1), sum(2)])}\n`);
process.exitCode = failed ? 1 : 0;
