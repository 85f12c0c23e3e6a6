import type { Command } from "commander";
import { DEFAULT_API_URL, DEFAULT_DATA_DIR, nodeClient } from "../api-client.js";
import { CliError } from "../errors.js";
import { parseWhole } from "../parse.js";
import { radioStatusLine } from "../radio-format.js";
import { formatStatusTable, parseStatus } from "../status-table.js";

interface StatusOptions {
  api: string;
  dataDir: string;
  json: boolean;
  watch?: string | true;
}

export function registerStatus(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("status")
    .description("where a running node stands: role, heights, finality, sync, peers, links, airtime, mempool, warnings and why")
    .option("--api <url>", "the node's local API", DEFAULT_API_URL)
    .option("--data-dir <dir>", "the node's data directory: its api.token is sent when readable (needed when the API listens beyond loopback)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output (one JSON object per refresh with --watch)", false)
    .option("--watch [seconds]", "refresh every this many seconds (default 2) until Ctrl-C")
    .action((opts: StatusOptions) =>
      run(opts.json, async () => {
        const everySeconds = opts.watch === undefined ? null : opts.watch === true ? 2 : parseWhole(opts.watch, "--watch", 3_600);
        if (everySeconds === 0) throw new CliError("INVALID_ARGUMENT", "--watch must be at least 1 second");
        const show = async () => {
          const body = await nodeClient(opts.api, opts.dataDir).status();
          if (opts.json) return `${JSON.stringify(body, null, everySeconds === null ? 2 : undefined)}\n`;
          // The radio's own report (node id, firmware, region, queue) in one line under the table.
          const radio = body.radio as Parameters<typeof radioStatusLine>[0] | null | undefined;
          return formatStatusTable(parseStatus(body), process.stdout.columns ?? 100) + (radio == null ? "" : `radio detail  ${radioStatusLine(radio)}\n`);
        };
        if (everySeconds === null) {
          process.stdout.write(await show());
          return;
        }
        for (;;) {
          const text = await show().catch((e: unknown) => {
            // A node restarting is worth watching through: say so, and keep refreshing.
            if (e instanceof CliError && e.code === "NODE_API_UNAVAILABLE") {
              process.stderr.write(`${e.message}\n`);
              return null;
            }
            throw e;
          });
          // On a terminal each refresh replaces the last; into a pipe, refreshes follow one another.
          if (text !== null) process.stdout.write(process.stdout.isTTY === true && !opts.json ? `\x1b[H\x1b[2J${text}` : text);
          await new Promise((r) => setTimeout(r, everySeconds * 1000));
        }
      }),
    );
}
