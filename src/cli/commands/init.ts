import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { DEV_CHAIN_ID, ensureDevNetwork } from "../../node/dev-network.js";
import { generateIdentity, writeKeyFile } from "../../storage/keystore.js";
import { CliError } from "../errors.js";
import { publicKeys, validatorCard } from "../node-key.js";
import { print } from "../output.js";
import { parseChainId } from "../parse.js";
import { LIGHT_KDF, LIGHT_KDF_HELP, newPassphrase, warnLightKdf } from "./keys.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

export const CONFIG_FILE_NAME = "meshchain.toml";

/** The commented configuration init writes; every key is one of src/cli/config/schema.ts. */
export function initialConfig(dataDir: string, opts: { dev: boolean; passphraseFile?: string }): string {
  const lines = [
    "# MeshChain node configuration (docs/configuration.md lists every key).",
    "# Precedence: this file < MESHCHAIN_* environment variables < command-line flags.",
    "# Check it with: meshchain config check THIS_FILE",
    "",
    `data_dir = ${JSON.stringify(dataDir)}`,
  ];
  if (opts.dev) {
    lines.push("# A single-validator development chain: its key and genesis live in data_dir.", "dev = true");
  } else {
    lines.push(
      "# The chain's genesis, from the genesis ceremony (meshchain genesis finalize); compare its hash",
      "# with the other operators (meshchain genesis show FILE) before the first start.",
      `genesis = ${JSON.stringify(join(dataDir, "genesis.json"))}`,
      `key = ${JSON.stringify(join(dataDir, "node.key"))}`,
      "# The key's passphrase: this file (mode 0600 or 0640), else MESHCHAIN_KEY_PASSPHRASE, else a prompt.",
      opts.passphraseFile === undefined ? '# key_passphrase_file = "/etc/meshchain/passphrase"' : `key_passphrase_file = ${JSON.stringify(opts.passphraseFile)}`,
    );
  }
  lines.push(
    "",
    "[node]",
    "# status_interval_ms = 10000",
    "",
    "[log]",
    '# level = "info"',
    "",
    "[broker]",
    "# embedded: a broker in this process (other nodes and the radio connect to it); or the URL of",
    "# a shared one, like mqtt://validator.local:1883; or none.",
    opts.dev ? 'url = "embedded"' : '# url = "mqtt://validator.local:1883"',
    "# For the embedded broker: listen beyond this machine, and require a login.",
    '# listen_host = "0.0.0.0"',
    "# listen_port = 1883",
    '# username = "meshchain"',
    '# password_file = "/etc/meshchain/broker-password"   # or MESHCHAIN_BROKER_PASSWORD',
    "",
    "[api]",
    '# host = "127.0.0.1"',
    "# port = 8645",
    "",
    "[radio]",
    "# A Meshtastic radio through its MQTT gateway (docs/operations.md, \"The radio and its broker\").",
    '# broker = "embedded"',
    '# region = "EU_868"',
    '# preset = "LONG_FAST"',
    '# channel = "MeshChain"',
    '# psk_file = "/etc/meshchain/channel-key"   # or MESHCHAIN_RADIO_PSK; default AQ==',
    "",
  );
  return lines.join("\n");
}

/** A new data directory, or an empty one: init never overwrites. */
function prepareDataDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliError("INVALID_ARGUMENT", `${dir} is not empty; init never overwrites (choose another --data-dir)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export function registerInit(program: Command, run: Run): void {
  program
    .command("init")
    .description("create a node's data directory: an encrypted key, a commented config file, and with --dev a development chain")
    .requiredOption("--data-dir <dir>", "the directory to create (mode 0700; must not exist or be empty)")
    .option("--chain-id <id>", "the chain this node will join: init then prints the key's proof of possession for it")
    .option("--dev", "a single-validator development chain (its key unencrypted, a genesis made here)", false)
    .option("--passphrase-file <file>", "the key's passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt); recorded in the config for a service")
    .option("--light-kdf", LIGHT_KDF_HELP, false)
    .option("--json", "machine-readable output (the card genesis add-validator reads)", false)
    .action((opts: { dataDir: string; chainId?: string; dev: boolean; passphraseFile?: string; lightKdf: boolean; json: boolean }) =>
      run(opts.json, async () => {
        if (opts.dev && opts.lightKdf) throw new CliError("INVALID_ARGUMENT", "--dev keeps its key in the clear, with nothing to seal: drop --light-kdf");
        const dataDir = resolve(opts.dataDir);
        const chainId = opts.chainId === undefined ? (opts.dev ? DEV_CHAIN_ID : undefined) : parseChainId(opts.chainId);
        if (opts.dev && chainId !== DEV_CHAIN_ID) throw new CliError("INVALID_ARGUMENT", `--dev makes the chain ${DEV_CHAIN_ID}; drop --chain-id`);
        prepareDataDir(dataDir);
        const passphraseFile = opts.passphraseFile === undefined ? undefined : resolve(opts.passphraseFile);
        let identity;
        if (opts.dev) {
          identity = ensureDevNetwork(dataDir, () => Date.now()).identity;
        } else {
          const passphrase = await newPassphrase(passphraseFile);
          identity = generateIdentity();
          writeKeyFile(join(dataDir, "node.key"), identity, { passphrase, ...(opts.lightKdf ? { scrypt: LIGHT_KDF } : {}) });
          if (opts.lightKdf) warnLightKdf(join(dataDir, "node.key"));
        }
        const configPath = join(dataDir, CONFIG_FILE_NAME);
        writeFileSync(configPath, initialConfig(dataDir, { dev: opts.dev, ...(passphraseFile === undefined ? {} : { passphraseFile }) }), { flag: "wx", mode: 0o600 });
        const card = chainId === undefined ? publicKeys(identity) : validatorCard(identity, chainId);
        const next = opts.dev
          ? `meshchain start --config ${configPath}`
          : chainId === undefined
            ? `to become a validator, print your proof of possession once the chain id is agreed: meshchain keys show ${join(dataDir, "node.key")} --chain-id ID --json; put the finished genesis at ${join(dataDir, "genesis.json")}, then: meshchain start --config ${configPath}`
            : `send this card (init --json output) to whoever runs the genesis ceremony; put the genesis.json you get back at ${join(dataDir, "genesis.json")}, compare its hash (meshchain genesis show), then: meshchain start --config ${configPath}`;
        print({ dataDir, config: configPath, key: join(dataDir, "node.key"), encrypted: !opts.dev, ...card, next }, opts.json);
      }),
    );
}
