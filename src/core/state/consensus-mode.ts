import { DecodeError } from "../errors.js";

/**
 * How a chain weighs its validators, fixed in genesis (docs/consensus.md §Modes):
 * - `dpop`: delegated proof of proximity: stake (bond plus delegations, capped) times proximity.
 * - `poa`: a fixed federation: every member weighs the same, no stake is needed, and members are
 *   added or removed by a vote of the federation (state/federation.ts).
 * Both run on the same engine; only weights, rewards and how one joins differ.
 */
export type ConsensusMode = "dpop" | "poa";

export const CONSENSUS_MODES: readonly ConsensusMode[] = ["dpop", "poa"];

const POA_BYTE = 1;

export function isConsensusMode(v: unknown): v is ConsensusMode {
  return typeof v === "string" && (CONSENSUS_MODES as readonly string[]).includes(v);
}

/** Only poa is ever stored (dpop is the key's absence), as one byte. */
export function encodeConsensusMode(mode: ConsensusMode): Uint8Array {
  if (mode !== "poa") throw new RangeError(`only poa is stored, not ${mode}`);
  return Uint8Array.of(POA_BYTE);
}

export function decodeConsensusMode(bytes: Uint8Array): ConsensusMode {
  if (bytes.length !== 1 || bytes[0] !== POA_BYTE) throw new DecodeError("INVALID_VALUE", "unknown consensus mode");
  return "poa";
}
