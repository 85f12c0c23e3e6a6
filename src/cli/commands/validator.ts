import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import { blsProvePossession } from "../../core/crypto/bls.js";
import { defaultParams } from "../../core/state/params.js";
import { minimumFee } from "../../core/state/transaction.js";
import { txHash } from "../../core/tx/codec.js";
import { MAX_NONCE } from "../../core/tx/limits.js";
import { signTx } from "../../core/tx/sign.js";
import { FederationAction, type TxBody, TxKind, VoteChoice } from "../../core/tx/types.js";
import { apiTarget, callRpc, DEFAULT_API_URL, DEFAULT_DATA_DIR } from "../api-client.js";
import { CliError } from "../errors.js";
import { unlockKeyFile } from "../node-key.js";
import { print } from "../output.js";
import { parseAddressArg, parseChainId, parseUnits, parseWhole } from "../parse.js";

/*
 * Joining and leaving the validator set from the CLI: `validator register` (a dpop validator bonds;
 * a poa candidate registers its keys) and `validator leave`; on a poa chain, `federation propose`
 * and `federation vote` change the membership. Every one signs with the node key and sends through
 * the local node's API, as `tx transfer` does.
 */

type Run = (json: boolean, action: () => void | Promise<void>) => void;

interface SendOptions {
  key: string;
  passphraseFile?: string;
  fee: string;
  nonce: string;
  revealKey: boolean;
  chainId: string;
  dryRun: boolean;
  api: string;
  dataDir: string;
  json: boolean;
}

function sendOptions(c: Command): Command {
  return c
    .requiredOption("--key <file>", "the validator's node key file (node.key in its data directory)")
    .option("--passphrase-file <file>", "file holding the key's passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .requiredOption("--chain-id <id>", "the chain the signature is valid for")
    .requiredOption("--nonce <n>", "the account's next nonce")
    .option("--fee <units>", "fee in base units", "10000")
    .option("--reveal-key", "carry the account's public key (needed on its first transaction)", false)
    .option("--dry-run", "sign and print, do not send", false)
    .option("--api <url>", "the local API of the node to send through", DEFAULT_API_URL)
    .option("--data-dir <dir>", "that node's data directory, for its API token (api.token)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false);
}

async function signAndSend(opts: SendOptions, body: (chainId: string, bls: Parameters<typeof blsProvePossession>[1]) => TxBody, describe: Record<string, unknown>): Promise<void> {
  const chainId = parseChainId(opts.chainId);
  const fee = parseUnits(opts.fee, "--fee");
  const nonce = parseWhole(opts.nonce, "--nonce", MAX_NONCE);
  const id = await unlockKeyFile(opts.key, { ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }), env: process.env, allowUnencrypted: true });
  const signed = signTx({ sender: id.address, nonce, fee, expiresAt: null, publicKey: opts.revealKey ? id.ed25519.publicKey : null, body: body(chainId, id.bls) }, chainId, id.ed25519);
  const minFee = minimumFee(signed.bytes.length, defaultParams().minFeePerByte);
  const target = opts.dryRun ? null : apiTarget(opts.api, opts.dataDir);
  const outcome = target === null ? null : ((await callRpc(target, "submitTransaction", { tx: toHex(signed.bytes) })) as { status?: string; reason?: string } | null);
  print({
    sent: outcome !== null, status: outcome?.status ?? "not sent (dry run)", ...(outcome?.reason === undefined ? {} : { queuedBecause: outcome.reason }),
    ...describe, chainId, from: formatAddress(id.address), hash: toHex(txHash(signed.bytes)), nonce, fee, minFee, feeCoversMinimum: fee >= minFee, bytes: signed.bytes.length, hex: toHex(signed.bytes),
  }, opts.json);
}

const CHOICES: Record<string, VoteChoice> = { yes: VoteChoice.Yes, no: VoteChoice.No, abstain: VoteChoice.Abstain };

export function registerValidatorCommands(program: Command, run: Run): void {
  const validator = program.command("validator").description("join or leave a running chain's validator set");
  sendOptions(validator.command("register")
    .description("register this node's key as a validator: on a dpop chain it bonds and joins at the next epoch start; on a poa chain it becomes a candidate the federation votes in")
    .option("--self-bond <units>", "stake to bond, in units (at least the chain's minSelfBond on dpop; leave out on poa)", "0")
    .option("--commission-bps <n>", "its commission on delegators' rewards, basis points", "1000"))
    .action((opts: SendOptions & { selfBond: string; commissionBps: string }) =>
      run(opts.json, async () => {
        const selfBond = parseUnits(opts.selfBond, "--self-bond");
        const commissionBps = parseWhole(opts.commissionBps, "--commission-bps", 10_000);
        await signAndSend(opts, (chainId, bls) => ({ kind: TxKind.ValidatorRegister, commissionBps, selfBond, blsPublicKey: bls.publicKey, proofOfPossession: blsProvePossession(chainId, bls) }), {
          kind: "validator register", selfBond, commissionBps,
          next: selfBond === 0n ? "on a poa chain a member now proposes you: meshchain federation propose --add YOUR_ADDRESS" : "you join the voting set at the next epoch start (epochLength blocks); keep the node running",
        });
      }),
    );
  sendOptions(validator.command("leave").description("leave the validator set at once; the stake comes back after the unbonding period"))
    .action((opts: SendOptions) => run(opts.json, () => signAndSend(opts, () => ({ kind: TxKind.ValidatorLeave }), { kind: "validator leave" })));

  const federation = program.command("federation").description("poa chains: members propose and vote members in and out");
  sendOptions(federation.command("propose")
    .description("propose adding a registered candidate (--add) or removing a member (--remove); it passes when more than two thirds of the members vote yes")
    .option("--add <address>", "the candidate to add (it ran meshchain validator register)")
    .option("--remove <address>", "the member to remove"))
    .action((opts: SendOptions & { add?: string; remove?: string }) =>
      run(opts.json, async () => {
        if ((opts.add === undefined) === (opts.remove === undefined)) throw new CliError("INVALID_ARGUMENT", "give exactly one of --add ADDRESS or --remove ADDRESS");
        const action = opts.add !== undefined ? FederationAction.Add : FederationAction.Remove;
        const target = parseAddressArg((opts.add ?? opts.remove) as string, opts.add !== undefined ? "--add" : "--remove");
        await signAndSend(opts, () => ({ kind: TxKind.FederationProposal, action, validator: target }), {
          kind: "federation proposal", action: action === FederationAction.Add ? "add" : "remove", validator: formatAddress(target),
          next: "the other members vote: meshchain federation vote --proposal ID --choice yes (the id is in meshchain status once included)",
        });
      }),
    );
  sendOptions(federation.command("vote")
    .description("vote on an open membership proposal")
    .requiredOption("--proposal <id>", "the proposal's id")
    .requiredOption("--choice <choice>", "yes, no or abstain"))
    .action((opts: SendOptions & { proposal: string; choice: string }) =>
      run(opts.json, async () => {
        const choice = CHOICES[opts.choice];
        if (choice === undefined) throw new CliError("INVALID_ARGUMENT", `--choice "${opts.choice}": expected yes, no or abstain`);
        const proposalId = parseWhole(opts.proposal, "--proposal", 0xffffffff);
        await signAndSend(opts, () => ({ kind: TxKind.GovVote, proposalId, choice }), { kind: "federation vote", proposal: proposalId, choice: opts.choice });
      }),
    );
}
