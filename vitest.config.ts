import { defineConfig } from "vitest/config";
import SummaryLineReporter from "./test/reporters/summary-line.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryLineReporter()],
  },
});
