import { readFileSync } from "node:fs";
import { fromHex } from "../../core/bytes.js";
import type { Identity } from "../../core/crypto/identity.js";
import { type Genesis, parseGenesisJson } from "../../core/genesis.js";
import { channelKey } from "../../mesh/meshtastic/channel.js";
import { PRIVATE_APP_PORT } from "../../mesh/meshtastic/envelope.js";
import { ensureDevNetwork } from "../../node/dev-network.js";
import type { NodeOptions } from "../../node/node.js";
import { isStreamRadio, type RadioOptions } from "../../node/radio.js";
import { parseStreamRadioArg } from "../radio-flags.js";
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
  readonly logFormat: MeshChainConfig["log"]["format"];
  /** The embedded broker's port, when the operator chose it (it must then be free: a radio or a peer is told to use it). */
  readonly chosenBrokerPort: { readonly host: string; readonly port: number } | null;
}

/** What the gateway path assumes when the operator says nothing (it cannot ask the radio). */
const GATEWAY_DEFAULT_REGION = "EU_868";
const GATEWAY_DEFAULT_PRESET = "LONG_FAST";

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
  const stream = isStreamRadio(r.broker);
  if (stream) parseStreamRadioArg(r.broker, "radio.broker");
  const psk = secretFrom(r.psk_file, SECRET_ENV.radioPsk, env, "radio channel key") ?? "AQ==";
  let channel;
  try {
    channel = channelKey(r.channel, parsePskArg(psk));
  } catch (e) {
    throw new ConfigError("CONFIG_INVALID", `radio.channel / radio key: ${(e as Error).message}`);
  }
  const auth = stream ? undefined : login("radio", r.username, r.password_file, SECRET_ENV.radioPassword, env);
  // Over the stream API, what is not given is read from the radio; behind a gateway it cannot be.
  const region = r.region ?? (stream ? null : GATEWAY_DEFAULT_REGION);
  const preset = r.preset ?? (stream ? null : GATEWAY_DEFAULT_PRESET);
  return {
    broker: r.broker, region, preset, channel, portnum: PRIVATE_APP_PORT, hopLimit: r.hop_limit, budgetSecondsPerHour: r.airtime_budget_s,
    ...(auth === undefined ? {} : { auth }),
  };
}

/** The rules between settings, which the schema checks one by one; no file is read. `given`: set by the operator, not by default. */
export function checkCombinations(c: MeshChainConfig, given: (path: string) => boolean = () => false): void {
  const broker = c.broker.url ?? (c.dev ? "embedded" : "none");
  if (c.checkpoint !== undefined && broker === "none") throw new ConfigError("CONFIG_INVALID", "checkpoint fetches the snapshot from peers: set broker.url");
  if (c.node.prune && c.dev) throw new ConfigError("CONFIG_INVALID", "prune is for a follower; a dev chain's node is its validator and serves every block");
  if (given("node.prune_keep_blocks") && !c.node.prune) throw new ConfigError("CONFIG_INVALID", "node.prune_keep_blocks (--prune-keep) applies with prune: add --prune");
  if (c.dev && (c.genesis !== undefined || c.key !== undefined)) throw new ConfigError("CONFIG_INVALID", "dev makes its own genesis and key; drop genesis and key");
  if (!c.dev && (c.genesis === undefined || c.key === undefined)) throw new ConfigError("CONFIG_INVALID", "give genesis and key (or --genesis and --key, or a --config file), or dev for a development chain");
  if (given("broker.listen_port") && broker !== "embedded") throw new ConfigError("CONFIG_INVALID", "broker.listen_port (--broker-port) is the embedded broker's port; with a broker URL the port goes in the URL");
  const gateway = c.radio.broker !== "none" && !isStreamRadio(c.radio.broker);
  if (gateway && broker === "none") throw new ConfigError("CONFIG_INVALID", "radio.broker through an MQTT gateway needs the IP side too: set broker.url (or connect the radio by USB: radio.broker = serial://auto)");
  if (c.radio.broker === "embedded" && broker !== "embedded") throw new ConfigError("CONFIG_INVALID", "radio.broker = embedded needs broker.url = embedded");
}

/** Everything `start` needs from a checked configuration, checked further (secrets read), before anything touches the data directory. */
export function planStart(c: MeshChainConfig, env: NodeJS.ProcessEnv, given: (path: string) => boolean = () => false): StartPlan {
  checkCombinations(c, given);
  const broker = c.broker.url ?? (c.dev ? "embedded" : "none");
  const radio = radioOptions(c, env);
  const brokerAuth = login("broker", c.broker.username, c.broker.password_file, SECRET_ENV.brokerPassword, env);
  // Only the default port may move when taken; a port the operator chose is one a radio is told to use.
  const brokerPortFallback = !given("broker.listen_port");
  const ip = { broker, brokerPort: c.broker.listen_port, brokerPortFallback, brokerHost: c.broker.listen_host, ...(brokerAuth === undefined ? {} : { brokerAuth }) };
  return {
    node: {
      dataDir: c.data_dir,
      ...(c.node.slot_ms === undefined ? {} : { slotMs: c.node.slot_ms }),
      heartbeatSlots: c.node.heartbeat_slots ?? (c.dev ? 1 : 60),
      statusIntervalMs: c.node.status_interval_ms,
      snapshotIntervalBlocks: c.node.snapshot_interval_blocks,
      ...(c.node.prune ? { pruneKeepBlocks: c.node.prune_keep_blocks } : {}),
      // A radio on a cable needs no broker: then the node's only link is its radio.
      ...(broker === "none"
        ? (radio === null ? {} : { network: { ...ip, ipPeers: false, radio } })
        : { network: { ...ip, ...(radio === null ? {} : { radio }) } }),
      ...(c.checkpoint === undefined ? {} : { checkpoint: fromHex(c.checkpoint) }),
    },
    api: c.api.host === "none" ? null : { host: c.api.host, port: c.api.port },
    logLevel: c.log.level,
    logFormat: c.log.format,
    chosenBrokerPort: broker === "embedded" && !brokerPortFallback ? { host: c.broker.listen_host, port: c.broker.listen_port } : null,
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
