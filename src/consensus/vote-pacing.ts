/*
 * On a radio channel every validator answers a proposal at the same moment, and Meshtastic's
 * contention window for a frame a radio originates is only 2^3–2^8 slots of ~28 ms (LongFast): two
 * radios that key up within the channel activity detection time (two and a half symbols, 20 ms)
 * destroy each other at every receiver. So a vote waits a pause first, spread over a window long
 * enough for the validators' votes and their relays to take turns.
 *
 * The pause is a turn (issue 20): the voters of a block (its voting set less its proposer, whose
 * header signature is its vote) speak in an order drawn per slot, one step of the window apart, so
 * each aggregate they send carries the ones before it, and once one frame carries a quorum the rest
 * stay silent (engine/voting.ts). The order is SHA-256 of slot and address (engine/responder.ts's
 * draw), the same at every node, and moves every slot: silence, and the reward share it forgoes
 * (docs/consensus.md §11: only the certificate's signers are paid), falls on every validator alike
 * over time.
 */

/** The voters' turns share at most this long, whatever the slot. */
export const VOTE_WINDOW_MAX_MS = 45_000;
/**
 * …and at most this share of the slot: the last turn ends within the first third of the slot, when
 * mid-slot retries may start (engine/voting.ts), counting one step for the proposal to spread.
 */
const VOTE_WINDOW_SLOT_SHARE = 1 / 4;
/**
 * Within its step a voter starts at random in this first share: the rest of the step is for its
 * frame and the mesh's relays of it to reach the next voter before that one builds its aggregate.
 */
const VOTE_STEP_JITTER_SHARE = 1 / 4;

/** The window the voters' turns share. */
export function voteWindowMs(slotMs: number): number {
  return Math.min(VOTE_WINDOW_MAX_MS, slotMs * VOTE_WINDOW_SLOT_SHARE);
}

/** One voter's step: the window shared by the block's voters. */
export function voteStepMs(slotMs: number, voters: number): number {
  return voteWindowMs(slotMs) / Math.max(1, voters);
}

/** A voter's place among a block's voters, how many there are, and how long ago the block was proposed. */
export interface VoteTurn {
  readonly rank: number;
  readonly voters: number;
  /** Time since the proposal was made (its header's timestamp, kept within its slot): turns count from there, not from when this node got the block. */
  readonly sinceProposalMs: number;
}

/**
 * A vote's pause before it goes on air: its turn is one step for the proposal to spread plus its
 * rank's steps after the proposal, with a random start within the step's first quarter; none when
 * the turn has passed (the block came late: the vote goes at once, unless a quorum was heard).
 */
export function votePauseMs(slotMs: number, turn: VoteTurn, random: () => number): number {
  const step = voteStepMs(slotMs, turn.voters);
  const rank = Math.min(Math.max(0, turn.rank), Math.max(0, turn.voters - 1));
  return Math.max(0, Math.floor(step * (1 + rank + VOTE_STEP_JITTER_SHARE * random()) - Math.max(0, turn.sinceProposalMs)));
}
