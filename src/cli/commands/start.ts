import type { Command } from "commander";
import { systemClock } from "../../node/clock.js";
import { createLogger } from "../../node/logger.js";
import { MeshChainNode } from "../../node/node.js";
import { ApiServer } from "../../api/server.js";
import { addSettingFlags, givenSettingFlags } from "../config/flags.js";
import { loadConfig } from "../config/load.js";
import { chainAndKey, planStart } from "../config/start-plan.js";
import { CliError } from "../errors.js";

export function registerStart(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  const command = program
    .command("start")
    .description("run the node until SIGINT or SIGTERM; settings from --config FILE < MESHCHAIN_* environment < flags")
    .option("--config <file>", "a TOML configuration file (docs/configuration.md; examples in config/)");
  addSettingFlags(command).action((opts: Record<string, unknown>) =>
    run(false, async () => {
      // Every setting is checked before anything touches the data directory.
      const { config } = loadConfig({ ...(typeof opts.config === "string" ? { file: opts.config } : {}), env: process.env, flags: givenSettingFlags(opts) });
      const plan = planStart(config, process.env);
      const setup = await chainAndKey(config, () => systemClock.now(), process.env);
      const logger = createLogger({ level: plan.logLevel });
      const node = new MeshChainNode({ ...plan.node, genesis: setup.genesis, identity: setup.identity }, { clock: systemClock, logger, random: Math.random });
      await node.start();
      const api = plan.api === null ? null : new ApiServer(plan.api, node);
      try {
        if (api !== null) logger.info({ url: await api.start() }, "local API listening");
      } catch (e) {
        await node.stop();
        throw new CliError("INVALID_ARGUMENT", `api ${plan.api?.host ?? ""}:${plan.api?.port ?? ""}: cannot listen (${(e as Error).message})`);
      }
      const shutdown = (signal: string) => {
        logger.info({ signal }, "shutting down");
        const force = setTimeout(() => process.exit(1), 5_000);
        void (api?.stop() ?? Promise.resolve()).then(() => node.stop()).finally(() => {
          clearTimeout(force);
          process.exit(0);
        });
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    }),
  );
}
