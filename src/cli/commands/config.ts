import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "smol-toml";
import { parseGenesisJson } from "../../core/genesis.js";
import { inspectKeyFile } from "../../storage/keystore.js";
import { addSettingFlags, givenSettingFlags } from "../config/flags.js";
import { ConfigError, type LoadedConfig, loadConfig } from "../config/load.js";
import { renderConfigTable, withConfigTable } from "../config/reference.js";
import { SECRET_ENV } from "../config/schema.js";
import { planStart } from "../config/start-plan.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

/** Which secrets the node would find, never their values. */
function secretsFound(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Record<string, string> {
  const c = loaded.config;
  const where = (file: string | undefined, envName: string): string =>
    file !== undefined ? `from file ${file} (value not shown)` : env[envName] !== undefined && env[envName] !== "" ? `from ${envName} (value not shown)` : "not set";
  return {
    keyPassphrase: c.dev ? "not needed (dev)" : c.key_passphrase_file !== undefined || env[SECRET_ENV.keyPassphrase] !== undefined ? where(c.key_passphrase_file, SECRET_ENV.keyPassphrase) : "not set: asked on the terminal at start",
    brokerPassword: where(c.broker.password_file, SECRET_ENV.brokerPassword),
    radioPassword: where(c.radio.password_file, SECRET_ENV.radioPassword),
    radioChannelKey: c.radio.psk_file !== undefined || env[SECRET_ENV.radioPsk] !== undefined ? where(c.radio.psk_file, SECRET_ENV.radioPsk) : "AQ== (Meshtastic's default key)",
  };
}

/** The files a configuration names, opened as start would (the key only inspected: no passphrase asked). */
function checkReferencedFiles(loaded: LoadedConfig): string[] {
  const c = loaded.config;
  const problems: string[] = [];
  if (c.genesis !== undefined) {
    try {
      parseGenesisJson(readFileSync(c.genesis, "utf8"));
    } catch (e) {
      problems.push(`genesis ${c.genesis}: ${(e as Error).message}`);
    }
  }
  if (c.key !== undefined) {
    try {
      if (!inspectKeyFile(c.key).encrypted && !c.dev) problems.push(`key ${c.key}: unencrypted; encrypt it with: meshchain keys change-passphrase ${c.key}`);
    } catch (e) {
      problems.push(`key ${c.key}: ${(e as Error).message}`);
    }
  }
  return problems;
}

export function registerConfig(program: Command, run: Run): void {
  const config = program.command("config").description("check and show the node's configuration (docs/configuration.md)");
  config
    .command("check")
    .description("check a configuration file: its keys and types, the files it names and the secrets it needs")
    .argument("<file>", "TOML configuration file")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { json: boolean }) =>
      run(opts.json, () => {
        const loaded = loadConfig({ file, env: {} });
        planStart(loaded.config, process.env);
        const problems = checkReferencedFiles(loaded);
        if (problems.length > 0) throw new ConfigError("CONFIG_INVALID", `${file} is well-formed, but`, problems);
        print({ file, ok: true, role: loaded.config.dev ? "development chain" : "as its genesis says (validator if its key is one)", dataDir: loaded.config.data_dir, secrets: secretsFound(loaded, process.env) }, opts.json);
      }),
    );
  const show = config
    .command("show")
    .description("print the effective configuration of `start` with the same --config, environment and flags (secrets redacted)")
    .option("--config <file>", "a TOML configuration file")
    .option("--json", "machine-readable output", false);
  addSettingFlags(show).action((opts: Record<string, unknown>) =>
    run(opts.json === true, () => {
      const loaded = loadConfig({ ...(typeof opts.config === "string" ? { file: opts.config } : {}), env: process.env, flags: givenSettingFlags(opts) });
      const sources = Object.fromEntries(loaded.sources);
      if (opts.json === true) {
        print({ config: loaded.config, sources, secrets: secretsFound(loaded, process.env) }, true);
        return;
      }
      const origin = [...loaded.sources].map(([path, source]) => `#   ${path}: ${source}`).join("\n");
      const secrets = Object.entries(secretsFound(loaded, process.env)).map(([k, v]) => `#   ${k}: ${v}`).join("\n");
      process.stdout.write(`# effective configuration (everything not listed below is a default)\n${origin}\n# secrets:\n${secrets}\n\n${stringify(loaded.config)}\n`);
    }),
  );
  config
    .command("reference")
    .description("print the settings table of docs/configuration.md, generated from the schema")
    .option("--update <file>", "replace the table between the markers in this Markdown file")
    .action((opts: { update?: string }) =>
      run(false, () => {
        if (opts.update === undefined) {
          process.stdout.write(`${renderConfigTable()}\n`);
          return;
        }
        const next = withConfigTable(readFileSync(opts.update, "utf8"));
        if (next === null) throw new CliError("INVALID_ARGUMENT", `${opts.update} has no config-table markers`);
        writeFileSync(opts.update, next);
      }),
    );
}
