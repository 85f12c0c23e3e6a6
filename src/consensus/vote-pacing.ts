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
 *
 * A step is what a turn frame needs on the preset's air (turnStepAirtimeMs), the slot only bounding
 * it: the precommit turns (engine/precommitting.ts) follow the vote turns step for step, so every
 * second a step wastes is paid twice per block in finality latency.
 */

import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import type { LoraModulation } from "../mesh/airtime/presets.js";
import { encodeFrame } from "../mesh/frame.js";
import { slotTimeMs } from "../mesh/airtime/channel-access.js";
import { encodeConsensusMessage } from "./wire.js";

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

/**
 * A turn frame's own contention window: 2^5 slots of channel activity detection, what the firmware
 * draws from for a frame it originates at 40–59% channel utilisation (mesh/airtime/channel-access.ts,
 * getTxDelayMsec); the devnet's channel runs at about that while transfers flow.
 */
const TURN_CONTENTION_WINDOW = 5;
/**
 * Frames a step makes room for: the turn frame and two others its radio may find on air first (a
 * transfer and a relay of it). Room for one other only (a 4.0 s step at LongFast) was too tight on
 * devnet seeds 1–3: turn frames queued past the next turn and precommit copies went before the quorum
 * frame's relays landed (0.2–0.8 copies a block against 0.04–0.11, vote and precommit airtime 2–5 s a
 * block more; docs/benchmarks.md, "Turns sized by airtime").
 */
const TURN_STEP_FRAMES = 3;
/** Verifying the aggregate heard and building ours on it, with the radio's serial link: generous for a BLS pairing on a Pi. */
const TURN_PROCESSING_MS = 250;
/** Validators a turn frame's bitmap is sized for: the size barely moves its airtime (one byte per eight). */
const TURN_FRAME_VALIDATORS = 16;

/**
 * The step a turn frame needs on a preset, whatever the slot: its radio's contention delay, its own
 * airtime and that of frames it may wait behind, and processing at the next voter, in the three
 * quarters of the step after the random start (5.24 s at LongFast, where a slot-sized step was
 * 6.25 s at 150 s with six voters, 7.5 s at 180 s). Turns sized by the slot alone waited longer the
 * longer the slot, though a frame takes the same time on air.
 */
export function turnStepAirtimeMs(m: LoraModulation): number {
  const signers = new Uint8Array(TURN_FRAME_VALIDATORS / 8).fill(0xff);
  const { type, payload } = encodeConsensusMessage({ kind: "vote-aggregate", height: 0xffffff, blockRef: new Uint8Array(8), signers, signature: new Uint8Array(48) });
  const frameMs = meshtasticFrameAirtimeMs(m, encodeFrame({ type, messageId: 0xffff, fragment: null, payload }).length);
  const busyMs = 2 ** TURN_CONTENTION_WINDOW * slotTimeMs(m) + TURN_STEP_FRAMES * frameMs + TURN_PROCESSING_MS;
  return Math.ceil(busyMs / (1 - VOTE_STEP_JITTER_SHARE));
}

/** The window the voters' turns share when the slot alone sizes them. */
export function voteWindowMs(slotMs: number): number {
  return Math.min(VOTE_WINDOW_MAX_MS, slotMs * VOTE_WINDOW_SLOT_SHARE);
}

/**
 * One voter's step: what a turn frame needs on air (`airtimeStepMs`, turnStepAirtimeMs of the
 * preset), bounded by the slot's share of the window among the block's voters; with no airtime
 * given (Infinity), the slot's share alone.
 */
export function voteStepMs(slotMs: number, voters: number, airtimeStepMs = Number.POSITIVE_INFINITY): number {
  return Math.min(airtimeStepMs, voteWindowMs(slotMs) / Math.max(1, voters));
}

/**
 * How long `voters` turns take after the first step (the one for the proposal, or for the
 * notarization, to spread): where the precommit turns start after the vote turns, and where the last
 * precommit turn ends.
 */
export function turnsSpanMs(slotMs: number, voters: number, airtimeStepMs = Number.POSITIVE_INFINITY): number {
  return Math.max(1, voters) * voteStepMs(slotMs, voters, airtimeStepMs);
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
export function votePauseMs(slotMs: number, turn: VoteTurn, random: () => number, airtimeStepMs = Number.POSITIVE_INFINITY): number {
  const step = voteStepMs(slotMs, turn.voters, airtimeStepMs);
  const rank = Math.min(Math.max(0, turn.rank), Math.max(0, turn.voters - 1));
  return Math.max(0, Math.floor(step * (1 + rank + VOTE_STEP_JITTER_SHARE * random()) - Math.max(0, turn.sinceProposalMs)));
}
