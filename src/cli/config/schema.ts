import { z } from "zod";
import { PRESET_NAMES, type PresetName } from "../../mesh/airtime/presets.js";
import { KNOWN_REGIONS } from "../../mesh/airtime/regions.js";
import { LOG_FORMATS, LOG_LEVELS } from "../../node/logger.js";

/**
 * The one description of `meshchain start`'s settings: the TOML file, the `MESHCHAIN_*` environment
 * variables and the flags are all read through it, and docs/configuration.md's table is generated
 * from it (`renderConfigTable`). Secrets are not settings: they come from the files named here or
 * from the environment (SECRET_ENV), never from a flag.
 */
const brokerUrl = z.string().regex(/^(embedded|none|mqtts?:\/\/\S+)$/, "embedded, none or an mqtt:// or mqtts:// URL");
const radioAddress = z.string().regex(/^(embedded|none|mqtts?:\/\/\S+|serial:\/\/\S+|tcp:\/\/\S+)$/, "serial://…, tcp://…, embedded, none or an mqtt:// or mqtts:// URL");
const path = z.string().min(1);
const port = z.int().min(0).max(65_535);

export const configSchema = z.strictObject({
  data_dir: path.default("./data/dev").describe("where the chain database lives (created with mode 0700)"),
  dev: z.boolean().default(false).describe("create (or reuse) a single-validator development chain in the data directory; allows an unencrypted key"),
  genesis: path.optional().describe("genesis file (not with dev)"),
  key: path.optional().describe("node key file (not with dev)"),
  key_passphrase_file: path.optional().describe("file holding the key's passphrase (for a service); else MESHCHAIN_KEY_PASSPHRASE, else a prompt"),
  checkpoint: z.string().regex(/^[0-9a-f]{64}$/, "a block hash: 64 lowercase hex digits").optional().describe("start an empty data directory from the finalized state at this block hash, fetched from peers"),
  node: z.strictObject({
    slot_ms: z.int().min(100).max(3_600_000).optional().describe("slot length of a lone validator, milliseconds (default: the genesis slotMs, which a chain with several validators always uses; a faster lone validator makes a joining validator wait until the chain's clock passes its last slot; `meshchain status` always shows the chain's slot, at the genesis `slotMs`)"),
    heartbeat_slots: z.int().min(1).max(1_000_000).optional().describe("slots after which a lone validator makes a block with nothing to include (default: 1 with dev, 60 otherwise)"),
    status_interval_ms: z.int().min(100).max(86_400_000).default(10_000).describe("milliseconds between status lines (and signed status announcements over IP; on a radio they follow the preset's control rate)"),
    snapshot_interval_blocks: z.int().min(1).max(1_000_000).default(1_000).describe("keep a state snapshot for peers' checkpoint sync every this many blocks"),
    prune: z.boolean().default(false).describe("a follower keeps whole blocks only near finality and headers with their certificates below (finality proofs keep working; peers asking for pruned blocks are told so); not for a validator or dev"),
    prune_keep_blocks: z.int().min(1).max(100_000_000).default(10_000).describe("with prune: how many blocks below finality keep their bodies"),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS).default("info").describe("least severe log level written"),
    format: z.enum(LOG_FORMATS).default("auto").describe("pretty (one line per event), json (for journald and scripts), or auto: pretty on a terminal, json otherwise"),
  }).prefault({}),
  broker: z.strictObject({
    url: brokerUrl.optional().describe("embedded (a broker in this process), an mqtt:// or mqtts:// URL, or none (default: embedded with dev, none otherwise)"),
    username: z.string().min(1).optional().describe("user name at that broker, or the one the embedded broker requires"),
    password_file: path.optional().describe("file holding that user's password; else MESHCHAIN_BROKER_PASSWORD"),
    listen_host: z.string().min(1).default("127.0.0.1").describe("address the embedded broker listens on (0.0.0.0 for a radio or other nodes)"),
    listen_port: port.default(1_883).describe("port of the embedded broker (left unset, a taken 1883 moves to a free port with a warning; a port given must be free)"),
  }).prefault({}),
  api: z.strictObject({
    host: z.string().min(1).default("127.0.0.1").describe("address the local API listens on, or none"),
    port: port.default(8_645).describe("port of the local API (0: any free port)"),
  }).prefault({}),
  radio: z.strictObject({
    broker: radioAddress.default("none").describe("the Meshtastic radio: serial:///dev/ttyACM0 or serial://auto (USB cable), tcp://host:4403 (network radio, meshtasticd), or the broker its MQTT gateway uses: embedded (this node's) or an mqtt:// URL; none for no radio"),
    username: z.string().min(1).optional().describe("user name at the radio's broker"),
    password_file: path.optional().describe("file holding that user's password; else MESHCHAIN_RADIO_PASSWORD"),
    region: z.enum(KNOWN_REGIONS).optional().describe("the radio's LoRa region (its duty cycle; its topic behind a gateway); default: the radio's own over serial/tcp, EU_868 behind a gateway"),
    preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]).optional().describe("the radio's modem preset; default: the radio's own over serial/tcp, LONG_FAST behind a gateway"),
    channel: z.string().regex(/^[^/#+]{1,11}$/, "1 to 11 characters without / # +").default("MeshChain").describe("the Meshtastic channel MeshChain uses"),
    psk_file: path.optional().describe("file holding that channel's key (base64); else MESHCHAIN_RADIO_PSK, else AQ== (Meshtastic's default key)"),
    hop_limit: z.int().min(0).max(7).default(3).describe("hops the radios flood our packets"),
    airtime_budget_s: z.int().min(1).max(3_600).default(180).describe("radio airtime this node allows itself per hour, seconds (the region's duty cycle caps it too)"),
  }).prefault({}),
});

export type MeshChainConfig = z.output<typeof configSchema>;

/** Settings that name files: relative ones in a config file are relative to that file's directory. */
export const PATH_SETTINGS: readonly string[] = ["data_dir", "genesis", "key", "key_passphrase_file", "broker.password_file", "radio.password_file", "radio.psk_file"];

/** Secrets read from the environment when their `*_file` setting is absent; shown redacted. */
export const SECRET_ENV = {
  keyPassphrase: "MESHCHAIN_KEY_PASSPHRASE",
  newKeyPassphrase: "MESHCHAIN_NEW_KEY_PASSPHRASE",
  brokerPassword: "MESHCHAIN_BROKER_PASSWORD",
  radioPassword: "MESHCHAIN_RADIO_PASSWORD",
  radioPsk: "MESHCHAIN_RADIO_PSK",
} as const;

/** One setting as the file, the environment and the docs see it. */
export interface ConfigLeaf {
  readonly path: string;
  readonly type: "integer" | "boolean" | "string";
  readonly description: string;
  readonly defaultValue?: unknown;
  readonly choices?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly env: string;
}

interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
}

export const envNameOf = (path: string): string => `MESHCHAIN_${path.replace(/\./g, "_").toUpperCase()}`;

function collect(node: JsonSchemaNode, prefix: string, out: ConfigLeaf[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    if (child.type === "object") {
      collect(child, path, out);
      continue;
    }
    const type = child.type === "integer" || child.type === "boolean" ? child.type : "string";
    out.push({
      path, type, description: child.description ?? "", env: envNameOf(path),
      ...(child.default === undefined ? {} : { defaultValue: child.default }),
      ...(child.enum === undefined ? {} : { choices: child.enum }),
      ...(child.minimum === undefined ? {} : { minimum: child.minimum }),
      ...(child.maximum === undefined ? {} : { maximum: child.maximum }),
    });
  }
}

/** Every setting, in schema order, read off the schema itself. */
export const CONFIG_LEAVES: readonly ConfigLeaf[] = (() => {
  const out: ConfigLeaf[] = [];
  collect(z.toJSONSchema(configSchema, { io: "input" }) as JsonSchemaNode, "", out);
  return out;
})();

export const leafByPath = (path: string): ConfigLeaf | undefined => CONFIG_LEAVES.find((l) => l.path === path);
