import { defineConfig } from "vitest/config";
import SummaryLineReporter from "./test/reporters/summary-line.js";

/**
 * `npm run soak`: the fault campaign (test/soak: broker outages, SIGKILLs during sync, full disks,
 * clock jumps) and the deep seed sweeps of the simulations; hours of CPU, never part of `npm test`.
 */
export default defineConfig({
  test: {
    include: ["test/soak/**/*.test.ts", "test/sim/**/*.test.ts", "test/integration/crash.test.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The CLI the tests spawn, transpiled once per run (test/setup/build-cli.ts).
    globalSetup: ["test/setup/build-cli.ts"],
    env: {
      MESHCHAIN_SAFETY_SEEDS: process.env.MESHCHAIN_SAFETY_SEEDS ?? "100",
      MESHCHAIN_SIM_SEEDS: process.env.MESHCHAIN_SIM_SEEDS ?? "32",
      MESHCHAIN_KILLS: process.env.MESHCHAIN_KILLS ?? "200",
      // The simulations' soak-only scenarios (test/sim/seeds.ts SOAK).
      MESHCHAIN_SIM_SOAK: "1",
    },
    reporters: ["default", new SummaryLineReporter()],
  },
});
