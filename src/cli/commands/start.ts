import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fromHex } from "../../core/bytes.js";
import { parseGenesisJson } from "../../core/genesis.js";
import { readKeyFile } from "../../storage/keystore.js";
import { DataDirLock } from "../../storage/dir-lock.js";
import { systemClock } from "../../node/clock.js";
import { ensureDevNetwork } from "../../node/dev-network.js";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../../node/logger.js";
import { MeshChainNode } from "../../node/node.js";
import { ApiServer } from "../../api/server.js";
import { apiTokenPath, ensureApiToken } from "../../api/token.js";
import { assertCanListen } from "../ports.js";
import { CliError } from "../errors.js";
import { parseWhole } from "../parse.js";
import { PRESET_NAMES } from "../../mesh/airtime/presets.js";
import { RADIO_FLAG_HELP, radioOptions } from "../radio-flags.js";

function readArgumentFile(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `${option}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The embedded broker's port unless --broker-port says otherwise (MQTT's registered port). */
const DEFAULT_BROKER_PORT = 1883;

interface StartOptions {
  dataDir: string;
  dev: boolean;
  genesis?: string;
  key?: string;
  slotMs: string;
  heartbeatSlots?: string;
  statusInterval: string;
  logLevel: string;
  logFormat: string;
  broker?: string;
  brokerPort?: string;
  api: string;
  apiPort: string;
  checkpoint?: string;
  snapshotInterval: string;
  radio: string;
  region?: string;
  preset?: string;
  channel: string;
  psk: string;
  hopLimit: string;
  airtimeBudget: string;
}

export function registerStart(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("start")
    .description("run the node until SIGINT or SIGTERM")
    .option("--data-dir <dir>", "where the chain database lives", "./data/dev")
    .option("--dev", "create (or reuse) a single-validator development chain in the data directory", false)
    .option("--genesis <file>", "genesis file (not with --dev)")
    .option("--key <file>", "node key file (not with --dev)")
    .option("--slot-ms <ms>", "slot length in milliseconds", "2000")
    .option("--heartbeat-slots <n>", "slots after which a block is made even with nothing to include (default: 1 with --dev, 60 otherwise)")
    .option("--status-interval <ms>", "milliseconds between status lines", "10000")
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    .option("--log-format <format>", "pretty (one line per event), json (for journald and scripts), or auto: pretty on a terminal, json otherwise", "auto")
    .option("--broker <broker>", "embedded (start one in this process), an mqtt:// or mqtts:// URL, or none (default: embedded with --dev, none otherwise)")
    .option("--broker-port <port>", `port of the embedded broker (default: ${DEFAULT_BROKER_PORT}, or a free port if that is taken; a port given here must be free)`)
    .option("--api <host>", "address the local API listens on, or none", "127.0.0.1")
    .option("--api-port <port>", "port of the local API (0: any free port)", "8645")
    .option("--checkpoint <hash>", "start a new data directory from the finalized state at this block hash, fetched from peers (see `meshchain status`)")
    .option("--snapshot-interval <blocks>", "keep a state snapshot for peers' checkpoint sync every this many blocks", "1000")
    .option("--radio <where>", RADIO_FLAG_HELP, "none")
    .option("--region <region>", "the radio's LoRa region (its duty cycle; its topic behind a gateway); default: the radio's own over serial/tcp, EU_868 behind a gateway")
    .option("--preset <name>", `the radio's modem preset (${PRESET_NAMES.join(", ")}); default: the radio's own over serial/tcp, LONG_FAST behind a gateway`)
    .option("--channel <name>", "the Meshtastic channel MeshChain uses", "MeshChain")
    .option("--psk <base64>", "that channel's key (AQ== is Meshtastic's default key)", "AQ==")
    .option("--hop-limit <n>", "hops the radios flood our packets (0-7)", "3")
    .option("--airtime-budget <seconds>", "radio airtime this node allows itself per hour (the region's duty cycle caps it too)", "180")
    .action((opts: StartOptions) =>
      run(false, () => exitSoonIfFailed(async () => {
        const slotMs = parseWhole(opts.slotMs, "--slot-ms", 3_600_000);
        if (slotMs < 100) throw new CliError("INVALID_ARGUMENT", "--slot-ms must be at least 100");
        const heartbeatSlots = parseWhole(opts.heartbeatSlots ?? (opts.dev ? "1" : "60"), "--heartbeat-slots", 1_000_000);
        if (heartbeatSlots < 1) throw new CliError("INVALID_ARGUMENT", "--heartbeat-slots must be at least 1");
        const statusIntervalMs = parseWhole(opts.statusInterval, "--status-interval", 86_400_000);
        if (statusIntervalMs < 100) throw new CliError("INVALID_ARGUMENT", "--status-interval must be at least 100");
        if (!(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) throw new CliError("INVALID_ARGUMENT", `--log-level "${opts.logLevel}" is not a level (${LOG_LEVELS.join(", ")})`);
        if (!(LOG_FORMATS as readonly string[]).includes(opts.logFormat)) throw new CliError("INVALID_ARGUMENT", `--log-format "${opts.logFormat}" is not a format (${LOG_FORMATS.join(", ")})`);
        const broker = opts.broker ?? (opts.dev ? "embedded" : "none");
        if (broker !== "embedded" && broker !== "none" && !/^mqtts?:\/\/[^\s]+$/.test(broker)) {
          throw new CliError("INVALID_ARGUMENT", `--broker "${broker}" is not embedded, none or an mqtt:// URL`);
        }
        // Only the default port may move when taken; a port the operator chose is one a radio is told to use.
        const brokerPort = opts.brokerPort === undefined ? DEFAULT_BROKER_PORT : parseWhole(opts.brokerPort, "--broker-port", 65535);
        const brokerPortFallback = opts.brokerPort === undefined;
        if (!brokerPortFallback && broker !== "embedded") throw new CliError("INVALID_ARGUMENT", "--broker-port is the embedded broker's port; with --broker URL the port goes in the URL");
        if (opts.checkpoint !== undefined && !/^[0-9a-f]{64}$/.test(opts.checkpoint)) throw new CliError("INVALID_ARGUMENT", "--checkpoint must be a block hash: 64 lowercase hex digits");
        if (opts.checkpoint !== undefined && broker === "none") throw new CliError("INVALID_ARGUMENT", "--checkpoint fetches the snapshot from peers: give --broker");
        const radio = radioOptions(opts, broker);
        const snapshotIntervalBlocks = parseWhole(opts.snapshotInterval, "--snapshot-interval", 1_000_000);
        if (snapshotIntervalBlocks < 1) throw new CliError("INVALID_ARGUMENT", "--snapshot-interval must be at least 1");
        if (opts.dev && (opts.genesis !== undefined || opts.key !== undefined)) throw new CliError("INVALID_ARGUMENT", "--dev makes its own genesis and key; drop --genesis and --key");
        if (!opts.dev && (opts.genesis === undefined || opts.key === undefined)) throw new CliError("INVALID_ARGUMENT", "give --genesis and --key, or --dev for a development chain");
        const apiPort = parseWhole(opts.apiPort, "--api-port", 65535);
        if (opts.api !== "none") await assertCanListen(opts.api, apiPort, "--api-port");
        if (broker === "embedded" && !brokerPortFallback) await assertCanListen("127.0.0.1", brokerPort, "--broker-port");
        const given = opts.dev ? null : { genesis: parseGenesisJson(readArgumentFile(opts.genesis as string, "--genesis")), identity: readKeyFile(opts.key as string) };
        // Every argument is checked, and the directory's lock taken, before anything is written there.
        const lock = DataDirLock.acquire(opts.dataDir);
        let setup;
        try {
          setup = given ?? ensureDevNetwork(opts.dataDir, () => systemClock.now());
        } catch (e) {
          lock.release();
          throw e;
        }
        const logger = createLogger({ level: opts.logLevel as LogLevel, format: opts.logFormat as LogFormat });
        const node = new MeshChainNode(
          {
            dataDir: opts.dataDir, genesis: setup.genesis, identity: setup.identity, slotMs, heartbeatSlots, statusIntervalMs,
            snapshotIntervalBlocks,
            // A radio on a cable needs no broker: then the node's only link is its radio.
            ...(broker === "none" ? (radio === null ? {} : { network: { broker, brokerPort, ipPeers: false, radio } }) : { network: { broker, brokerPort, brokerPortFallback, ...(radio === null ? {} : { radio }) } }),
            ...(opts.checkpoint === undefined ? {} : { checkpoint: fromHex(opts.checkpoint) }),
          },
          { clock: systemClock, logger, random: Math.random },
        );
        try {
          await node.start();
        } catch (e) {
          lock.release();
          throw e;
        }
        let api: ApiServer | null = null;
        try {
          if (opts.api !== "none") {
            // The token is made once the node holds its data directory, and kept across restarts.
            api = new ApiServer({ host: opts.api, port: apiPort, token: ensureApiToken(opts.dataDir), logger }, node);
            logger.info({ url: await api.start(), tokenFile: apiTokenPath(opts.dataDir) }, "local API listening");
          }
        } catch (e) {
          await node.stop();
          lock.release();
          throw e;
        }
        const shutdown = (signal: string) => {
          logger.info({ signal }, "shutting down");
          const force = setTimeout(() => process.exit(1), 5_000);
          void (api?.stop() ?? Promise.resolve()).then(() => node.stop()).finally(() => {
            lock.release();
            clearTimeout(force);
            process.exit(0);
          });
        };
        process.once("SIGINT", () => shutdown("SIGINT"));
        process.once("SIGTERM", () => shutdown("SIGTERM"));
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
