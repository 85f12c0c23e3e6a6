/*
 * On a radio channel every validator answers a proposal at the same moment, and Meshtastic's
 * contention window for a frame a radio originates is only 2^3–2^8 slots of ~28 ms (LongFast): two
 * radios that key up within the channel activity detection time (two and a half symbols, 20 ms)
 * destroy each other at every receiver. So a vote waits a random pause first, spread over a window
 * long enough for the validators' votes and their relays to take turns.
 */

/** A vote's pause is drawn from at most this long, whatever the slot. */
export const VOTE_WINDOW_MAX_MS = 30_000;
/** …and from at most this share of the slot, so votes are in well before the mid-slot retries. */
const VOTE_WINDOW_SLOT_SHARE = 1 / 6;

/** The window a vote's pause is drawn from. */
export function voteWindowMs(slotMs: number): number {
  return Math.min(VOTE_WINDOW_MAX_MS, slotMs * VOTE_WINDOW_SLOT_SHARE);
}

/** A vote's pause before it goes on air: uniform in the window. */
export function votePauseMs(slotMs: number, random: () => number): number {
  return Math.floor(random() * voteWindowMs(slotMs));
}
