import { MeshChainError } from "../core/errors.js";

export class DurationError extends MeshChainError<"INVALID_ARGUMENT"> {}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "2h", "1h30m" → milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) {
    throw new DurationError("INVALID_ARGUMENT", `"${text}" is not a duration (like 90s, 30m, 2h)`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}
