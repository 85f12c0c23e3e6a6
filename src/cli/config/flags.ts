import type { Command } from "commander";
import { CONFIG_LEAVES, leafByPath } from "./schema.js";

/**
 * `meshchain start`'s flags, each naming one setting of the schema. Flags carry no defaults of their
 * own (the schema's apply), so that a flag left out never hides the file or the environment.
 */
export const START_FLAGS: readonly { readonly flag: string; readonly path: string; readonly arg?: string }[] = [
  { flag: "--data-dir", path: "data_dir", arg: "<dir>" },
  { flag: "--dev", path: "dev" },
  { flag: "--genesis", path: "genesis", arg: "<file>" },
  { flag: "--key", path: "key", arg: "<file>" },
  { flag: "--key-passphrase-file", path: "key_passphrase_file", arg: "<file>" },
  { flag: "--checkpoint", path: "checkpoint", arg: "<hash>" },
  { flag: "--slot-ms", path: "node.slot_ms", arg: "<ms>" },
  { flag: "--heartbeat-slots", path: "node.heartbeat_slots", arg: "<n>" },
  { flag: "--status-interval", path: "node.status_interval_ms", arg: "<ms>" },
  { flag: "--snapshot-interval", path: "node.snapshot_interval_blocks", arg: "<blocks>" },
  { flag: "--prune", path: "node.prune" },
  { flag: "--prune-keep", path: "node.prune_keep_blocks", arg: "<blocks>" },
  { flag: "--log-level", path: "log.level", arg: "<level>" },
  { flag: "--log-format", path: "log.format", arg: "<format>" },
  { flag: "--broker", path: "broker.url", arg: "<broker>" },
  { flag: "--broker-user", path: "broker.username", arg: "<name>" },
  { flag: "--broker-password-file", path: "broker.password_file", arg: "<file>" },
  { flag: "--broker-host", path: "broker.listen_host", arg: "<address>" },
  { flag: "--broker-port", path: "broker.listen_port", arg: "<port>" },
  { flag: "--api", path: "api.host", arg: "<host>" },
  { flag: "--api-port", path: "api.port", arg: "<port>" },
  { flag: "--radio", path: "radio.broker", arg: "<broker>" },
  { flag: "--radio-user", path: "radio.username", arg: "<name>" },
  { flag: "--radio-password-file", path: "radio.password_file", arg: "<file>" },
  { flag: "--region", path: "radio.region", arg: "<region>" },
  { flag: "--preset", path: "radio.preset", arg: "<name>" },
  { flag: "--channel", path: "radio.channel", arg: "<name>" },
  { flag: "--psk-file", path: "radio.psk_file", arg: "<file>" },
  { flag: "--hop-limit", path: "radio.hop_limit", arg: "<n>" },
  { flag: "--airtime-budget", path: "radio.airtime_budget_s", arg: "<seconds>" },
];

const attributeOf = (flag: string): string => flag.replace(/^--/, "").replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Add the setting flags to a command, described from the schema. */
export function addSettingFlags(command: Command): Command {
  for (const { flag, path, arg } of START_FLAGS) {
    const leaf = leafByPath(path);
    if (leaf === undefined) throw new Error(`${flag} names no setting ${path}`);
    const shown = leaf.defaultValue === undefined ? "" : ` (default: ${String(leaf.defaultValue)})`;
    const choices = leaf.choices === undefined ? "" : ` [${leaf.choices.join(", ")}]`;
    command.option(arg === undefined ? flag : `${flag} ${arg}`, `${leaf.description}${choices}${shown}; setting ${path}`);
  }
  return command;
}

/** The flags a user gave, by setting path, for `loadConfig`. */
export function givenSettingFlags(opts: Record<string, unknown>): Record<string, { flag: string; value: string | boolean }> {
  const out: Record<string, { flag: string; value: string | boolean }> = {};
  for (const { flag, path } of START_FLAGS) {
    const value = opts[attributeOf(flag)];
    if (typeof value === "string" || typeof value === "boolean") out[path] = { flag, value };
  }
  return out;
}

/** Settings with no flag: set them in the file or the environment. */
export const settingsWithoutFlag = (): string[] => CONFIG_LEAVES.map((l) => l.path).filter((p) => !START_FLAGS.some((f) => f.path === p));
