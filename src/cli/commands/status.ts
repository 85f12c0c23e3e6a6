import type { Command } from "commander";
import { DEFAULT_API_URL, getStatus } from "../api-client.js";
import { print } from "../output.js";

export function registerStatus(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("status")
    .description("where a running node stands: height, finality, sync, peers, mempool, airtime")
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--json", "machine-readable output", false)
    .action((opts: { api: string; json: boolean }) =>
      run(opts.json, async () => {
        print(await getStatus(opts.api), opts.json);
      }),
    );
}
