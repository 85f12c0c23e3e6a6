import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import { blsProvePossession } from "../../core/crypto/bls.js";
import { votingWindowBounds } from "../../core/state/governance.js";
import { defaultParams, paramSpecByName, PARAM_SPECS } from "../../core/state/params.js";
import { MAX_VOTING_WINDOW } from "../../core/tx/limits.js";
import { MessagePriority, TxKind, VoteChoice } from "../../core/tx/types.js";
import { buildMessagePayload, checkMessageText } from "../../client/messages.js";
import type { MeshChainClient } from "../../client/rpc-client.js";
import { DEFAULT_API_URL, DEFAULT_DATA_DIR, nodeClient } from "../api-client.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseAddressArg, parseUnits, parseWhole } from "../parse.js";
import { addSendOptions, requireNode, type SendOptions, sendTx, unlockSender } from "../tx-send.js";

export { DEFAULT_CHAIN_ID } from "../tx-send.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

function positive(text: string, option: string): bigint {
  const v = parseUnits(text, option);
  if (v === 0n) throw new CliError("INVALID_ARGUMENT", `${option} must be positive`);
  return v;
}

export function parsePriority(text: string): MessagePriority {
  const p = { bulk: MessagePriority.Bulk, normal: MessagePriority.Normal, urgent: MessagePriority.Urgent }[text];
  if (p === undefined) throw new CliError("INVALID_ARGUMENT", `--priority takes bulk, normal or urgent, not "${text}"`);
  return p;
}

export function parseParameter(text: string): { id: number; name: string } {
  const spec = paramSpecByName(text);
  if (spec === undefined) throw new CliError("INVALID_ARGUMENT", `no parameter "${text}"; the parameters are: ${PARAM_SPECS.map((s) => s.name).join(", ")}`);
  return { id: spec.id, name: spec.name };
}

export function parseChoice(text: string): VoteChoice {
  const c = { yes: VoteChoice.Yes, no: VoteChoice.No, abstain: VoteChoice.Abstain }[text];
  if (c === undefined) throw new CliError("INVALID_ARGUMENT", `the vote is yes, no or abstain, not "${text}"`);
  return c;
}

/** A message to an address: its text sealed to the recipient's key with --encrypt (read from the node). */
export async function sendMessage(opts: SendOptions & { to: string; priority: string; encrypt: boolean }, text: string): Promise<void> {
  const to = parseAddressArg(opts.to, "--to");
  const priority = parsePriority(opts.priority);
  // The size is checked before the key is unlocked or anything is signed.
  checkMessageText(text, opts.encrypt);
  const sender = await unlockSender(opts);
  await sendTx(opts, sender, async (client) => {
    let key: Uint8Array | null = null;
    if (opts.encrypt) {
      const account = await requireNode(client, "--encrypt").account(formatAddress(to)).catch((e: unknown) => {
        throw new CliError("INVALID_ARGUMENT", `--encrypt: the recipient's key is not known (${(e as Error).message}); it becomes known with its first transaction`);
      });
      if (typeof account.publicKey !== "string") throw new CliError("INVALID_ARGUMENT", `--encrypt: ${formatAddress(to)} has not sent anything yet, so its key is not known: send in the clear, or wait`);
      key = Uint8Array.from(Buffer.from(account.publicKey, "hex"));
    }
    return { kind: TxKind.Message, to, priority, payload: buildMessagePayload(text, key) };
  }, { to: formatAddress(to), priority: opts.priority, encrypted: opts.encrypt, ...(opts.encrypt ? {} : { text }) }, true);
}

export const REGISTER_HELP =
  "become a validator with this key (its BLS key signs the proof of possession): on a dpop chain with a self-bond of at least minSelfBond, joining at the next epoch start; on a poa chain with no bond, as a candidate the federation votes in";

export type RegistrationOptions = SendOptions & { selfBond: string; commissionBps: string };

export function addRegistrationOptions(command: Command): Command {
  return command
    .option("--self-bond <units>", "stake bonded by the validator itself (dpop: at least minSelfBond; poa: leave out)", "0")
    .option("--commission-bps <n>", "commission on delegators' rewards, basis points", "1000");
}

export async function sendRegistration(opts: RegistrationOptions): Promise<void> {
  const selfBond = parseUnits(opts.selfBond, "--self-bond");
  const commissionBps = parseWhole(opts.commissionBps, "--commission-bps", 10_000);
  const sender = await unlockSender(opts);
  await sendTx(opts, sender, async (client) => {
    const chainId = opts.chainId ?? (await requireNode(client, "register-validator").chainInfo()).chainId;
    return { kind: TxKind.ValidatorRegister, commissionBps, selfBond, blsPublicKey: sender.bls.publicKey, proofOfPossession: blsProvePossession(chainId, sender.bls) };
  }, { selfBond, commissionBps, blsPublicKey: toHex(sender.bls.publicKey) });
}

export function registerTx(program: Command, run: Run): void {
  const tx = program.command("tx").description("sign and send transactions (nonce, fee and chain id from the node unless given), or look one up");
  addSendOptions(tx.command("transfer").description("send units to an address"))
    .requiredOption("--to <address>", "recipient address (mc…)")
    .requiredOption("--amount <units>", "amount in base units (1 MESH = 1,000,000 units)")
    .action((opts: SendOptions & { to: string; amount: string }) =>
      run(opts.json, async () => {
        const to = parseAddressArg(opts.to, "--to");
        const amount = positive(opts.amount, "--amount");
        await sendTx(opts, await unlockSender(opts), { kind: TxKind.Transfer, to, amount }, { to: formatAddress(to), amount });
      }),
    );
  addSendOptions(tx.command("message").description("put a short message to an address on chain (same as `msg send`)").argument("<text>", "the message"))
    .requiredOption("--to <address>", "recipient address (mc…)")
    .option("--priority <class>", "bulk, normal or urgent", "normal")
    .option("--encrypt", "seal the text to the recipient's key: only the recipient can read it", false)
    .action((text: string, opts: SendOptions & { to: string; priority: string; encrypt: boolean }) => run(opts.json, () => sendMessage(opts, text)));
  for (const [name, kind, help] of [["bond", TxKind.Bond, "add to your validator's self-bond"], ["unbond", TxKind.Unbond, "start releasing self-bond (liquid after unbondingPeriod blocks)"]] as const) {
    addSendOptions(tx.command(name).description(help), "the validator's key file")
      .requiredOption("--amount <units>", "amount in base units")
      .action((opts: SendOptions & { amount: string }) =>
        run(opts.json, async () => {
          const amount = positive(opts.amount, "--amount");
          await sendTx(opts, await unlockSender(opts), { kind, amount }, { amount });
        }),
      );
  }
  for (const [name, kind, help] of [["delegate", TxKind.Delegate, "delegate stake to a validator"], ["undelegate", TxKind.Undelegate, "take delegated stake back (liquid after unbondingPeriod blocks)"]] as const) {
    addSendOptions(tx.command(name).description(help))
      .requiredOption("--validator <address>", "the validator (mc…)")
      .requiredOption("--amount <units>", "amount in base units")
      .action((opts: SendOptions & { validator: string; amount: string }) =>
        run(opts.json, async () => {
          const validator = parseAddressArg(opts.validator, "--validator");
          const amount = positive(opts.amount, "--amount");
          await sendTx(opts, await unlockSender(opts), { kind, validator, amount }, { validator: formatAddress(validator), amount });
        }),
      );
  }
  addRegistrationOptions(addSendOptions(tx.command("register-validator").description(REGISTER_HELP), "the new validator's node key file"))
    .action((opts: RegistrationOptions) => run(opts.json, () => sendRegistration(opts)));
  addSendOptions(tx.command("leave").description("leave the validator set; stake is released after unbondingPeriod blocks"), "the validator's key file")
    .action((opts: SendOptions) => run(opts.json, async () => sendTx(opts, await unlockSender(opts), { kind: TxKind.ValidatorLeave })));
  addSendOptions(tx.command("unjail").description("bring a jailed validator back once its jail period is over (`meshchain account` shows jailedUntil); it rejoins at the next epoch start"), "the validator's key file")
    .action((opts: SendOptions) => run(opts.json, async () => sendTx(opts, await unlockSender(opts), { kind: TxKind.Unjail })));
  addProposalOptions(addSendOptions(tx.command("propose").description("propose a new value for a chain parameter (validators only; same as `gov propose`)"), "the validator's key file"))
    .action((opts: ProposalOptions) => run(opts.json, () => sendProposal(opts)));
  addSendOptions(tx.command("vote").description("vote on an open proposal (validators only; same as `gov vote`)").argument("<proposal>", "proposal id").argument("<choice>", "yes, no or abstain"), "the validator's key file")
    .action((proposal: string, choice: string, opts: SendOptions) => run(opts.json, () => sendVote(opts, proposal, choice)));
  tx.command("show")
    .description("a transaction and its status: pending, queued, included at a height, or final")
    .argument("<hash>", "transaction hash (64 hex digits)")
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--data-dir <dir>", "the node's data directory (its api.token)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false)
    .action((hash: string, opts: { api: string; dataDir: string; json: boolean }) =>
      run(opts.json, async () => {
        if (!/^[0-9a-f]{64}$/i.test(hash)) throw new CliError("INVALID_ARGUMENT", `"${hash}" is not a transaction hash (64 hex digits)`);
        print(await nodeClient(opts.api, opts.dataDir).transaction(hash.toLowerCase()), opts.json);
      }),
    );
}

export type ProposalOptions = SendOptions & { param: string; value: string; window?: string };

export function addProposalOptions(command: Command): Command {
  return command
    .requiredOption("--param <name>", "the parameter (`meshchain params` lists them)")
    .requiredOption("--value <n>", "its new value")
    .option("--window <blocks>", "blocks the proposal stays open, from epochLength to governanceVotingPeriod (default: governanceVotingPeriod)");
}

/** The chain's voting-window bounds, from the node (or the defaults for an offline dry run). */
async function windowBounds(client: MeshChainClient | null): Promise<{ min: number; max: number }> {
  if (client === null) return votingWindowBounds(defaultParams());
  const list = (await client.params()).params as { name: string; value: string }[];
  const param = (name: string): bigint => BigInt(list.find((p) => p.name === name)?.value ?? "0");
  return votingWindowBounds({ epochLength: param("epochLength"), governanceVotingPeriod: param("governanceVotingPeriod") });
}

export async function sendProposal(opts: ProposalOptions): Promise<void> {
  const param = parseParameter(opts.param);
  const value = parseUnits(opts.value, "--value");
  const asked = opts.window === undefined ? undefined : parseWhole(opts.window, "--window", MAX_VOTING_WINDOW);
  const sender = await unlockSender(opts);
  let votingWindow = 0;
  await sendTx(opts, sender, async (client) => {
    const bounds = await windowBounds(client);
    votingWindow = asked ?? bounds.max;
    // The node would refuse it as VOTING_WINDOW_OUT_OF_RANGE; say so before signing, with the bounds.
    if (votingWindow < bounds.min || votingWindow > bounds.max) throw new CliError("INVALID_ARGUMENT", `--window must lie in [${bounds.min}, ${bounds.max}] blocks on this chain (epochLength to governanceVotingPeriod), not ${votingWindow}`);
    return { kind: TxKind.GovProposal, paramId: param.id, value, votingWindow };
  }, { parameter: param.name, value, get votingWindow() { return votingWindow; } });
}

export async function sendVote(opts: SendOptions, proposal: string, choice: string): Promise<void> {
  const proposalId = parseWhole(proposal, "<proposal>", 0xffffffff);
  const vote = parseChoice(choice);
  await sendTx(opts, await unlockSender(opts), { kind: TxKind.GovVote, proposalId, choice: vote }, { proposalId, choice });
}
