import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { PRESETS, type PresetName } from "../mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import { encodeFrame, FRAGMENT_HEADER_BYTES, MessageType } from "../mesh/frame.js";
import { compactBlockCodec } from "../mesh/messages/relay.js";
import { MESHTASTIC_MTU } from "../mesh/transports/meshtastic-mqtt.js";
import { encodeConsensusMessage } from "./wire.js";

/*
 * Chain parameters chosen from the modem preset and the number of validators (issue 20): written
 * into a genesis made for a preset (`meshchain genesis new --preset`), used by `meshchain devnet`
 * by default, printed by `meshchain airtime --recommend`. Request and answer timing follows the slot
 * (the engine's answer windows are a sixth of it, its retries fall in its middle third).
 */

/**
 * Transmissions per flood of one frame on the firmware-faithful channel: the origin's plus its relays
 * (managed flooding cancels most, collisions defeat some of the cancelling). Measured in the airtime
 * scenario, 10 nodes, hop limit 3: about three.
 */
const TRANSMISSIONS_PER_FLOOD = 3;
/** A round (proposal and every validator's vote, each flooded) may hold the channel for at most this share of the slot. */
const CONSENSUS_CHANNEL_SHARE = 1 / 6;
/** …and a validator's own part of it at most this share of its airtime budget. */
const CONSENSUS_BUDGET_SHARE = 0.5;
/** Slots are whole multiples of this. */
const SLOT_STEP_MS = 5_000;
const MIN_SLOT_MS = 5_000;
/**
 * Block capacity over the expected transaction rate, when one is given: slots that miss their quorum
 * carry nothing, and a backlog must drain faster than it fills, or latency is only queueing (at 15
 * validators, 9-transaction blocks every 290 s carried 1.9 transfers a minute against 3 submitted).
 */
const RATE_HEADROOM = 1.2;
/** Full transaction bytes a block is budgeted per transaction (a transfer is about 100 on the wire). */
const BLOCK_BYTES_PER_TX = 110;
const MAX_BLOCK_BYTES = 16_384;
const MAX_BLOCK_TXS = Math.floor(MAX_BLOCK_BYTES / BLOCK_BYTES_PER_TX);

export interface PresetParams {
  /** Slot length: one round of consensus fits a sixth of it. */
  readonly slotMs: bigint;
  /** Transactions per block: as many as keep the compact announcement in one frame. */
  readonly maxBlockTxs: bigint;
  /** No fallback proposers on the radio: every extra proposal costs the whole mesh a frame. */
  readonly fallbackRanks: bigint;
  /** Only when blocks must grow past one frame for the expected rate: room for their transactions. */
  readonly maxBlockBytes?: bigint;
}

export interface PresetParamsOptions {
  /** Airtime each validator allows itself, seconds an hour. */
  readonly budgetSecondsPerHour?: number;
  /**
   * Transactions a minute the chain is expected to carry: blocks grow (their compact announcement
   * then takes several frames, and the slot grows with it) until they carry this rate with headroom.
   */
  readonly txPerMinute?: number;
}

export interface PresetParamsExplained {
  readonly params: PresetParams;
  /** Airtime of one round (a compact proposal and every vote, each flooded), ms. */
  readonly roundAirtimeMs: number;
  /** What one validator sends in a slot on average (its vote, its share of proposals, flooded), ms. */
  readonly validatorSlotAirtimeMs: number;
  readonly compactBlockFrameBytes: number;
  /** Frames the compact announcement of a full block takes: 1 unless the expected rate needs more. */
  readonly compactBlockFrames: number;
  readonly voteFrameBytes: number;
  /** Transactions a minute full blocks carry, one finalized every slot. */
  readonly capacityTxPerMinute: number;
}

const frameBytes = (type: MessageType, payload: Uint8Array): number => encodeFrame({ type, messageId: 0xffff, fragment: null, payload }).length;

/**
 * Bytes of a compact proposal with `txs` short ids, carrying its parent's notarization signed by
 * every validator (as most do); one that also carries a notarization certificate may take two frames.
 */
function compactFrameBytes(txs: number, validators: number, slotMs: number): number {
  const aggregate = { signers: new Uint8Array(Math.ceil(validators / 8)).fill(0xff), signature: new Uint8Array(48) };
  const payload = compactBlockCodec.encode({
    // Heights and slots below 2^21 (years of slots), a parent one slot back.
    height: 2 ** 21 - 1, slot: 2 ** 21 - 1, timestampDelta: Math.ceil(slotMs / 1000), parentHash: new Uint8Array(32), proposerIndex: validators - 1, randaoReveal: new Uint8Array(48),
    certificate: null, signature: new Uint8Array(48), shortIds: Array.from({ length: txs }, () => new Uint8Array(4)), notarization: aggregate,
  });
  return frameBytes(MessageType.CompactBlock, payload);
}

/**
 * A validator's vote as it goes on the radio: a vote aggregate (vote-aggregation.ts) with every
 * validator's bit set, the largest it gets; 64 bytes on air for up to eight validators, against 87
 * for a lone vote.
 */
function voteFrameBytes(validators: number): number {
  const signers = new Uint8Array(Math.ceil(validators / 8)).fill(0xff);
  signers[signers.length - 1] = 0xff >> ((8 - (validators % 8)) % 8);
  const { type, payload } = encodeConsensusMessage({ kind: "vote-aggregate", height: 0xffffff, blockRef: new Uint8Array(8), signers, signature: new Uint8Array(48) });
  return frameBytes(type, payload);
}

/** Frames a message of `bytes` (one frame's header included) takes on the radio. */
function framesFor(bytes: number): number {
  if (bytes <= MESHTASTIC_MTU) return 1;
  return Math.ceil((bytes - FRAGMENT_HEADER_BYTES) / (MESHTASTIC_MTU - FRAGMENT_HEADER_BYTES));
}

interface Round {
  readonly slotMs: number;
  readonly roundAirtimeMs: number;
  readonly validatorSlotAirtimeMs: number;
  readonly compactBytes: number;
  readonly frames: number;
}

/** The slot a round of `txs`-transaction blocks needs on this preset, by the channel and by the budget. */
function roundFor(preset: PresetName, validators: number, txs: number, voteMs: number, budgetSecondsPerHour: number): Round {
  const m = PRESETS[preset];
  const compactBytes = compactFrameBytes(txs, validators, 600_000);
  const frames = framesFor(compactBytes);
  // A last fragment is shorter than a full frame; counting every fragment full errs on the safe side.
  const compactMs = frames * meshtasticFrameAirtimeMs(m, Math.min(compactBytes, MESHTASTIC_MTU));
  const roundAirtimeMs = TRANSMISSIONS_PER_FLOOD * (compactMs + validators * voteMs);
  const validatorSlotAirtimeMs = TRANSMISSIONS_PER_FLOOD * (voteMs + compactMs / validators);
  const byChannel = roundAirtimeMs / CONSENSUS_CHANNEL_SHARE;
  const byBudget = (3_600_000 * validatorSlotAirtimeMs) / (budgetSecondsPerHour * 1000 * CONSENSUS_BUDGET_SHARE);
  const slotMs = Math.max(MIN_SLOT_MS, Math.ceil(Math.max(byChannel, byBudget) / SLOT_STEP_MS) * SLOT_STEP_MS);
  return { slotMs, roundAirtimeMs, validatorSlotAirtimeMs, compactBytes, frames };
}

/** The parameters for a preset and a validator count (and, if given, an expected transaction rate), with the figures they come from. */
export function presetParams(preset: PresetName, validators: number, opts: PresetParamsOptions = {}): PresetParamsExplained {
  if (!Number.isInteger(validators) || validators < 1 || validators > 256) throw new RangeError(`validators must be 1-256, not ${validators}`);
  const rate = opts.txPerMinute;
  if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0 && rate <= 600)) throw new RangeError(`txPerMinute must be 0-600, not ${rate}`);
  const budget = opts.budgetSecondsPerHour ?? DEFAULT_AIRTIME_POLICY.budgetSecondsPerHour;
  let maxBlockTxs = 1;
  while (maxBlockTxs < 64 && compactFrameBytes(maxBlockTxs + 1, validators, 600_000) <= MESHTASTIC_MTU) maxBlockTxs++;
  const voteBytes = voteFrameBytes(validators);
  const voteMs = meshtasticFrameAirtimeMs(PRESETS[preset], voteBytes);
  let round = roundFor(preset, validators, maxBlockTxs, voteMs, budget);
  // Bigger blocks lengthen the slot, which asks for bigger blocks again: a few rounds settle it (the
  // slot grows by a fragment's airtime per ~50 transactions, far less than the transactions it adds).
  for (let i = 0; rate !== undefined && i < 16; i++) {
    const needed = Math.ceil(((rate * round.slotMs) / 60_000) * RATE_HEADROOM);
    if (needed <= maxBlockTxs || maxBlockTxs >= MAX_BLOCK_TXS) break;
    maxBlockTxs = Math.min(needed, MAX_BLOCK_TXS);
    round = roundFor(preset, validators, maxBlockTxs, voteMs, budget);
  }
  const grown = round.frames > 1;
  return {
    params: {
      slotMs: BigInt(round.slotMs), maxBlockTxs: BigInt(maxBlockTxs), fallbackRanks: 0n,
      ...(grown ? { maxBlockBytes: BigInt(Math.min(MAX_BLOCK_BYTES, Math.max(4_096, maxBlockTxs * BLOCK_BYTES_PER_TX))) } : {}),
    },
    roundAirtimeMs: round.roundAirtimeMs, validatorSlotAirtimeMs: round.validatorSlotAirtimeMs,
    compactBlockFrameBytes: round.compactBytes, compactBlockFrames: round.frames, voteFrameBytes: voteBytes,
    capacityTxPerMinute: (maxBlockTxs * 60_000) / round.slotMs,
  };
}
