import { readFileSync } from "node:fs";
import { fromHex } from "../../core/bytes.js";
import type { Identity } from "../../core/crypto/identity.js";
import { type Genesis, parseGenesisJson } from "../../core/genesis.js";
import { channelKey } from "../../mesh/meshtastic/channel.js";
import { PRIVATE_APP_PORT } from "../../mesh/meshtastic/envelope.js";
import { ensureDevNetwork } from "../../node/dev-network.js";
import type { NodeOptions } from "../../node/node.js";
import type { RadioOptions } from "../../node/radio.js";
import { CliError } from "../errors.js";
import { unlockKeyFile } from "../node-key.js";
import { parsePskArg } from "../parse.js";
import { secretFrom } from "../secrets.js";
import { ConfigError } from "./load.js";
import { type MeshChainConfig, SECRET_ENV } from "./schema.js";

export interface StartPlan {
  readonly node: Omit<NodeOptions, "genesis" | "identity">;
  readonly api: { readonly host: string; readonly port: number } | null;
  readonly logLevel: MeshChainConfig["log"]["level"];
}

type Login = { readonly username: string; readonly password: string } | undefined;

function login(section: string, username: string | undefined, passwordFile: string | undefined, envName: string, env: NodeJS.ProcessEnv): Login {
  const password = secretFrom(passwordFile, envName, env, `${section} password`);
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined) throw new ConfigError("CONFIG_INVALID", `${section}: a password is set (${passwordFile === undefined ? envName : `${section}.password_file`}) but ${section}.username is not`);
  if (password === undefined) throw new ConfigError("CONFIG_INVALID", `${section}.username is set but no password: give ${section}.password_file or ${envName}`);
  return { username, password };
}

function radioOptions(c: MeshChainConfig, env: NodeJS.ProcessEnv): Omit<RadioOptions, "packetIds"> | null {
  const r = c.radio;
  if (r.broker === "none") return null;
  const psk = secretFrom(r.psk_file, SECRET_ENV.radioPsk, env, "radio channel key") ?? "AQ==";
  let channel;
  try {
    channel = channelKey(r.channel, parsePskArg(psk));
  } catch (e) {
    throw new ConfigError("CONFIG_INVALID", `radio.channel / radio key: ${(e as Error).message}`);
  }
  const auth = login("radio", r.username, r.password_file, SECRET_ENV.radioPassword, env);
  return {
    broker: r.broker, region: r.region, preset: r.preset, channel, portnum: PRIVATE_APP_PORT, hopLimit: r.hop_limit, budgetSecondsPerHour: r.airtime_budget_s,
    ...(auth === undefined ? {} : { auth }),
  };
}

/** The rules between settings, which the schema checks one by one; no file is read. */
export function checkCombinations(c: MeshChainConfig): void {
  const broker = c.broker.url ?? (c.dev ? "embedded" : "none");
  if (c.checkpoint !== undefined && broker === "none") throw new ConfigError("CONFIG_INVALID", "checkpoint fetches the snapshot from peers: set broker.url");
  if (c.dev && (c.genesis !== undefined || c.key !== undefined)) throw new ConfigError("CONFIG_INVALID", "dev makes its own genesis and key; drop genesis and key");
  if (!c.dev && (c.genesis === undefined || c.key === undefined)) throw new ConfigError("CONFIG_INVALID", "give genesis and key (or --genesis and --key, or a --config file), or dev for a development chain");
  if (c.radio.broker !== "none" && broker === "none") throw new ConfigError("CONFIG_INVALID", "radio.broker needs the IP side too: set broker.url");
  if (c.radio.broker === "embedded" && broker !== "embedded") throw new ConfigError("CONFIG_INVALID", "radio.broker = embedded needs broker.url = embedded");
}

/** Everything `start` needs from a checked configuration, checked further (secrets read), before anything touches the data directory. */
export function planStart(c: MeshChainConfig, env: NodeJS.ProcessEnv): StartPlan {
  checkCombinations(c);
  const broker = c.broker.url ?? (c.dev ? "embedded" : "none");
  const radio = radioOptions(c, env);
  const brokerAuth = login("broker", c.broker.username, c.broker.password_file, SECRET_ENV.brokerPassword, env);
  return {
    node: {
      dataDir: c.data_dir,
      slotMs: c.node.slot_ms,
      heartbeatSlots: c.node.heartbeat_slots ?? (c.dev ? 1 : 60),
      statusIntervalMs: c.node.status_interval_ms,
      snapshotIntervalBlocks: c.node.snapshot_interval_blocks,
      ...(broker === "none"
        ? {}
        : {
            network: {
              broker, brokerPort: c.broker.listen_port, brokerHost: c.broker.listen_host,
              ...(brokerAuth === undefined ? {} : { brokerAuth }),
              ...(radio === null ? {} : { radio }),
            },
          }),
      ...(c.checkpoint === undefined ? {} : { checkpoint: fromHex(c.checkpoint) }),
    },
    api: c.api.host === "none" ? null : { host: c.api.host, port: c.api.port },
    logLevel: c.log.level,
  };
}

function readGenesisFile(path: string): Genesis {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `genesis: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseGenesisJson(text);
}

/** The chain and the node's key: made on first use for a development chain, else read (the key unlocked). */
export async function chainAndKey(c: MeshChainConfig, now: () => number, env: NodeJS.ProcessEnv): Promise<{ genesis: Genesis; identity: Identity }> {
  if (c.dev) return ensureDevNetwork(c.data_dir, now);
  if (c.genesis === undefined || c.key === undefined) throw new ConfigError("CONFIG_INVALID", "give genesis and key, or dev");
  const identity = await unlockKeyFile(c.key, { ...(c.key_passphrase_file === undefined ? {} : { passphraseFile: c.key_passphrase_file }), env, allowUnencrypted: false });
  const genesis = readGenesisFile(c.genesis);
  return { genesis, identity };
}
