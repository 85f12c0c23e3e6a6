import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { formatAddress } from "../../core/crypto/address.js";
import { parseGenesis } from "../../core/genesis.js";
import { CONSENSUS_MODES, isConsensusMode } from "../../core/state/consensus-mode.js";
import { defaultParams, laterParamDefaults, paramSpecByName, PARAM_SPECS } from "../../core/state/params.js";
import { presetParams } from "../../consensus/preset-params.js";
import { PRESET_NAMES, presetByName } from "../../mesh/airtime/presets.js";
import { CliError } from "../errors.js";
import { checkDraft, genesisHashHex, type GenesisDraft, readDraft, writeDraft } from "../genesis-draft.js";
import { print } from "../output.js";
import { parseAddressArg, parseChainId, parseUnits, parseWhole } from "../parse.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

const HEX = (bytes: number) => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);

function parseGenesisTime(text: string, now: number): number {
  if (text === "now") return Math.floor(now / 1000);
  if (/^[0-9]+$/.test(text)) return parseWhole(text, "--genesis-time", 0xffffffff);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError("INVALID_ARGUMENT", `--genesis-time "${text}" is neither Unix seconds, now, nor a date like 2027-01-01T12:00:00Z`);
  return Math.floor(ms / 1000);
}

function parseParam(text: string, into: Record<string, string>): Record<string, string> {
  const m = /^([A-Za-z]+)=(.+)$/.exec(text);
  if (m === null) throw new CliError("INVALID_ARGUMENT", `--param "${text}": expected name=value, like slotMs=30000`);
  const [, name = "", value = ""] = m;
  const spec = paramSpecByName(name);
  if (spec === undefined) throw new CliError("INVALID_ARGUMENT", `--param ${name}: not a chain parameter (${PARAM_SPECS.map((s) => s.name).join(", ")})`);
  const v = parseUnits(value, `--param ${name}`);
  if (v < spec.min || v > spec.max) throw new CliError("INVALID_ARGUMENT", `--param ${name} must lie in [${spec.min}, ${spec.max}]`);
  return { ...into, [name]: v.toString() };
}

/** `--preset`: the parameters chosen for a modem preset and a validator count, as draft strings. */
function presetParamStrings(preset: string | undefined, validators: string): Record<string, string> {
  if (preset === undefined) return {};
  const name = presetByName(preset);
  if (name === null) throw new CliError("INVALID_ARGUMENT", `--preset "${preset}" is not one of ${PRESET_NAMES.join(", ")}`);
  const count = parseWhole(validators, "--validators", 256);
  if (count < 1) throw new CliError("INVALID_ARGUMENT", "--validators must be 1-256");
  return Object.fromEntries(Object.entries(presetParams(name, count).params).map(([k, v]) => [k, (v as bigint).toString()]));
}

interface ValidatorCard {
  publicKey: string;
  blsPublicKey: string;
  proofOfPossession: string;
  chainId?: string;
}

/** What `meshchain init --json` (or `keys show --chain-id --json`) printed for a validator. */
function readCard(path: string): ValidatorCard {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `--card ${path}: not the JSON that meshchain init --json prints (${(e as Error).message})`);
  }
  const text = (k: string) => (typeof doc[k] === "string" ? (doc[k] as string) : "");
  if (text("proofOfPossession") === "") throw new CliError("INVALID_ARGUMENT", `--card ${path} has no proofOfPossession: run init with --chain-id, or meshchain keys show KEY --chain-id ID --json`);
  return { publicKey: text("publicKey"), blsPublicKey: text("blsPublicKey"), proofOfPossession: text("proofOfPossession"), ...(text("chainId") === "" ? {} : { chainId: text("chainId") }) };
}

interface AddValidatorOptions { card?: string; publicKey?: string; blsPublicKey?: string; proofOfPossession?: string; selfBond?: string; commissionBps: string; json: boolean }

function validatorEntry(draft: GenesisDraft, opts: AddValidatorOptions): Record<string, unknown> {
  const card: ValidatorCard = opts.card !== undefined ? readCard(opts.card) : { publicKey: opts.publicKey ?? "", blsPublicKey: opts.blsPublicKey ?? "", proofOfPossession: opts.proofOfPossession ?? "" };
  if (opts.card === undefined && (opts.publicKey === undefined || opts.blsPublicKey === undefined || opts.proofOfPossession === undefined)) {
    throw new CliError("INVALID_ARGUMENT", "give --card FILE (from meshchain init --json), or --public-key, --bls-public-key and --proof-of-possession");
  }
  if (card.chainId !== undefined && card.chainId !== draft.chainId) {
    throw new CliError("INVALID_ARGUMENT", `that proof of possession is for chain ${card.chainId}, this genesis is ${draft.chainId}; the validator runs: meshchain keys show KEY --chain-id ${draft.chainId} --json`);
  }
  if (!HEX(32).test(card.publicKey)) throw new CliError("INVALID_ARGUMENT", "the validator's public key must be 64 hex digits");
  if (!HEX(96).test(card.blsPublicKey)) throw new CliError("INVALID_ARGUMENT", "the validator's BLS public key must be 192 hex digits");
  if (!HEX(48).test(card.proofOfPossession)) throw new CliError("INVALID_ARGUMENT", "the proof of possession must be 96 hex digits");
  if (draft.consensus === "poa") {
    // A poa member stakes nothing; a bond given by habit is a mistake worth naming here, not at finalize.
    if (opts.selfBond !== undefined && parseUnits(opts.selfBond, "--self-bond") !== 0n) throw new CliError("INVALID_ARGUMENT", "this is a poa genesis: members stake nothing; leave --self-bond out");
    return { ...card, chainId: undefined, selfBond: "0", commissionBps: parseWhole(opts.commissionBps, "--commission-bps", 10_000) };
  }
  const minSelfBond = BigInt(draft.params?.minSelfBond ?? defaultParams().minSelfBond.toString());
  const selfBond = opts.selfBond === undefined ? minSelfBond : parseUnits(opts.selfBond, "--self-bond");
  return { ...card, chainId: undefined, selfBond: selfBond.toString(), commissionBps: parseWhole(opts.commissionBps, "--commission-bps", 10_000) };
}

function summary(draft: GenesisDraft): Record<string, unknown> {
  const genesis = checkDraft(draft);
  const params = genesis?.params ?? defaultParams();
  const changed = Object.fromEntries(PARAM_SPECS.filter((s) => params[s.name] !== s.defaultValue).map((s) => [s.name, params[s.name].toString()]));
  return {
    chainId: draft.chainId,
    consensus: genesis?.consensus ?? draft.consensus ?? "dpop",
    genesisTime: `${draft.genesisTime} (${new Date(draft.genesisTime * 1000).toISOString()})`,
    validators: genesis?.validators.map((v) => `${formatAddress(v.address)} self-bond ${v.selfBond}`) ?? [],
    accounts: genesis?.accounts.map((a) => `${formatAddress(a.address)} ${a.balance}`) ?? [],
    // As for a finished genesis: only values other than the default (a draft spells out finalitySlots 2).
    paramsChanged: genesis === null ? Object.fromEntries(Object.entries(draft.params ?? {}).filter(([k, v]) => paramSpecByName(k)?.defaultValue.toString() !== v)) : changed,
    genesisHash: genesis === null ? "none yet: add a validator" : genesisHashHex(genesis),
  };
}

export function registerGenesis(program: Command, run: Run): void {
  const genesis = program.command("genesis").description("put a chain's genesis together: new, add-validator, add-account, finalize, show");
  genesis
    .command("new")
    .description("start a genesis draft")
    .requiredOption("--out <file>", "the draft file to create")
    .requiredOption("--chain-id <id>", "the chain's name: part of every signature (lowercase letters, digits, inner hyphens)")
    .option("--genesis-time <time>", "when slot 0 starts: Unix seconds, a date like 2027-01-01T12:00:00Z, or now", "now")
    .option("--consensus <mode>", "dpop (validators weigh by stake and proximity, join by bonding) or poa (a federation of equal members who vote members in and out, no stake)", "dpop")
    .option("--param <name=value>", "a chain parameter other than its default (repeatable), e.g. slotMs=30000", parseParam, {})
    .option("--preset <name>", "choose slot length, block size and fallback proposers for this modem preset (meshchain airtime --recommend shows them); --param overrides")
    .option("--validators <n>", "with --preset: how many validators the chain will have", "7")
    .option("--json", "machine-readable output", false)
    .action((opts: { out: string; chainId: string; genesisTime: string; consensus: string; param: Record<string, string>; preset?: string; validators: string; json: boolean }) =>
      run(opts.json, () => {
        if (!isConsensusMode(opts.consensus)) throw new CliError("INVALID_ARGUMENT", `--consensus "${opts.consensus}": expected ${CONSENSUS_MODES.join(" or ")}`);
        // The later parameters' defaults written out: a draft that leaves them out is read as from before them.
        const later = Object.fromEntries(Object.entries(laterParamDefaults()).map(([k, v]) => [k, v.toString()]));
        const params = { ...later, ...presetParamStrings(opts.preset, opts.validators), ...opts.param };
        const draft: GenesisDraft = {
          chainId: parseChainId(opts.chainId), ...(opts.consensus === "dpop" ? {} : { consensus: opts.consensus }), genesisTime: parseGenesisTime(opts.genesisTime, Date.now()),
          ...(Object.keys(params).length === 0 ? {} : { params }), accounts: [], validators: [],
        };
        writeDraft(opts.out, draft, { exclusive: true });
        print({ draft: opts.out, ...summary(draft), next: `each validator runs: meshchain init --chain-id ${draft.chainId} --json > NAME.json; then: meshchain genesis add-validator ${opts.out} --card NAME.json` }, opts.json);
      }),
    );
  genesis
    .command("add-validator")
    .description("add a validator from the card its operator's `meshchain init --json` printed")
    .argument("<draft>", "the genesis draft")
    .option("--card <file>", "the validator's init --json output (address, public keys, proof of possession)")
    .option("--public-key <hex>", "instead of --card: its Ed25519 public key")
    .option("--bls-public-key <hex>", "instead of --card: its BLS public key")
    .option("--proof-of-possession <hex>", "instead of --card: its proof of possession for this chain id")
    .option("--self-bond <units>", "stake it starts with, in units (default: the chain's minSelfBond; none on a poa chain)")
    .option("--commission-bps <n>", "its commission on delegators' rewards, basis points", "1000")
    .option("--json", "machine-readable output", false)
    .action((draftPath: string, opts: AddValidatorOptions) =>
      run(opts.json, () => {
        const draft = readDraft(draftPath);
        const entry = JSON.parse(JSON.stringify(validatorEntry(draft, opts))) as Record<string, unknown>;
        const next = { ...draft, validators: [...draft.validators, entry] };
        writeDraft(draftPath, next);
        print({ draft: draftPath, ...summary(next) }, opts.json);
      }),
    );
  genesis
    .command("add-account")
    .description("give an address (or a public key) a starting balance")
    .argument("<draft>", "the genesis draft")
    .option("--address <address>", "the account's address (mc…)")
    .option("--public-key <hex>", "or its Ed25519 public key (then its first transaction need not reveal it)")
    .requiredOption("--balance <units>", "starting balance in units (1 MESH = 1,000,000 units)")
    .option("--json", "machine-readable output", false)
    .action((draftPath: string, opts: { address?: string; publicKey?: string; balance: string; json: boolean }) =>
      run(opts.json, () => {
        if (opts.address === undefined && opts.publicKey === undefined) throw new CliError("INVALID_ARGUMENT", "give --address or --public-key");
        if (opts.publicKey !== undefined && !HEX(32).test(opts.publicKey)) throw new CliError("INVALID_ARGUMENT", "--public-key must be 64 hex digits");
        const draft = readDraft(draftPath);
        const account = {
          ...(opts.address === undefined ? {} : { address: formatAddress(parseAddressArg(opts.address, "--address")) }),
          ...(opts.publicKey === undefined ? {} : { publicKey: opts.publicKey }),
          balance: parseUnits(opts.balance, "--balance").toString(),
        };
        const next = { ...draft, accounts: [...draft.accounts, account] };
        writeDraft(draftPath, next);
        print({ draft: draftPath, ...summary(next) }, opts.json);
      }),
    );
  genesis
    .command("finalize")
    .description("check the draft as a whole, write the genesis file every node starts from, and print its hash")
    .argument("<draft>", "the genesis draft")
    .requiredOption("--out <file>", "the genesis file to write (never overwritten)")
    .option("--genesis-time <time>", "set when slot 0 starts now that everyone is ready: Unix seconds, a date, or now")
    .option("--json", "machine-readable output", false)
    .action((draftPath: string, opts: { out: string; genesisTime?: string; json: boolean }) =>
      run(opts.json, () => {
        const draft = readDraft(draftPath);
        const final = opts.genesisTime === undefined ? draft : { ...draft, genesisTime: parseGenesisTime(opts.genesisTime, Date.now()) };
        // The full check, "at least one validator" included.
        const parsed = parseGenesis(final);
        writeDraft(opts.out, final, { exclusive: true });
        print({ genesis: opts.out, ...summary(final), genesisHash: genesisHashHex(parsed), next: `send ${opts.out} to every operator; each runs meshchain genesis show ${opts.out} and compares the genesis hash before starting` }, opts.json);
      }),
    );
  genesis
    .command("show")
    .description("print a genesis (or a draft): chain id, start time, validators, accounts, changed parameters and the genesis hash")
    .argument("<file>", "genesis file or draft")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { json: boolean }) => run(opts.json, () => print({ file, ...summary(readDraft(file)) }, opts.json)));
}
