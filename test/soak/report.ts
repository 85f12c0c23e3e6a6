import { appendFileSync } from "node:fs";

/** One figure set of the fault campaign: printed, and appended as a JSON line to MESHCHAIN_SOAK_REPORT when set. */
export function report(campaign: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ campaign, at: new Date().toISOString(), ...figures });
  process.stdout.write(`soak ${line}\n`);
  const file = process.env.MESHCHAIN_SOAK_REPORT;
  if (file !== undefined) appendFileSync(file, `${line}\n`);
}
