import { addressFromPublicKey } from "./address.js";
import { type BlsKeyPair, blsFromSeed } from "./bls.js";
import { type Ed25519KeyPair, ed25519FromSeed } from "./ed25519.js";

/** Everything a participant signs with, derived from one 32-byte seed. */
export interface Identity {
  readonly seed: Uint8Array;
  readonly ed25519: Ed25519KeyPair;
  /** Derived on first use: only validators need it, and BLS key generation is slow. */
  readonly bls: BlsKeyPair;
  readonly address: Uint8Array;
}

export function identityFromSeed(seed: Uint8Array): Identity {
  const ed25519 = ed25519FromSeed(seed);
  const ownSeed = Uint8Array.from(seed);
  let bls: BlsKeyPair | undefined;
  return {
    seed: ownSeed,
    ed25519,
    address: addressFromPublicKey(ed25519.publicKey),
    get bls() {
      bls ??= blsFromSeed(ownSeed);
      return bls;
    },
  };
}
