import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import { formatAddress } from "../../core/crypto/address.js";
import { DEFAULT_API_URL, DEFAULT_DATA_DIR, nodeClient } from "../api-client.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseAddressArg, parseWhole } from "../parse.js";
import { unlockSender } from "../tx-send.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

export interface ReadOptions {
  api: string;
  dataDir: string;
  json: boolean;
}

/** --api, --data-dir and --json, as every read command takes them. */
export function addReadOptions(command: Command): Command {
  return command
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--data-dir <dir>", "the node's data directory (its api.token, needed beyond loopback)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false);
}

const units = (v: unknown): string => {
  const n = BigInt(String(v));
  return `${n} units (${n / 1_000_000n}.${(n % 1_000_000n).toString().padStart(6, "0")} MESH)`;
};

export function registerChainReads(program: Command, run: Run): void {
  addReadOptions(program.command("account").description("an account: balance, nonce, stake, delegations and unbonding stake").argument("[address]", "mc… address (default: --key's, else the node's own)"))
    .option("--key <file>", "read the account of this key file")
    .action((address: string | undefined, opts: ReadOptions & { key?: string }) =>
      run(opts.json, async () => {
        const client = nodeClient(opts.api, opts.dataDir);
        let target: string;
        if (address !== undefined) target = formatAddress(parseAddressArg(address, "<address>"));
        else if (opts.key !== undefined) target = formatAddress((await unlockSender({ key: opts.key })).address);
        else target = String((await client.status()).address);
        const a = await client.account(target);
        const jailedUntil = Number((a.validator as { jailedUntil?: number } | null)?.jailedUntil ?? 0);
        // Jail does not end by itself: say what brings the validator back, and from when.
        const jailed = jailedUntil > 0 ? { jailed: `out of the voting set; from height ${jailedUntil} on, \`meshchain tx unjail --key <its key>\` brings it back at the next epoch start` } : {};
        print(opts.json ? a : { ...a, balance: units(a.balance), ...jailed }, opts.json);
      }),
    );
  addReadOptions(program.command("validators").description("the voting set: stake, weight, proximity and the weights' Gini coefficient"))
    .option("--out <file>", "also write the set as a file `proof verify --validators` trusts")
    .action((opts: ReadOptions & { out?: string }) =>
      run(opts.json, async () => {
        const set = await nodeClient(opts.api, opts.dataDir).validators();
        if (opts.out !== undefined) writeFileSync(opts.out, `${JSON.stringify(set, null, 2)}\n`);
        if (opts.json) return print(set, true);
        process.stdout.write(`chain ${String(set.chainId)} at height ${String(set.height)}; weight Gini ${Number(set.gini).toFixed(3)}\n`);
        for (const v of set.validators as Record<string, unknown>[]) {
          process.stdout.write(`${String(v.address)}  stake ${String(v.stake)}  weight ${(Number(v.weightShare) * 100).toFixed(1)}%  proximity ${(Number(v.proximityBps) / 100).toFixed(1)}%\n`);
        }
      }),
    );
  addReadOptions(program.command("block").description("a block by height or hash: header, certificate, transactions").argument("<ref>", "height, or block hash (64 hex digits)"))
    .action((ref: string, opts: ReadOptions) =>
      run(opts.json, async () => {
        const client = nodeClient(opts.api, opts.dataDir);
        if (/^[0-9a-f]{64}$/i.test(ref)) return print(await client.block(ref.toLowerCase()), opts.json);
        if (!/^[0-9]+$/.test(ref)) throw new CliError("INVALID_ARGUMENT", `"${ref}" is neither a height nor a block hash (64 hex digits)`);
        print(await client.block(parseWhole(ref, "<ref>", 2 ** 48)), opts.json);
      }),
    );
  addReadOptions(program.command("params").description("the chain's parameters, and passed changes waiting for their epoch boundary"))
    .action((opts: ReadOptions) =>
      run(opts.json, async () => {
        const p = await nodeClient(opts.api, opts.dataDir).params();
        if (opts.json) return print(p, true);
        for (const s of p.params as Record<string, unknown>[]) process.stdout.write(`${String(s.name).padEnd(28)} ${String(s.value).padStart(12)}  ${String(s.description)}\n`);
        for (const c of p.scheduled as Record<string, unknown>[]) process.stdout.write(`scheduled: ${String(c.parameter)} → ${String(c.value)} from height ${String(c.effectiveHeight)} (proposal ${String(c.proposalId)})\n`);
      }),
    );
}
