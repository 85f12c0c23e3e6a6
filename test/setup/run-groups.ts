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
import buildTestCli, { TEST_CLI_DIR } from "./build-cli.js";

const LOWEST_PRIORITY = 19;
// vitest's package exports no path to its binary: found beside its package.json.
const VITEST = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
/** The plain line test/reporters/summary-line.ts ends each run with. */
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;

interface GroupResult {
  readonly name: string;
  readonly exitCode: number;
  readonly counts: readonly [passed: number, failed: number, skipped: number] | undefined;
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
      const m = SUMMARY.exec(line.trim());
      if (m) counts = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
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

const total = [0, 0, 0];
for (const r of results) r.counts?.forEach((n, i) => (total[i] = (total[i] ?? 0) + n));
for (const r of results) {
  const said = r.counts ? `${r.counts[0]} passed, ${r.counts[1]} failed, ${r.counts[2]} skipped` : "no summary (it did not finish its run)";
  process.stdout.write(`${r.name}: ${said}, exit ${r.exitCode}\n`);
}
const failed = results.some((r) => r.exitCode !== 0 || r.counts === undefined);
process.stdout.write(`\nboth groups in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
// The plain line CI systems read, for the whole run.
process.stdout.write(`${total[0]} passed, ${total[1]} failed${total[2] ? `, ${total[2]} skipped` : ""}\n`);
process.exitCode = failed ? 1 : 0;
