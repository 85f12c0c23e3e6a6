import { PRESETS } from "../../mesh/airtime/presets.js";
import { turnStepAirtimeMs, votePauseMs, voteStepMs, type VoteTurn } from "../vote-pacing.js";

/**
 * How the engine talks on the link it has: every choice that differs between a broadcast radio
 * channel and a point-to-point IP link lives here, so the handlers read the same on both and the
 * two never drift apart (they were two booleans, always set together, tested in 13 places).
 *
 * On the radio one answer serves everyone and every frame costs airtime the whole mesh shares: few
 * holders answer, after a random pause, and stay quiet once another's answer is heard; own votes
 * are paced and sent aggregated. On IP, answers are cheap and immediate.
 *
 * `random` is the engine's seeded source: a profile draws from it only where the radio needs chance,
 * so that simulations repeat draw for draw.
 */
export interface LinkProfile {
  readonly name: "radio" | "ip";
  /** Proposals and block answers go in compact form (short transaction ids), and finalized blocks keep theirs. */
  readonly compactRelay: boolean;
  /** Others hear our answers and we hear theirs: an answer heard makes ours redundant. */
  readonly answersOverheard: boolean;
  /** Own votes go out with the other votes held for the block, in one aggregate frame. */
  readonly aggregatesOwnVotes: boolean;
  /** Whether this holder answers a request at all; `validators` is the size of the voting set. */
  answers(random: () => number, validators: number): boolean;
  /** Pause before answering a block request; null: answer at once. */
  blockAnswerPauseMs(random: () => number, slotMs: number): number | null;
  /** Pause before answering a request for a range of blocks. */
  rangeAnswerPauseMs(random: () => number, answerWindowMs: number): number;
  /** Pause before answering a request for a block's transactions: the proposer answers at once, a backup late. */
  txsAnswerPauseMs(random: () => number, answerWindowMs: number, proposer: boolean): number;
  /** Pause before sending an own vote, given its turn among the block's voters; null: send it at once. */
  ownVotePauseMs(random: () => number, slotMs: number, turn: VoteTurn): number | null;
  /** One turn's step among `voters` (vote-pacing.ts): where precommit turns start and end. */
  turnStepMs(slotMs: number, voters: number): number;
}

/**
 * The chance that a node holding what was asked for answers at all, on a broadcast channel: about
 * two answers per request whatever the network's size, since suppression fails between nodes that
 * cannot hear each other, and every extra answer is flooded by the whole mesh.
 */
export function radioAnswerProbability(validators: number): number {
  return Math.min(1, 2 / Math.max(1, validators));
}

/**
 * The radio's profile, with turns a step of `airtimeStepMs` apart (the preset's turnStepAirtimeMs),
 * or less when the slot's share of the vote window is less.
 */
export function radioLink(airtimeStepMs: number): LinkProfile {
  return {
    name: "radio",
    compactRelay: true,
    answersOverheard: true,
    aggregatesOwnVotes: true,
    answers: (random, validators) => random() < radioAnswerProbability(validators),
    // Hidden nodes cannot hear each other's answers: the pause lets most hear one, the asker asks again next slot.
    blockAnswerPauseMs: (random, slotMs) => Math.floor((random() * slotMs) / 3),
    rangeAnswerPauseMs: (random, windowMs) => Math.floor(random() * windowMs),
    // The backup waits three to five answer windows: the proposer's answer leaves at once but queues
    // behind consensus and transaction frames (sync priority), and a backup at one to three windows
    // had not heard it yet (devnet seed 4 --kill: heard 17 to 32 s after it left the engine; 18 of
    // 77 transactions answered were a backup's copies).
    txsAnswerPauseMs: (random, windowMs, proposer) => (proposer ? 0 : Math.floor(windowMs * (3 + 2 * random()))),
    // Every validator answers the proposal at once: the voters take turns (vote-pacing.ts).
    ownVotePauseMs: (random, slotMs, turn) => votePauseMs(slotMs, turn, random, airtimeStepMs),
    turnStepMs: (slotMs, voters) => voteStepMs(slotMs, voters, airtimeStepMs),
  };
}

/** The radio at LongFast, the default preset. */
export const RADIO_LINK: LinkProfile = radioLink(turnStepAirtimeMs(PRESETS.LONG_FAST));

export const IP_LINK: LinkProfile = {
  name: "ip",
  compactRelay: false,
  answersOverheard: false,
  aggregatesOwnVotes: false,
  answers: () => true,
  blockAnswerPauseMs: () => null,
  rangeAnswerPauseMs: () => 0,
  txsAnswerPauseMs: () => 0,
  ownVotePauseMs: () => null,
  // No turns on IP (votes go at once): the slot's share sizes where precommit copies are timed.
  turnStepMs: (slotMs, voters) => voteStepMs(slotMs, voters),
};
