import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { PRESETS, type PresetName } from "../mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import { encodeFrame, MessageType } from "../mesh/frame.js";
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

export interface PresetParams {
  /** Slot length: one round of consensus fits a sixth of it. */
  readonly slotMs: bigint;
  /** Transactions per block: as many as keep the compact announcement in one frame. */
  readonly maxBlockTxs: bigint;
  /** No fallback proposers on the radio: every extra proposal costs the whole mesh a frame. */
  readonly fallbackRanks: bigint;
  /** Short transaction ids of 3 bytes: 13 transactions in a LongFast frame for 7 validators, against 9 at 4 bytes. */
  readonly shortIdBytes: bigint;
  /**
   * Finality by precommits too (docs/consensus.md §17): a block final in its own slot, about half the
   * two-slot rule's latency for one more round of vote-sized frames (docs/decisions.md, "Precommits on
   * preset chains"). The slot above is sized for one round; the measured chain holds both within the
   * duty cycle (docs/benchmarks.md).
   */
  readonly finalityRule: bigint;
}

/**
 * The most transactions a rebuild matches short ids against: a full pool (2,000) and its nonce
 * window (256; node/mempool.ts DEFAULT_MEMPOOL_OPTIONS) and the transactions heard (512, the
 * engine's MAX_PENDING). A unit test holds this to those figures.
 */
export const HELD_TXS_AT_MOST = 2_000 + 256 + 512;

/**
 * 3 bytes, not 2: a wrong fill needs one of the receiver's held transactions to match one of the
 * block's ids, about ids × held / 2^(8 × bytes) a block. With everything held (2,768) and 13 ids that
 * is 0.21% at 3 bytes but 42% at 2 (20 ids: 57%); each costs a try or a fetch round (compact-blocks.ts).
 * At the devnet's pools (about 30) 3 bytes give about 1 in 40,000 blocks, 2 bytes 1 in 170.
 */
const PRESET_SHORT_ID_BYTES = 3;

/** The chance a block of `ids` short ids of `bytes` bytes meets a false match among `held` transactions, each (id, held) pair taken as independent. */
export function shortIdCollisionChance(ids: number, held: number, bytes: number): number {
  return Math.min(1, 1 - (1 - 2 ** (-8 * bytes)) ** (ids * held));
}

export interface PresetParamsExplained {
  readonly params: PresetParams;
  /** Airtime of one round (a compact proposal and every vote, each flooded), ms. */
  readonly roundAirtimeMs: number;
  /** What one validator sends in a slot on average (its vote, its share of proposals, flooded), ms. */
  readonly validatorSlotAirtimeMs: number;
  readonly compactBlockFrameBytes: number;
  /** The chance a full block meets a short-id collision at a receiver holding all it may (HELD_TXS_AT_MOST). */
  readonly collisionChanceFullPool: number;
  readonly voteFrameBytes: number;
  /**
   * The most transfers a minute such a chain carries: full blocks every slot. The slot is chosen
   * for consensus alone, so past a few validators this falls below a light load (LongFast, 15
   * validators: 1.9 a minute against the devnet's 3), and the backlog then grows whatever consensus does.
   */
  readonly txsPerMinute: number;
}

const frameBytes = (type: MessageType, payload: Uint8Array): number => encodeFrame({ type, messageId: 0xffff, fragment: null, payload }).length;

/**
 * Bytes of a compact proposal with `txs` short ids, carrying its parent's notarization signed by
 * every validator (as most do); one that also carries a notarization certificate may take two frames.
 */
function compactFrameBytes(txs: number, validators: number, slotMs: number, shortIdBytes: number): number {
  const aggregate = { signers: new Uint8Array(Math.ceil(validators / 8)).fill(0xff), signature: new Uint8Array(48) };
  const payload = compactBlockCodec.encode({
    // Heights and slots below 2^21 (years of slots), a parent one slot back.
    height: 2 ** 21 - 1, slot: 2 ** 21 - 1, timestampDelta: Math.ceil(slotMs / 1000), parentHash: new Uint8Array(32), proposerIndex: validators - 1, randaoReveal: new Uint8Array(48),
    certificate: null, signature: new Uint8Array(48), shortIdBytes, shortIds: Array.from({ length: txs }, () => new Uint8Array(shortIdBytes)), notarization: aggregate,
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

/** The parameters for a preset and a validator count, with the figures they come from. */
export function presetParams(preset: PresetName, validators: number, budgetSecondsPerHour = DEFAULT_AIRTIME_POLICY.budgetSecondsPerHour): PresetParamsExplained {
  if (!Number.isInteger(validators) || validators < 1 || validators > 256) throw new RangeError(`validators must be 1-256, not ${validators}`);
  const m = PRESETS[preset];
  let maxBlockTxs = 1;
  while (maxBlockTxs < 64 && compactFrameBytes(maxBlockTxs + 1, validators, 600_000, PRESET_SHORT_ID_BYTES) <= MESHTASTIC_MTU) maxBlockTxs++;
  const compactBytes = compactFrameBytes(maxBlockTxs, validators, 600_000, PRESET_SHORT_ID_BYTES);
  const voteBytes = voteFrameBytes(validators);
  const compactMs = meshtasticFrameAirtimeMs(m, Math.min(compactBytes, MESHTASTIC_MTU));
  const voteMs = meshtasticFrameAirtimeMs(m, voteBytes);
  const roundAirtimeMs = TRANSMISSIONS_PER_FLOOD * (compactMs + validators * voteMs);
  const validatorSlotAirtimeMs = TRANSMISSIONS_PER_FLOOD * (voteMs + compactMs / validators);
  const byChannel = roundAirtimeMs / CONSENSUS_CHANNEL_SHARE;
  const byBudget = (3_600_000 * validatorSlotAirtimeMs) / (budgetSecondsPerHour * 1000 * CONSENSUS_BUDGET_SHARE);
  const slotMs = Math.max(MIN_SLOT_MS, Math.ceil(Math.max(byChannel, byBudget) / SLOT_STEP_MS) * SLOT_STEP_MS);
  return {
    params: { slotMs: BigInt(slotMs), maxBlockTxs: BigInt(maxBlockTxs), fallbackRanks: 0n, shortIdBytes: BigInt(PRESET_SHORT_ID_BYTES), finalityRule: 1n },
    roundAirtimeMs, validatorSlotAirtimeMs, compactBlockFrameBytes: compactBytes, voteFrameBytes: voteBytes,
    collisionChanceFullPool: shortIdCollisionChance(maxBlockTxs, HELD_TXS_AT_MOST, PRESET_SHORT_ID_BYTES),
    txsPerMinute: (maxBlockTxs * 60_000) / slotMs,
  };
}
