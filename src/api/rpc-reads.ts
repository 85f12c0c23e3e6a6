import { fromHex, toHex } from "../core/bytes.js";
import { AddressError, parseAddress } from "../core/crypto/address.js";
import { deliveryProofToJson } from "../core/proof/delivery-proof.js";
import type { ReadModel } from "../node/read-model.js";

/** A read method's parameters were not what it takes: INVALID_PARAMS with `reason` as data.code. */
export class ParamsError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** What the read methods need from the node beyond its read model. */
export interface ReadSource {
  readonly reads: ReadModel;
  chainInfo(): { chainId: string; height: number; minFeePerByte: string; genesisHash: string };
}

type Params = Record<string, unknown>;

function paramsObject(params: unknown): Params {
  if (params === undefined || params === null) return {};
  if (typeof params !== "object" || Array.isArray(params)) throw new ParamsError("INVALID_PARAMS", "params must be an object");
  return params as Params;
}

function address(p: Params, name: string): Uint8Array {
  const v = p[name];
  if (typeof v !== "string") throw new ParamsError("INVALID_PARAMS", `params.${name} must be an address (mc…)`);
  try {
    return parseAddress(v);
  } catch (e) {
    if (e instanceof AddressError) throw new ParamsError(e.code, `params.${name}: ${e.message}`);
    throw e;
  }
}

function hash(p: Params, name = "hash"): Uint8Array {
  const v = p[name];
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/i.test(v)) throw new ParamsError("INVALID_PARAMS", `params.${name} must be a hash: 64 hex digits`);
  return fromHex(v.toLowerCase());
}

function whole(p: Params, name: string, fallback: number | null, max: number): number {
  const v = p[name];
  if (v === undefined && fallback !== null) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) throw new ParamsError("INVALID_PARAMS", `params.${name} must be a whole number from 0 to ${max}`);
  return v;
}

/** The read methods by name: each takes the request's params and answers a JSON value (undefined: not a read method). */
export function readMethod(source: ReadSource, method: string, raw: unknown): (() => unknown) | undefined {
  const reads = source.reads;
  const handlers: Record<string, (p: Params) => unknown> = {
    getChainInfo: () => source.chainInfo(),
    getAccount: (p) => reads.account(address(p, "address")),
    getValidators: () => reads.validatorSet(),
    getBlock: (p) => {
      if (p.hash !== undefined && p.height !== undefined) throw new ParamsError("INVALID_PARAMS", "give params.height or params.hash, not both");
      return reads.block(p.hash !== undefined ? hash(p) : whole(p, "height", null, 2 ** 48));
    },
    getTransaction: (p) => {
      const h = hash(p);
      const status = reads.txStatus(h);
      // Kept from the first API: `final` and `height` (of a final transaction) answer for unknown ones too.
      if (status === null) return { hash: toHex(h), status: "unknown", final: false, height: null };
      return { ...reads.transaction(h), hash: toHex(h) };
    },
    getParams: () => reads.params(),
    getProposals: () => reads.proposals(),
    getProposal: (p) => reads.proposal(whole(p, "id", null, 0xffffffff)),
    getMessages: (p) => {
      const filter = { ...(p.to !== undefined ? { to: address(p, "to") } : {}), ...(p.from !== undefined ? { from: address(p, "from") } : {}) };
      if (filter.to === undefined && filter.from === undefined) throw new ParamsError("INVALID_PARAMS", "give params.to or params.from (an address)");
      return { messages: reads.messagesFor(filter, whole(p, "limit", 50, 500)) };
    },
    getMessageStatus: (p) => reads.messageStatus(hash(p)),
    getDeliveryProof: (p) => deliveryProofToJson(reads.deliveryProof(hash(p))),
  };
  const handler = handlers[method];
  if (handler === undefined) return undefined;
  return () => handler(paramsObject(raw));
}

