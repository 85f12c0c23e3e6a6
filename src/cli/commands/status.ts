import type { Command } from "commander";
import { DEFAULT_API_URL, getStatus } from "../api-client.js";
import { print } from "../output.js";
import { radioStatusLine } from "../radio-format.js";

export function registerStatus(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("status")
    .description("where a running node stands: height, finality, sync, peers, mempool, airtime, radio")
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--json", "machine-readable output", false)
    .action((opts: { api: string; json: boolean }) =>
      run(opts.json, async () => {
        const status = await getStatus(opts.api);
        // For people the radio is one line; scripts get all of it.
        const radio = status.radio as Parameters<typeof radioStatusLine>[0] | undefined;
        print(opts.json || radio === undefined ? status : { ...status, radio: radioStatusLine(radio) }, opts.json);
      }),
    );
}
