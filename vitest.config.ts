import { defineConfig } from "vitest/config";
import SummaryLineReporter from "./test/reporters/summary-line.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fault campaign runs for many minutes: `npm run soak` (vitest.soak.config.ts), never `npm test`.
    exclude: ["test/soak/**", "node_modules/**"],
    testTimeout: 60_000,
    pool: "forks",
    // Two at a time on the two cores we plan for: many files wait on real time (brokers, devnets, spawned CLIs).
    maxWorkers: 2,
    reporters: ["default", new SummaryLineReporter()],
  },
});
