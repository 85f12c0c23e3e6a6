import type { Clock } from "../core/clock.js";

export type { Clock } from "../core/clock.js";
export { ManualClock } from "../core/clock.js";

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
