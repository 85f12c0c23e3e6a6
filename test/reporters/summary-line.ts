import type { Reporter, TestModule } from "vitest/node";

export type Counts = readonly [passed: number, failed: number, skipped: number];

/** The plain "N passed, N failed" line CI systems read (skipped only when there are some). */
export function summaryLine([passed, failed, skipped]: Counts): string {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
}

/** The counts of a summary line, or null for any other line. */
export function parseSummaryLine(line: string): Counts | null {
  const m = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/.exec(line.trim());
  return m === null ? null : [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Ends the run with the plain "N passed, N failed" line that CI systems read. */
export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      // A file that failed to load has no tests to count, but it is a failure.
      if (m.state() === "failed" && [...m.children.allTests()].every((t) => t.result().state !== "failed")) failed++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${summaryLine([passed, failed, skipped])}\n`);
  }
}
