import { decodeExact } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { DecodeError } from "../errors.js";

/**
 * Chain parameters: every one has an id (its on-chain identity, used by governance proposals), a
 * default, and bounds that both genesis and governance must respect. Amounts are in base units
 * (1 MESH = 1,000,000 units); periods are in blocks.
 */
export interface ParamSpec {
  readonly id: number;
  readonly name: ParamName;
  readonly defaultValue: bigint;
  readonly min: bigint;
  readonly max: bigint;
  readonly description: string;
  /**
   * For a parameter added after chains were launched: the value a chain whose genesis and state
   * predate it reads (its encoding leaves the entry out, so old state roots and genesis hashes hold).
   */
  readonly absentValue?: bigint;
  /** Fixed at genesis: governance proposals to change it are refused (docs/decisions.md, finality rule). */
  readonly genesisOnly?: boolean;
}

export type ParamName =
  | "minFeePerByte"
  | "blockReward"
  | "unbondingPeriod"
  | "minSelfBond"
  | "maxValidators"
  | "maxDelegationsPerValidator"
  | "slashFractionBps"
  | "jailPeriod"
  | "governanceVotingPeriod"
  | "maxActiveProposals"
  | "maxBlockTxs"
  | "maxBlockBytes"
  | "maxValidatorShareBps"
  | "slotMs"
  | "heartbeatSlots"
  | "fallbackRanks"
  | "fallbackDelayMs"
  | "proximityWindow"
  | "proximityStartBps"
  | "proximityFloorBps"
  | "proposerShareBps"
  | "evidenceMaxAgeSlots"
  | "epochLength"
  | "finalitySlots"
  | "finalityRule"
  | "shortIdBytes";

export type ChainParams = Readonly<Record<ParamName, bigint>>;

const COIN = 1_000_000n;

export const PARAM_SPECS: readonly ParamSpec[] = [
  { id: 1, name: "minFeePerByte", defaultValue: 10n, min: 0n, max: 1_000_000n, description: "minimum fee per encoded transaction byte, in units" },
  { id: 2, name: "blockReward", defaultValue: 1n * COIN, min: 0n, max: 1_000n * COIN, description: "units minted for each block's proposer" },
  { id: 3, name: "unbondingPeriod", defaultValue: 2_000n, min: 10n, max: 1_000_000n, description: "blocks before unbonded stake is liquid" },
  { id: 4, name: "minSelfBond", defaultValue: 1_000n * COIN, min: 1n, max: 1n << 60n, description: "smallest self-bond a validator may hold" },
  { id: 5, name: "maxValidators", defaultValue: 64n, min: 1n, max: 256n, description: "registered validators at most" },
  { id: 6, name: "maxDelegationsPerValidator", defaultValue: 64n, min: 0n, max: 1_024n, description: "delegators one validator may carry" },
  { id: 7, name: "slashFractionBps", defaultValue: 500n, min: 0n, max: 10_000n, description: "share of stake slashed for equivocation, basis points" },
  { id: 8, name: "jailPeriod", defaultValue: 1_000n, min: 1n, max: 1_000_000n, description: "blocks a slashed validator stays jailed" },
  { id: 9, name: "governanceVotingPeriod", defaultValue: 500n, min: 1n, max: 1_000_000n, description: "longest voting window a parameter proposal may ask for (and a poa membership proposal's window), blocks" },
  { id: 10, name: "maxActiveProposals", defaultValue: 8n, min: 1n, max: 64n, description: "proposals open at once" },
  { id: 11, name: "maxBlockTxs", defaultValue: 64n, min: 1n, max: 1_024n, description: "transactions per block at most" },
  { id: 12, name: "maxBlockBytes", defaultValue: 4_096n, min: 512n, max: 16_384n, description: "encoded block size at most" },
  { id: 13, name: "maxValidatorShareBps", defaultValue: 2_000n, min: 100n, max: 3_300n, description: "cap on one validator's share of total stake in weights, basis points" },
  { id: 14, name: "slotMs", defaultValue: 30_000n, min: 500n, max: 3_600_000n, description: "slot length, milliseconds (LongFast: a block and a round of votes)" },
  { id: 15, name: "heartbeatSlots", defaultValue: 120n, min: 1n, max: 1_000_000n, description: "slots after which an empty block is made anyway" },
  { id: 16, name: "fallbackRanks", defaultValue: 2n, min: 0n, max: 8n, description: "ranked fallback proposers per slot" },
  { id: 17, name: "fallbackDelayMs", defaultValue: 8_000n, min: 0n, max: 3_600_000n, description: "wait before each fallback rank may propose, milliseconds" },
  { id: 18, name: "proximityWindow", defaultValue: 16n, min: 1n, max: 1_024n, description: "certificates over which proximity averages (EMA weight 1/window)" },
  { id: 19, name: "proximityStartBps", defaultValue: 7_500n, min: 0n, max: 10_000n, description: "proximity a new validator starts with, basis points" },
  { id: 20, name: "proximityFloorBps", defaultValue: 2_000n, min: 0n, max: 10_000n, description: "lowest proximity factor in weights, basis points" },
  { id: 21, name: "proposerShareBps", defaultValue: 5_000n, min: 0n, max: 10_000n, description: "share of reward and fees for the proposer when the block carries a certificate; the rest goes to its voters" },
  { id: 22, name: "evidenceMaxAgeSlots", defaultValue: 2_880n, min: 1n, max: 10_000_000n, description: "slots after which equivocation evidence is too old" },
  { id: 23, name: "epochLength", defaultValue: 100n, min: 1n, max: 1_000_000n, description: "blocks per epoch; validator-set and parameter changes take effect at an epoch's first block" },
  // The finality rule is a property of the chain, not of the binary (docs/consensus.md §7): a chain
  // launched under Streamlet's three-slot rule keeps it, as its old voters never kept a lock.
  { id: 24, name: "finalitySlots", defaultValue: 2n, min: 2n, max: 3n, absentValue: 3n, genesisOnly: true, description: "notarized blocks in consecutive slots that make a block final: 2 (the two-slot rule, with the vote lock) or 3 (Streamlet, chains from before it)" },
  // A second way to finality, in the block's own slot (docs/consensus.md, "Precommits"). Genesis-only
  // like finalitySlots: it changes what validators sign and when a block is final. 0 for every
  // chain launched before it and by default; a genesis made for a preset takes 1 (preset-params.ts).
  { id: 25, name: "finalityRule", defaultValue: 0n, min: 0n, max: 1n, absentValue: 0n, genesisOnly: true, description: "0: finality by the finalitySlots rule alone; 1: also by precommits of more than two thirds of the weight in the block's own slot" },
  // Bytes of a short transaction id in compact blocks (docs/decisions.md, "Short-id length"). 4 for
  // every chain launched before it and for a genesis made without a preset; a preset's genesis takes
  // 3 (preset-params). Genesis-only: a change mid-chain would make the same compact frame mean two
  // things to nodes on either side of the epoch, for a gain no chain needs after launch.
  { id: 26, name: "shortIdBytes", defaultValue: 4n, min: 2n, max: 4n, absentValue: 4n, genesisOnly: true, description: "bytes of a short transaction id in a compact block (2-4): shorter ids fit more transactions in one frame, at more collisions to settle" },
];

const BY_ID = new Map(PARAM_SPECS.map((s) => [s.id, s]));
const BY_NAME = new Map(PARAM_SPECS.map((s) => [s.name, s]));

export const paramSpecById = (id: number): ParamSpec | undefined => BY_ID.get(id);
export const paramSpecByName = (name: string): ParamSpec | undefined => BY_NAME.get(name as ParamName);

/**
 * The parameters of a genesis document that names only some: the defaults, except that a later
 * parameter it leaves out takes its absentValue (a document written before the parameter existed
 * must give the chain it always gave). New documents name those (genesis-builder, `genesis new`).
 */
export function documentBaseParams(): ChainParams {
  return Object.fromEntries(PARAM_SPECS.map((s) => [s.name, s.absentValue ?? s.defaultValue])) as Record<ParamName, bigint>;
}

/**
 * What a new genesis writes for the later parameters, so that it gets their defaults rather than
 * their absentValue. One whose default is its absentValue is left out: writing it would change the
 * documents (and their hashes) of every new chain for nothing.
 */
export function laterParamDefaults(): Record<string, bigint> {
  return Object.fromEntries(PARAM_SPECS.filter((s) => s.absentValue !== undefined && s.absentValue !== s.defaultValue).map((s) => [s.name, s.defaultValue]));
}

export function defaultParams(): ChainParams {
  return Object.fromEntries(PARAM_SPECS.map((s) => [s.name, s.defaultValue])) as Record<ParamName, bigint>;
}

export function paramInRange(spec: ParamSpec, value: bigint): boolean {
  return value >= spec.min && value <= spec.max;
}

/** The parameters a genesis or state that predates the later ones holds: those without an absentValue. */
const FIRST_LATER_PARAM = PARAM_SPECS.findIndex((s) => s.absentValue !== undefined);
const REQUIRED_COUNT = FIRST_LATER_PARAM < 0 ? PARAM_SPECS.length : FIRST_LATER_PARAM;

/** How many entries `p` encodes: trailing later parameters at their absentValue are left out (one encoding per value set). */
function encodedCount(p: ChainParams): number {
  let count = PARAM_SPECS.length;
  while (count > REQUIRED_COUNT && p[PARAM_SPECS[count - 1]!.name] === PARAM_SPECS[count - 1]!.absentValue) count--;
  return count;
}

/** Parameters in id order: (id u8, value varint) pairs, without trailing later ones at their absentValue. */
export function encodeParams(p: ChainParams): Uint8Array {
  const count = encodedCount(p);
  const w = new Writer().varint(count);
  for (const s of PARAM_SPECS.slice(0, count)) w.u8(s.id).varbig(p[s.name]);
  return w.finish();
}

export function decodeParams(bytes: Uint8Array): ChainParams {
  return decodeExact(bytes, (r) => {
    const count = r.varint(255);
    if (count < REQUIRED_COUNT || count > PARAM_SPECS.length) throw new DecodeError("INVALID_VALUE", `expected ${REQUIRED_COUNT} to ${PARAM_SPECS.length} parameters, got ${count}`);
    const out: Partial<Record<ParamName, bigint>> = {};
    for (const s of PARAM_SPECS.slice(count)) out[s.name] = s.absentValue;
    for (const s of PARAM_SPECS.slice(0, count)) {
      const id = r.u8();
      if (id !== s.id) throw new DecodeError("INVALID_VALUE", `parameter ${id} out of order`);
      const v = r.varbig();
      if (!paramInRange(s, v)) throw new DecodeError("OUT_OF_RANGE", `${s.name} out of range`);
      out[s.name] = v;
    }
    if (encodedCount(out as ChainParams) !== count) throw new DecodeError("INVALID_VALUE", "a later parameter at the value its absence means is left out");
    return out as ChainParams;
  });
}
