import type { Command } from "commander";
import { formatAddress } from "../../core/crypto/address.js";
import type { Subscription, Topic } from "../../client/rpc-client.js";
import { nodeClient } from "../api-client.js";
import { CliError } from "../errors.js";
import { parseAddressArg } from "../parse.js";
import { addReadOptions, type ReadOptions } from "./chain.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

function line(topic: Topic, e: Record<string, unknown>): string {
  switch (topic) {
    case "newHeads":
      return `block ${String(e.height)} ${String(e.hash).slice(0, 16)}… by ${String(e.proposer)}, ${String(e.txs)} tx`;
    case "finalized":
      return `final up to block ${String(e.height)}`;
    case "tx":
      return `tx ${String(e.hash).slice(0, 16)}… ${String(e.status)}${e.height === null ? "" : ` at ${String(e.height)}`}`;
    case "messages":
      return `message at ${String(e.height)} from ${String(e.from)}: ${e.payloadType === "text" ? String(e.text) : `(${String(e.payloadType)}${e.acknowledges === undefined ? "" : ` of ${String(e.acknowledges)}`})`}  ${String(e.hash)}`;
    case "governance":
      if (e.type === "proposed") return `proposal at ${String(e.height)} by ${String(e.from)}: ${String(e.parameter)} = ${String(e.value)}`;
      if (e.type === "voted") return `vote at ${String(e.height)} by ${String(e.from)}: ${String(e.choice)} on #${String(e.proposalId)}`;
      if (e.type === "passed") return `proposal #${String(e.proposalId)} passed: ${String(e.parameter)} = ${String(e.value)} from height ${String(e.effectiveHeight)}`;
      if (e.type === "enacted") return `enacted: ${String(e.parameter)} ${String(e.from)} → ${String(e.value)}, in force from block ${String(e.inForceFrom)}`;
      return `proposal #${String(e.proposalId)} rejected`;
  }
}

export function registerWatch(program: Command, run: Run): void {
  addReadOptions(program.command("watch").description("print the node's live events as they happen (needs the API token: --data-dir) until Ctrl-C"))
    .option("--heads", "new blocks", false)
    .option("--finalized", "finality moving", false)
    .option("--messages <address>", "messages to this address")
    .option("--governance", "proposals, votes and their outcomes", false)
    .option("--tx <hash>", "one transaction's status")
    .action((opts: ReadOptions & { heads: boolean; finalized: boolean; messages?: string; governance: boolean; tx?: string }) =>
      run(opts.json, async () => {
        const wanted: [Topic, Record<string, unknown>][] = [];
        if (opts.heads) wanted.push(["newHeads", {}]);
        if (opts.finalized) wanted.push(["finalized", {}]);
        if (opts.messages !== undefined) wanted.push(["messages", { to: formatAddress(parseAddressArg(opts.messages, "--messages")) }]);
        if (opts.governance) wanted.push(["governance", {}]);
        if (opts.tx !== undefined) {
          if (!/^[0-9a-f]{64}$/i.test(opts.tx)) throw new CliError("INVALID_ARGUMENT", "--tx must be a transaction hash (64 hex digits)");
          wanted.push(["tx", { hash: opts.tx.toLowerCase() }]);
        }
        // Nothing chosen: everything that needs no argument.
        if (wanted.length === 0) wanted.push(["newHeads", {}], ["finalized", {}], ["governance", {}]);
        const client = nodeClient(opts.api, opts.dataDir);
        const subs: Subscription[] = [];
        let ended: (reason: string) => void = () => undefined;
        const done = new Promise<string>((resolve) => (ended = resolve));
        for (const [topic, params] of wanted) {
          subs.push(await client.subscribe(topic, params, (e) => process.stdout.write(opts.json ? `${JSON.stringify({ topic, event: e })}\n` : `${new Date().toISOString().slice(11, 19)}  ${line(topic, e)}\n`), ended));
        }
        process.stderr.write(`watching ${wanted.map(([t]) => t).join(", ")} at ${client.url} (Ctrl-C stops)\n`);
        const stop = () => ended("stopped");
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        const reason = await done;
        await Promise.all(subs.map((s) => s.close()));
        if (reason !== "stopped") throw new CliError("NODE_API_UNAVAILABLE", `live events ended: ${reason}`);
      }),
    );
}
