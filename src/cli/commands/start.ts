import type { Command } from "commander";
import { systemClock } from "../../node/clock.js";
import { createLogger } from "../../node/logger.js";
import { MeshChainNode } from "../../node/node.js";
import { DataDirLock } from "../../storage/dir-lock.js";
import { ApiServer } from "../../api/server.js";
import { apiTokenPath, ensureApiToken } from "../../api/token.js";
import { addSettingFlags, givenSettingFlags } from "../config/flags.js";
import { loadConfig } from "../config/load.js";
import { chainAndKey, planStart } from "../config/start-plan.js";
import { assertCanListen } from "../ports.js";

export function registerStart(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  const command = program
    .command("start")
    .description("run the node until SIGINT or SIGTERM; settings from --config FILE < MESHCHAIN_* environment < flags")
    .option("--config <file>", "a TOML configuration file (docs/configuration.md; examples in config/)");
  addSettingFlags(command).action((opts: Record<string, unknown>) =>
    run(false, () => exitSoonIfFailed(async () => {
      // Every setting is checked, the key unlocked, the ports found free and the directory's lock
      // taken before anything is written there.
      const { config, sources } = loadConfig({ ...(typeof opts.config === "string" ? { file: opts.config } : {}), env: process.env, flags: givenSettingFlags(opts) });
      const plan = planStart(config, process.env, (path) => sources.has(path));
      const given = config.dev ? null : await chainAndKey(config, () => systemClock.now(), process.env);
      if (plan.api !== null) await assertCanListen(plan.api.host, plan.api.port, "--api-port");
      if (plan.chosenBrokerPort !== null) await assertCanListen(plan.chosenBrokerPort.host, plan.chosenBrokerPort.port, "--broker-port");
      const lock = DataDirLock.acquire(config.data_dir);
      let node: MeshChainNode | null = null;
      let api: ApiServer | null = null;
      try {
        const setup = given ?? (await chainAndKey(config, () => systemClock.now(), process.env));
        const logger = createLogger({ level: plan.logLevel, format: plan.logFormat });
        const started = new MeshChainNode({ ...plan.node, genesis: setup.genesis, identity: setup.identity }, { clock: systemClock, logger, random: Math.random });
        node = started;
        await started.start();
        if (plan.api !== null) {
          // The token is made once the node holds its data directory, and kept across restarts.
          api = new ApiServer({ ...plan.api, token: ensureApiToken(config.data_dir), logger }, started);
          logger.info({ url: await api.start(), tokenFile: apiTokenPath(config.data_dir) }, "local API listening");
        }
        const running = api;
        const shutdown = (signal: string) => {
          logger.info({ signal }, "shutting down");
          const force = setTimeout(() => process.exit(1), 5_000);
          void (running?.stop() ?? Promise.resolve()).then(() => started.stop()).finally(() => {
            lock.release();
            clearTimeout(force);
            process.exit(0);
          });
        };
        process.once("SIGINT", () => shutdown("SIGINT"));
        process.once("SIGTERM", () => shutdown("SIGTERM"));
      } catch (e) {
        await api?.stop();
        await node?.stop();
        lock.release();
        throw e;
      }
    })),
  );
}

/**
 * A start that failed must end the process even if some handle (a timer, a socket) outlived the
 * cleanup: systemd restarts only a process that exits. The caller reports the error first.
 */
async function exitSoonIfFailed(start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (e) {
    setTimeout(() => process.exit(), 3_000).unref();
    throw e;
  }
}
