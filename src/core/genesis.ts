import { compareBytes, fromHex, toHex, utf8 } from "./bytes.js";
import { U64_MAX, Writer } from "./codec/writer.js";
import { addressFromPublicKey, AddressError, formatAddress, parseAddress } from "./crypto/address.js";
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, blsVerifyPossession } from "./crypto/bls.js";
import { CHAIN_ID_RE } from "./crypto/domain.js";
import { ED25519_PUBLIC_KEY_LENGTH } from "./crypto/ed25519.js";
import { sha256 } from "./crypto/hash.js";
import { MeshChainError } from "./errors.js";
import type { ParentInfo } from "./state/block-transition.js";
import { CONSENSUS_MODES, type ConsensusMode, isConsensusMode } from "./state/consensus-mode.js";
import { Ledger } from "./state/ledger.js";
import { type ChainParams, documentBaseParams, type ParamName, paramInRange, paramSpecByName } from "./state/params.js";
import type { StateChange } from "./state/store.js";
import { MAX_COMMISSION_BPS } from "./tx/limits.js";

export type GenesisErrorCode =
  | "INVALID_JSON"
  | "UNKNOWN_FIELD"
  | "MISSING_FIELD"
  | "INVALID_FIELD"
  | "DUPLICATE_ACCOUNT"
  | "DUPLICATE_VALIDATOR"
  | "BAD_PROOF_OF_POSSESSION"
  | "NO_VALIDATORS"
  | "SUPPLY_TOO_LARGE";

/** A genesis problem, with the JSON path of the offending field. */
export class GenesisError extends MeshChainError<GenesisErrorCode> {
  constructor(code: GenesisErrorCode, readonly path: string, message: string) {
    super(code, `${path}: ${message}`);
  }
}

export interface GenesisAccount {
  readonly address: Uint8Array;
  readonly publicKey: Uint8Array | null;
  readonly balance: bigint;
}

export interface GenesisValidator {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  readonly blsPublicKey: Uint8Array;
  readonly proofOfPossession: Uint8Array;
  readonly selfBond: bigint;
  readonly commissionBps: number;
}

export interface Genesis {
  readonly chainId: string;
  /** How validators weigh (state/consensus-mode.ts); "dpop" when the document leaves it out. */
  readonly consensus: ConsensusMode;
  /** Unix seconds; slot 0 starts here. */
  readonly genesisTime: number;
  readonly params: ChainParams;
  readonly accounts: readonly GenesisAccount[];
  readonly validators: readonly GenesisValidator[];
}

/** Total supply is kept below 2^62 so that rewards can never overflow 64-bit balances. */
const MAX_GENESIS_SUPPLY = 1n << 62n;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw new GenesisError("UNKNOWN_FIELD", `${path}.${k}`, "unknown field");
}

function field(obj: Json, key: string, path: string): unknown {
  if (!(key in obj)) throw new GenesisError("MISSING_FIELD", `${path}.${key}`, "required");
  return obj[key];
}

function amount(v: unknown, path: string): bigint {
  const text = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== "string" || !/^(0|[1-9][0-9]*)$/.test(text)) throw new GenesisError("INVALID_FIELD", path, "expected a non-negative integer (a string for large values)");
  const n = BigInt(text);
  if (n > U64_MAX) throw new GenesisError("INVALID_FIELD", path, "exceeds 2^64-1");
  return n;
}

function hexBytes(v: unknown, length: number, path: string): Uint8Array {
  if (typeof v !== "string") throw new GenesisError("INVALID_FIELD", path, `expected ${length} bytes of hex`);
  try {
    const b = fromHex(v);
    if (b.length === length) return b;
  } catch {
    // reported below
  }
  throw new GenesisError("INVALID_FIELD", path, `expected ${length} bytes of hex`);
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new GenesisError("INVALID_FIELD", path, "expected an array");
  return v;
}

function parseParams(v: unknown): ChainParams {
  if (v === undefined) return documentBaseParams();
  if (!isObject(v)) throw new GenesisError("INVALID_FIELD", "$.params", "expected an object");
  const out: Record<ParamName, bigint> = { ...documentBaseParams() };
  for (const [name, raw] of Object.entries(v)) {
    const spec = paramSpecByName(name);
    if (spec === undefined) throw new GenesisError("UNKNOWN_FIELD", `$.params.${name}`, "unknown parameter");
    const value = amount(raw, `$.params.${name}`);
    if (!paramInRange(spec, value)) throw new GenesisError("INVALID_FIELD", `$.params.${name}`, `must lie in [${spec.min}, ${spec.max}]`);
    out[spec.name] = value;
  }
  return out;
}

function parseAccount(v: unknown, path: string): GenesisAccount {
  if (!isObject(v)) throw new GenesisError("INVALID_FIELD", path, "expected an object");
  onlyKeys(v, ["address", "publicKey", "balance"], path);
  const balance = amount(field(v, "balance", path), `${path}.balance`);
  const publicKey = v.publicKey === undefined ? null : hexBytes(v.publicKey, ED25519_PUBLIC_KEY_LENGTH, `${path}.publicKey`);
  let address: Uint8Array;
  if (v.address !== undefined) {
    if (typeof v.address !== "string") throw new GenesisError("INVALID_FIELD", `${path}.address`, "expected an address string");
    try {
      address = parseAddress(v.address);
    } catch (e) {
      throw new GenesisError("INVALID_FIELD", `${path}.address`, e instanceof AddressError ? e.message : "invalid address");
    }
    if (publicKey !== null && compareBytes(addressFromPublicKey(publicKey), address) !== 0) {
      throw new GenesisError("INVALID_FIELD", `${path}.address`, "does not match the public key");
    }
  } else if (publicKey !== null) {
    address = addressFromPublicKey(publicKey);
  } else {
    throw new GenesisError("MISSING_FIELD", `${path}.address`, "an account needs an address or a public key");
  }
  return { address, publicKey, balance };
}

function parseValidator(v: unknown, path: string, chainId: string, consensus: ConsensusMode): GenesisValidator {
  if (!isObject(v)) throw new GenesisError("INVALID_FIELD", path, "expected an object");
  onlyKeys(v, ["publicKey", "blsPublicKey", "proofOfPossession", "selfBond", "commissionBps"], path);
  const publicKey = hexBytes(field(v, "publicKey", path), ED25519_PUBLIC_KEY_LENGTH, `${path}.publicKey`);
  const blsPublicKey = hexBytes(field(v, "blsPublicKey", path), BLS_PUBLIC_KEY_LENGTH, `${path}.blsPublicKey`);
  const proofOfPossession = hexBytes(field(v, "proofOfPossession", path), BLS_SIGNATURE_LENGTH, `${path}.proofOfPossession`);
  // A poa member stakes nothing: the bond may be left out, and anything but 0 is a mistake worth saying.
  const selfBond = consensus === "poa" && v.selfBond === undefined ? 0n : amount(field(v, "selfBond", path), `${path}.selfBond`);
  if (consensus === "poa" && selfBond !== 0n) throw new GenesisError("INVALID_FIELD", `${path}.selfBond`, "a poa chain stakes nothing: leave selfBond out or give 0");
  const commission = field(v, "commissionBps", path);
  if (typeof commission !== "number" || !Number.isInteger(commission) || commission < 0 || commission > MAX_COMMISSION_BPS) {
    throw new GenesisError("INVALID_FIELD", `${path}.commissionBps`, "expected an integer from 0 to 10000");
  }
  if (!blsVerifyPossession(chainId, blsPublicKey, proofOfPossession)) {
    throw new GenesisError("BAD_PROOF_OF_POSSESSION", `${path}.proofOfPossession`, "does not verify for this chain id and BLS key");
  }
  return { publicKey, address: addressFromPublicKey(publicKey), blsPublicKey, proofOfPossession, selfBond, commissionBps: commission };
}

/** Validate a parsed genesis JSON document; every error names the field at fault. */
export function parseGenesis(doc: unknown): Genesis {
  if (!isObject(doc)) throw new GenesisError("INVALID_JSON", "$", "expected a JSON object");
  onlyKeys(doc, ["chainId", "consensus", "genesisTime", "params", "accounts", "validators"], "$");
  const chainId = field(doc, "chainId", "$");
  if (typeof chainId !== "string" || !CHAIN_ID_RE.test(chainId)) {
    throw new GenesisError("INVALID_FIELD", "$.chainId", "2 to 32 characters: lowercase letters, digits and inner hyphens");
  }
  const genesisTime = field(doc, "genesisTime", "$");
  if (typeof genesisTime !== "number" || !Number.isInteger(genesisTime) || genesisTime < 0 || genesisTime > 0xffffffff) {
    throw new GenesisError("INVALID_FIELD", "$.genesisTime", "expected Unix seconds");
  }
  const consensus = doc.consensus ?? "dpop";
  if (!isConsensusMode(consensus)) throw new GenesisError("INVALID_FIELD", "$.consensus", `expected one of ${CONSENSUS_MODES.join(", ")}`);
  const params = parseParams(doc.params);
  const accounts = array(doc.accounts ?? [], "$.accounts").map((a, i) => parseAccount(a, `$.accounts[${i}]`));
  const validators = array(field(doc, "validators", "$"), "$.validators").map((v, i) => parseValidator(v, `$.validators[${i}]`, chainId, consensus));
  if (validators.length === 0) throw new GenesisError("NO_VALIDATORS", "$.validators", "a chain needs at least one validator");
  if (BigInt(validators.length) > params.maxValidators) throw new GenesisError("INVALID_FIELD", "$.validators", `more than maxValidators (${params.maxValidators})`);

  const seen = new Set<string>();
  accounts.forEach((a, i) => {
    const id = toHex(a.address);
    if (seen.has(id)) throw new GenesisError("DUPLICATE_ACCOUNT", `$.accounts[${i}]`, `address ${formatAddress(a.address)} appears twice`);
    seen.add(id);
  });
  const seenValidators = new Set<string>();
  const seenBls = new Set<string>();
  validators.forEach((v, i) => {
    const id = toHex(v.address);
    if (seenValidators.has(id)) throw new GenesisError("DUPLICATE_VALIDATOR", `$.validators[${i}]`, "validator appears twice");
    const bls = toHex(v.blsPublicKey);
    if (seenBls.has(bls)) throw new GenesisError("DUPLICATE_VALIDATOR", `$.validators[${i}].blsPublicKey`, "BLS key appears twice");
    if (consensus === "dpop" && v.selfBond < params.minSelfBond) throw new GenesisError("INVALID_FIELD", `$.validators[${i}].selfBond`, `below minSelfBond (${params.minSelfBond})`);
    seenValidators.add(id);
    seenBls.add(bls);
  });
  const supply = totalGenesisSupply({ accounts, validators });
  if (supply > MAX_GENESIS_SUPPLY) throw new GenesisError("SUPPLY_TOO_LARGE", "$", `total supply ${supply} exceeds 2^62`);
  return { chainId, consensus, genesisTime, params, accounts, validators };
}

export function parseGenesisJson(text: string): Genesis {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GenesisError("INVALID_JSON", "$", e instanceof Error ? e.message : "not JSON");
  }
  return parseGenesis(doc);
}

function totalGenesisSupply(g: Pick<Genesis, "accounts" | "validators">): bigint {
  let total = 0n;
  for (const a of g.accounts) total += a.balance;
  for (const v of g.validators) total += v.selfBond;
  return total;
}

/** The state at height 0, as a set of changes over an empty store. */
export function genesisChanges(g: Genesis): StateChange[] {
  const l = new Ledger({ get: () => undefined });
  l.putParams(g.params);
  l.putConsensusMode(g.consensus);
  l.putMeta({ height: 0, totalSupply: totalGenesisSupply(g), nextProposalId: 1, randaoMix: sha256(utf8.encode("MeshChain/randao"), utf8.encode(g.chainId)) });
  for (const a of g.accounts) l.putAccount(a.address, { balance: a.balance, nonce: 0, publicKey: a.publicKey });
  for (const v of g.validators) {
    const existing = l.account(v.address);
    if (existing.publicKey === null) l.putAccount(v.address, { ...existing, publicKey: v.publicKey });
    l.putValidator(v.address, {
      blsPublicKey: v.blsPublicKey, commissionBps: v.commissionBps, selfBond: v.selfBond, delegations: [],
      jailedUntil: 0, leavingAt: 0, lastInfractionSlot: 0, registeredSlot: 0, proximityBps: Number(g.params.proximityStartBps),
    });
    l.setBlsKeyOwner(v.blsPublicKey, v.address);
  }
  l.putValidatorSet(g.validators.map((v) => v.address).sort(compareBytes));
  return l.view.changes();
}

/** The genesis hash names the chain: it commits to the chain id, the start time and the whole initial state. */
export function genesisHash(g: Genesis, stateRoot: Uint8Array): Uint8Array {
  return sha256(utf8.encode("MeshChain/genesis"), new Writer().bytes(utf8.encode(g.chainId), 32).varint(g.genesisTime).finish(), stateRoot);
}

export function genesisParent(g: Genesis, stateRoot: Uint8Array): ParentInfo {
  return { height: 0, hash: genesisHash(g, stateRoot), slot: 0, timestamp: g.genesisTime };
}
