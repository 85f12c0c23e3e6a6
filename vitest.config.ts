import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import SummaryLineReporter from "./test/reporters/summary-line.js";

/**
 * Files whose several nodes or processes keep a consensus schedule on the wall clock (real slots of
 * one to three seconds over a broker or emulated radios). A validator starved of the CPU for a few
 * slots misses its votes, so these run in their own group, two at a time. Under `npm test`
 * (test/setup/run-groups.ts) they run beside the CPU-bound files (simulations doing BLS work, unit tests,
 * spawned CLIs), which run at the lowest CPU priority; under a bare `vitest run`, after them.
 * A new file of this kind belongs here, by its length; any other new file under test/ runs in the parallel group.
 */
export const REALTIME_FILES = [
  // Longest first (seconds on the idle two-core machine, docs/testing.md *Time*): they start in this order.
  "test/integration/ceremony-poa.test.ts",
  "test/integration/validators.test.ts",
  "test/integration/ceremony.test.ts",
  "test/integration/mqtt-devnet.test.ts",
  "test/integration/sync.test.ts",
  "test/integration/delivery.test.ts",
  // One validator on 300 ms slots, counting what a peer is answered per interval: wall-clock rates.
  "test/adversarial/network-trust.test.ts",
  // Emulated radios on a simulated channel driven by the wall clock (TCP, real timers): starved at nice 19, its
  // queue test has stalled at 31 of 40 frames (cause not found; see the test).
  "test/sim/stream-radio.test.ts",
  "test/adversarial/consensus-claims.test.ts",
  "test/integration/validator-joins.test.ts",
  "test/integration/cli-wallet.test.ts",
];

/**
 * The real-time files start in REALTIME_FILES' order, the longest first: on a fresh clone vitest has no
 * durations and starts the largest files first, which started the two 40 s devnet files (the smallest)
 * last, one of them running alone at the end. Every other file keeps vitest's own order.
 */
class RealtimeLongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => REALTIME_FILES.indexOf(relative(f.project.config.root, f.moduleId));
    const realtime = sorted.filter((f) => f.project.name === "realtime").sort((a, b) => rank(a) - rank(b));
    let next = 0;
    return sorted.map((f) => (f.project.name === "realtime" ? (realtime[next++] as TestSpecification) : f));
  }
}

const reporters = ["default", new SummaryLineReporter()];

export default defineConfig({
  test: {
    // The fault campaign and the deep seed sweeps run for many minutes: `npm run soak`
    // (vitest.soak.config.ts), never `npm test`.
    exclude: ["test/soak/**", "node_modules/**"],
    testTimeout: 60_000,
    pool: "forks",
    // The CLI the tests spawn, transpiled once per run (test/setup/build-cli.ts).
    globalSetup: ["test/setup/build-cli.ts"],
    // The same CLI run in the test's own process (test/fixtures/cli-in-process.ts), loaded by Node:
    // through vitest's module runner its module graph cost seconds per test file.
    server: { deps: { external: [/\/dist-test\//] } },
    reporters,
    sequence: { sequencer: RealtimeLongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: ["test/soak/**", "node_modules/**", ...REALTIME_FILES],
          // Two at a time on the two cores we plan for.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "realtime",
          include: REALTIME_FILES,
          maxWorkers: 2,
          // One more try for a test that failed: these keep real slots on a shared two-core machine, where a
          // stall of a few seconds can cost a quorum that a quiet machine would have had. A test that fails
          // twice fails the run; vitest's report names every test that needed its second try.
          retry: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
