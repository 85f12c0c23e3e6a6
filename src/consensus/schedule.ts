import { bytesEqual } from "../core/bytes.js";
import { Writer } from "../core/codec/writer.js";
import { sha256 } from "../core/crypto/hash.js";
import type { WeightedValidator } from "./weights.js";

/**
 * Proposers of a slot, by rank: rank 0 proposes at the slot's start, rank r may propose after
 * r × fallbackDelay if no better-ranked proposal was seen. Each rank is drawn by weight (without
 * replacement) from SHA-256(randao mix ‖ slot ‖ rank); the mix is the parent block's, which folds in
 * every proposer's unique BLS reveal, so no proposer can steer it beyond withholding its block.
 */
export function proposerRanks(weights: readonly WeightedValidator[], randaoMix: Uint8Array, slot: number, ranks: number): Uint8Array[] {
  const pool = weights.filter((w) => w.weight > 0n);
  const out: Uint8Array[] = [];
  for (let rank = 0; rank <= ranks && pool.length > 0; rank++) {
    const total = pool.reduce((a, w) => a + w.weight, 0n);
    const draw = sha256(randaoMix, new Writer().varint(slot).u8(rank).finish());
    let point = BigInt(`0x${Buffer.from(draw).toString("hex")}`) % total;
    let chosen = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      const w = (pool[i] as WeightedValidator).weight;
      if (point < w) {
        chosen = i;
        break;
      }
      point -= w;
    }
    out.push((pool[chosen] as WeightedValidator).address);
    pool.splice(chosen, 1);
  }
  return out;
}

/** The proposer's entry in `weights` if it holds one of the slot's ranks after a parent with `randaoMix`; else null. */
export function scheduledProposer(weights: readonly WeightedValidator[], randaoMix: Uint8Array, slot: number, fallbackRanks: number, proposer: Uint8Array): WeightedValidator | null {
  const ranks = proposerRanks(weights, randaoMix, slot, fallbackRanks);
  if (!ranks.some((a) => bytesEqual(a, proposer))) return null;
  return weights.find((w) => bytesEqual(w.address, proposer)) ?? null;
}
