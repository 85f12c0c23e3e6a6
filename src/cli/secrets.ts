import { readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { ConfigError } from "./config/load.js";
import { CliError } from "./errors.js";

/**
 * A secret from a file (one line; the trailing newline is not part of it). A file that everyone may
 * read is refused: a secret there is no secret. Group-readable is allowed for `root:meshchain 0640`.
 */
export function readSecretFile(path: string, what: string): string {
  try {
    const st = statSync(path);
    if ((st.mode & 0o004) !== 0) throw new ConfigError("SECRET_UNREADABLE", `${what} file ${path} is readable by everyone (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    const text = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    if (text.length === 0) throw new ConfigError("SECRET_UNREADABLE", `${what} file ${path} is empty`);
    return text;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError("SECRET_UNREADABLE", `cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

/** A secret from its file if one is named, else from the environment; undefined when neither gives one. */
export function secretFrom(file: string | undefined, envName: string, env: NodeJS.ProcessEnv, what: string): string | undefined {
  if (file !== undefined) return readSecretFile(file, what);
  const value = env[envName];
  return value === undefined || value === "" ? undefined : value;
}

/** Ask on the terminal without echoing; refused when there is no terminal to ask on. */
export async function promptHidden(question: string): Promise<string> {
  if (process.stdin.isTTY !== true) throw new CliError("INVALID_ARGUMENT", `${question.replace(/:\s*$/, "")} needed, and there is no terminal to ask on`);
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}

export interface PassphraseSource {
  /** --passphrase-file or key_passphrase_file */
  readonly file?: string;
  /** The environment variable that may hold it. */
  readonly envName: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A passphrase: its file, else its environment variable, else asked for (twice when it is a new one). */
export async function obtainPassphrase(source: PassphraseSource, purpose: { label: string; confirm: boolean }): Promise<string> {
  const given = secretFrom(source.file, source.envName, source.env, `${purpose.label}`);
  if (given !== undefined) return given;
  if (process.stdin.isTTY !== true) {
    throw new CliError("INVALID_ARGUMENT", `the ${purpose.label} is needed and there is no terminal to ask on: put it in a file (mode 0600) named by --passphrase-file or key_passphrase_file, or set ${source.envName}`);
  }
  const first = await promptHidden(`${purpose.label}: `);
  if (first.length === 0) throw new CliError("INVALID_ARGUMENT", `the ${purpose.label} must not be empty`);
  if (purpose.confirm && (await promptHidden(`${purpose.label} again: `)) !== first) throw new CliError("INVALID_ARGUMENT", "the two passphrases differ");
  return first;
}
