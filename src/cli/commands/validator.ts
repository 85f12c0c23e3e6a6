import type { Command } from "commander";
import { formatAddress } from "../../core/crypto/address.js";
import { FederationAction, TxKind } from "../../core/tx/types.js";
import { CliError } from "../errors.js";
import { parseAddressArg } from "../parse.js";
import { addSendOptions, type SendOptions, sendTx, unlockSender } from "../tx-send.js";
import { addRegistrationOptions, REGISTER_HELP, type RegistrationOptions, sendRegistration, sendVote } from "./tx.js";

/*
 * The operator's words for joining and leaving: `validator register|leave` (the same transactions as
 * `tx register-validator` and `tx leave`) and, on a poa chain, `federation propose|vote`. Nonce, fee
 * and chain id come from the node, as for every `tx`.
 */

type Run = (json: boolean, action: () => void | Promise<void>) => void;

export function registerValidatorCommands(program: Command, run: Run): void {
  const validator = program.command("validator").description("join or leave a running chain's validator set");
  addRegistrationOptions(addSendOptions(validator.command("register").description(REGISTER_HELP), "the validator's node key file (node.key in its data directory)"))
    .action((opts: RegistrationOptions) => run(opts.json, () => sendRegistration(opts)));
  addSendOptions(validator.command("leave").description("leave the validator set at once; the stake comes back after the unbonding period"), "the validator's node key file")
    .action((opts: SendOptions) => run(opts.json, async () => sendTx(opts, await unlockSender(opts), { kind: TxKind.ValidatorLeave })));

  const federation = program.command("federation").description("poa chains: members propose and vote members in and out");
  addSendOptions(federation.command("propose")
    .description("propose adding a registered candidate (--add) or removing a member (--remove); it passes when more than two thirds of the members vote yes"), "a member's node key file")
    .option("--add <address>", "the candidate to add (it ran meshchain validator register)")
    .option("--remove <address>", "the member to remove")
    .action((opts: SendOptions & { add?: string; remove?: string }) =>
      run(opts.json, async () => {
        if ((opts.add === undefined) === (opts.remove === undefined)) throw new CliError("INVALID_ARGUMENT", "give exactly one of --add ADDRESS or --remove ADDRESS");
        const action = opts.add !== undefined ? FederationAction.Add : FederationAction.Remove;
        const target = parseAddressArg((opts.add ?? opts.remove) as string, opts.add !== undefined ? "--add" : "--remove");
        await sendTx(opts, await unlockSender(opts), { kind: TxKind.FederationProposal, action, validator: target }, {
          action: action === FederationAction.Add ? "add" : "remove", validator: formatAddress(target),
          next: "the other members vote: meshchain federation vote ID yes (its id shows in meshchain status once included)",
        });
      }),
    );
  addSendOptions(federation.command("vote").description("vote on an open membership proposal (the same vote as `gov vote`)").argument("<proposal>", "proposal id").argument("<choice>", "yes, no or abstain"), "a member's node key file")
    .action((proposal: string, choice: string, opts: SendOptions) => run(opts.json, () => sendVote(opts, proposal, choice)));
}
