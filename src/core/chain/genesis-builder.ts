import { toHex } from "../bytes.js";
import { formatAddress } from "../crypto/address.js";
import { blsProvePossession } from "../crypto/bls.js";
import type { Identity } from "../crypto/identity.js";
import type { ConsensusMode } from "../state/consensus-mode.js";
import { laterParamDefaults } from "../state/params.js";

export interface GenesisPlan {
  readonly chainId: string;
  /** Left out of the document (so dpop) unless given. */
  readonly consensus?: ConsensusMode;
  readonly genesisTime: number;
  readonly validators: readonly { readonly identity: Identity; readonly selfBond: bigint; readonly commissionBps: number }[];
  readonly accounts: readonly { readonly identity?: Identity; readonly address?: Uint8Array; readonly balance: bigint }[];
  readonly params?: Readonly<Record<string, bigint>>;
}

/** The genesis JSON document for a plan, in the form `parseGenesis` reads (docs/configuration.md). */
export function buildGenesisDocument(plan: GenesisPlan): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    chainId: plan.chainId,
    ...(plan.consensus === undefined ? {} : { consensus: plan.consensus }),
    genesisTime: plan.genesisTime,
    accounts: plan.accounts.map((a) => {
      const out: Record<string, string> = { balance: a.balance.toString() };
      if (a.identity !== undefined) out.publicKey = toHex(a.identity.ed25519.publicKey);
      const address = a.address ?? a.identity?.address;
      if (address !== undefined) out.address = formatAddress(address);
      return out;
    }),
    validators: plan.validators.map((v) => ({
      publicKey: toHex(v.identity.ed25519.publicKey),
      blsPublicKey: toHex(v.identity.bls.publicKey),
      proofOfPossession: toHex(blsProvePossession(plan.chainId, v.identity.bls)),
      selfBond: v.selfBond.toString(),
      commissionBps: v.commissionBps,
    })),
  };
  // A new chain takes the later parameters' defaults (the two-slot finality rule), written out
  // because a document that leaves them out is read as one from before them.
  doc.params = Object.fromEntries(Object.entries({ ...laterParamDefaults(), ...plan.params }).map(([k, v]) => [k, v.toString()]));
  return doc;
}
