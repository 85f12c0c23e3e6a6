import type { Command } from "commander";
import { nodeClient } from "../api-client.js";
import { print } from "../output.js";
import { parseWhole } from "../parse.js";
import { addSendOptions, type SendOptions } from "../tx-send.js";
import { addReadOptions, type ReadOptions } from "./chain.js";
import { addProposalOptions, type ProposalOptions, sendProposal, sendVote } from "./tx.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

function describeProposal(p: Record<string, unknown>): string {
  const total = BigInt(String(p.totalStake));
  const pct = (v: unknown) => (total === 0n ? "0" : (Number((BigInt(String(v)) * 1000n) / total) / 10).toFixed(1));
  return `#${String(p.id)} ${String(p.parameter)}: ${String(p.current)} → ${String(p.value)}  yes ${pct(p.yes)}%  no ${pct(p.no)}%  abstain ${pct(p.abstain)}%  (passes once more than 66.7% yes; closes at height ${String(p.endHeight)}; a change passed then takes effect at ${String(p.takesEffectIfPassedAtEnd)})${p.passing === true ? "  PASSING" : ""}`;
}

export function registerGov(program: Command, run: Run): void {
  const gov = program.command("gov").description("parameter governance: propose, vote, list, show (changes take effect at the next epoch's first block)");
  addProposalOptions(addSendOptions(gov.command("propose").description("propose a new value for a chain parameter (validators only; your proposal counts as your yes)"), "the validator's key file"))
    .action((opts: ProposalOptions) => run(opts.json, () => sendProposal(opts)));
  addSendOptions(gov.command("vote").description("vote on an open proposal (validators only)").argument("<proposal>", "proposal id").argument("<choice>", "yes, no or abstain"), "the validator's key file")
    .action((proposal: string, choice: string, opts: SendOptions) => run(opts.json, () => sendVote(opts, proposal, choice)));
  addReadOptions(gov.command("list").description("open proposals with their tallies, and passed changes with the height they take effect"))
    .action((opts: ReadOptions) =>
      run(opts.json, async () => {
        const p = await nodeClient(opts.api, opts.dataDir).proposals();
        if (opts.json) return print(p, true);
        const open = p.open as Record<string, unknown>[];
        const scheduled = p.scheduled as Record<string, unknown>[];
        if (open.length === 0 && scheduled.length === 0) process.stdout.write(`no open proposals and no changes waiting (height ${String(p.height)})\n`);
        for (const o of open) process.stdout.write(`${describeProposal(o)}\n`);
        for (const s of scheduled) process.stdout.write(`#${String(s.proposalId)} passed: ${String(s.parameter)} = ${String(s.value)} takes effect at height ${String(s.effectiveHeight)}\n`);
      }),
    );
  addReadOptions(gov.command("show").description("one proposal: tally, votes, and when it closes or takes effect").argument("<proposal>", "proposal id"))
    .action((proposal: string, opts: ReadOptions) =>
      run(opts.json, async () => print(await nodeClient(opts.api, opts.dataDir).proposal(parseWhole(proposal, "<proposal>", 0xffffffff)), opts.json)),
    );
}
