import { utf8 } from "../bytes.js";
import { EncodeError } from "../errors.js";

/**
 * What a signature is over, besides the object: the protocol tag, the object kind and the chain id.
 * A signature made for one kind of object or one chain is therefore never valid for another.
 */
export enum SigningKind {
  Transaction = 1,
  BlockVote = 2,
  Randao = 3,
  ProofOfPossession = 4,
  NodeMessage = 5,
  /** A precommit: "I hold this block's notarization and lock on its slot" (docs/consensus.md, "Precommits"). */
  Precommit = 6,
}

const PROTOCOL_TAG = utf8.encode("MeshChain/1");
export const CHAIN_ID_RE = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;

export function signingDomain(kind: SigningKind, chainId: string): Uint8Array {
  if (!CHAIN_ID_RE.test(chainId)) throw new EncodeError("OUT_OF_RANGE", `invalid chain id "${chainId}"`);
  const id = utf8.encode(chainId);
  const out = new Uint8Array(PROTOCOL_TAG.length + 2 + id.length);
  out.set(PROTOCOL_TAG, 0);
  out[PROTOCOL_TAG.length] = kind;
  out[PROTOCOL_TAG.length + 1] = id.length;
  out.set(id, PROTOCOL_TAG.length + 2);
  return out;
}

/** Memoised per (kind, chain id): domains are built for every signature on the hot path. */
const cache = new Map<string, Uint8Array>();
export function cachedDomain(kind: SigningKind, chainId: string): Uint8Array {
  const k = `${kind}:${chainId}`;
  let d = cache.get(k);
  if (d === undefined) {
    d = signingDomain(kind, chainId);
    cache.set(k, d);
  }
  return d;
}
