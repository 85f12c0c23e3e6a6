import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fromHex } from "../../core/bytes.js";
import { parseGenesisJson } from "../../core/genesis.js";
import { readKeyFile } from "../../storage/keystore.js";
import { systemClock } from "../../node/clock.js";
import { ensureDevNetwork } from "../../node/dev-network.js";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../../node/logger.js";
import { MeshChainNode } from "../../node/node.js";
import { ApiServer } from "../../api/server.js";
import { CliError } from "../errors.js";
import { parsePskArg, parseWhole } from "../parse.js";
import { PRESET_NAMES, presetByName } from "../../mesh/airtime/presets.js";
import { KNOWN_REGIONS } from "../../mesh/airtime/regions.js";
import { channelKey } from "../../mesh/meshtastic/channel.js";
import { PRIVATE_APP_PORT } from "../../mesh/meshtastic/envelope.js";
import type { RadioOptions } from "../../node/radio.js";

function readArgumentFile(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `${option}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The radio flags, checked; null when the node runs without a radio. */
function radioOptions(opts: StartOptions, broker: string): Omit<RadioOptions, "packetIds"> | null {
  if (opts.radio === "none") return null;
  if (broker === "none") throw new CliError("INVALID_ARGUMENT", "--radio needs the IP side too: give --broker");
  if (opts.radio !== "embedded" && !/^mqtts?:\/\/[^\s]+$/.test(opts.radio)) throw new CliError("INVALID_ARGUMENT", `--radio "${opts.radio}" is not embedded, none or an mqtt:// URL`);
  if (opts.radio === "embedded" && broker !== "embedded") throw new CliError("INVALID_ARGUMENT", "--radio embedded needs --broker embedded");
  if (!(KNOWN_REGIONS as readonly string[]).includes(opts.region)) throw new CliError("INVALID_ARGUMENT", `--region "${opts.region}" is not a Meshtastic region (${KNOWN_REGIONS.join(", ")})`);
  const preset = presetByName(opts.preset);
  if (preset === null) throw new CliError("INVALID_ARGUMENT", `--preset "${opts.preset}" is unknown (${PRESET_NAMES.join(", ")})`);
  const hopLimit = parseWhole(opts.hopLimit, "--hop-limit", 7);
  const budgetSecondsPerHour = parseWhole(opts.airtimeBudget, "--airtime-budget", 3_600);
  if (budgetSecondsPerHour < 1) throw new CliError("INVALID_ARGUMENT", "--airtime-budget must be at least 1 second per hour");
  let channel;
  try {
    channel = channelKey(opts.channel, parsePskArg(opts.psk));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError("INVALID_ARGUMENT", `--channel: ${(e as Error).message}`);
  }
  return { broker: opts.radio, region: opts.region, preset, channel, portnum: PRIVATE_APP_PORT, hopLimit, budgetSecondsPerHour };
}

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
  brokerPort: string;
  api: string;
  apiPort: string;
  checkpoint?: string;
  snapshotInterval: string;
  radio: string;
  region: string;
  preset: string;
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
    .option("--broker-port <port>", "port of the embedded broker", "1883")
    .option("--api <host>", "address the local API listens on, or none", "127.0.0.1")
    .option("--api-port <port>", "port of the local API (0: any free port)", "8645")
    .option("--checkpoint <hash>", "start a new data directory from the finalized state at this block hash, fetched from peers (see `meshchain status`)")
    .option("--snapshot-interval <blocks>", "keep a state snapshot for peers' checkpoint sync every this many blocks", "1000")
    .option("--radio <broker>", "the broker the Meshtastic radio's MQTT gateway uses: embedded (this node's), an mqtt:// URL, or none", "none")
    .option("--region <region>", "the radio's LoRa region (its topic, and its duty cycle)", "EU_868")
    .option("--preset <name>", `the radio's modem preset (${PRESET_NAMES.join(", ")})`, "LONG_FAST")
    .option("--channel <name>", "the Meshtastic channel MeshChain uses", "MeshChain")
    .option("--psk <base64>", "that channel's key (AQ== is Meshtastic's default key)", "AQ==")
    .option("--hop-limit <n>", "hops the radios flood our packets (0-7)", "3")
    .option("--airtime-budget <seconds>", "radio airtime this node allows itself per hour (the region's duty cycle caps it too)", "180")
    .action((opts: StartOptions) =>
      run(false, async () => {
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
        const brokerPort = parseWhole(opts.brokerPort, "--broker-port", 65535);
        if (opts.checkpoint !== undefined && !/^[0-9a-f]{64}$/.test(opts.checkpoint)) throw new CliError("INVALID_ARGUMENT", "--checkpoint must be a block hash: 64 lowercase hex digits");
        if (opts.checkpoint !== undefined && broker === "none") throw new CliError("INVALID_ARGUMENT", "--checkpoint fetches the snapshot from peers: give --broker");
        const radio = radioOptions(opts, broker);
        const snapshotIntervalBlocks = parseWhole(opts.snapshotInterval, "--snapshot-interval", 1_000_000);
        if (snapshotIntervalBlocks < 1) throw new CliError("INVALID_ARGUMENT", "--snapshot-interval must be at least 1");
        // Every argument is checked before anything touches the data directory.
        let setup;
        if (opts.dev) {
          if (opts.genesis !== undefined || opts.key !== undefined) throw new CliError("INVALID_ARGUMENT", "--dev makes its own genesis and key; drop --genesis and --key");
          setup = ensureDevNetwork(opts.dataDir, () => systemClock.now());
        } else {
          if (opts.genesis === undefined || opts.key === undefined) throw new CliError("INVALID_ARGUMENT", "give --genesis and --key, or --dev for a development chain");
          setup = { genesis: parseGenesisJson(readArgumentFile(opts.genesis, "--genesis")), identity: readKeyFile(opts.key) };
        }
        const logger = createLogger({ level: opts.logLevel as LogLevel, format: opts.logFormat as LogFormat });
        const node = new MeshChainNode(
          {
            dataDir: opts.dataDir, genesis: setup.genesis, identity: setup.identity, slotMs, heartbeatSlots, statusIntervalMs,
            snapshotIntervalBlocks,
            ...(broker === "none" ? {} : { network: { broker, brokerPort, ...(radio === null ? {} : { radio }) } }),
            ...(opts.checkpoint === undefined ? {} : { checkpoint: fromHex(opts.checkpoint) }),
          },
          { clock: systemClock, logger, random: Math.random },
        );
        const apiPort = parseWhole(opts.apiPort, "--api-port", 65535);
        await node.start();
        const api = opts.api === "none" ? null : new ApiServer({ host: opts.api, port: apiPort }, node);
        try {
          if (api !== null) logger.info({ url: await api.start() }, "local API listening");
        } catch (e) {
          await node.stop();
          throw new CliError("INVALID_ARGUMENT", `--api ${opts.api}:${apiPort}: cannot listen (${(e as Error).message})`);
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
