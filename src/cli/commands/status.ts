import type { Command } from "commander";
import { apiTarget, DEFAULT_API_URL, DEFAULT_DATA_DIR, getStatus } from "../api-client.js";
import { print } from "../output.js";
import { radioStatusLine } from "../radio-format.js";

export function registerStatus(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("status")
    .description("where a running node stands: height, finality, sync, peers, mempool, airtime, radio")
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--data-dir <dir>", "the node's data directory: its api.token is sent when readable (needed when the API listens beyond loopback)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false)
    .action((opts: { api: string; dataDir: string; json: boolean }) =>
      run(opts.json, async () => {
        const status = await getStatus(apiTarget(opts.api, opts.dataDir));
        // For people the radio is one line; scripts get all of it.
        const radio = status.radio as Parameters<typeof radioStatusLine>[0] | undefined;
        print(opts.json || radio === undefined ? status : { ...status, radio: radioStatusLine(radio) }, opts.json);
      }),
    );
}
