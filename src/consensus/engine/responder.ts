import { bytesEqual, compareBytes, utf8 } from "../../core/bytes.js";
import { Writer } from "../../core/codec/writer.js";
import { sha256 } from "../../core/crypto/hash.js";
import type { EngineContext } from "./context.js";

/**
 * This node's rank among the validators for one request in one slot, or -1 when it is not a
 * validator: the validators ordered by SHA-256(key ‖ slot ‖ address).
 *
 * Why: on the radio, "about two holders answer, at random" sent 2–3 answers per request with ten
 * holders, and queues minutes long kept the holders from hearing each other's answer in time. A
 * rank that every node works out alike lets exactly one validator answer first; the slot in the
 * draw moves the duty to another validator next slot, so a request whose answerer is down, lacks
 * what was asked or lost the request costs one slot, not the block. Unweighted: answering is a
 * chore, not a vote, and a forged request (requests are unsigned) cannot pick the answerer, only
 * make the ranked one answer, at the request types' rate limits.
 */
export function responderRank(validators: readonly Uint8Array[], self: Uint8Array, key: string, slot: number): number {
  const seed = new Writer().raw(utf8.encode(key)).varint(slot).finish();
  const draws = validators.map((address) => ({ address, draw: sha256(seed, address) }));
  draws.sort((a, b) => compareBytes(a.draw, b.draw));
  return draws.findIndex((d) => bytesEqual(d.address, self));
}

/**
 * Whether this node answers a request (by its key) now. On the radio, the validator ranked first for
 * the request in the current slot (responderRank); on IP, as the link says (every holder, cheaply).
 */
export function answersRequest(ctx: EngineContext, key: string): boolean {
  if (!ctx.link.answersOverheard) return ctx.answers();
  return ranksFirst(ctx, key);
}

/** Whether this node is the validator ranked first for `key` in the current slot. */
export function ranksFirst(ctx: EngineContext, key: string): boolean {
  return responderRank(ctx.root.weights.map((w) => w.address), ctx.deps.identity.address, key, ctx.slotAt(ctx.now())) === 0;
}
