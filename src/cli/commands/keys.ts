import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fromHex, toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import { type Identity, identityFromSeed } from "../../core/crypto/identity.js";
import type { ScryptParams } from "../../storage/key-encryption.js";
import { generateIdentity, inspectKeyFile, readKeyFile, writeKeyFile } from "../../storage/keystore.js";
import { SECRET_ENV } from "../config/schema.js";
import { CliError } from "../errors.js";
import { unlockKeyFile, validatorCard } from "../node-key.js";
import { print } from "../output.js";
import { parseChainId } from "../parse.js";
import { obtainPassphrase } from "../secrets.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

const publicParts = (id: Identity, file: string, encrypted: boolean) => ({
  file,
  encrypted,
  address: formatAddress(id.address),
  publicKey: toHex(id.ed25519.publicKey),
  blsPublicKey: toHex(id.bls.publicKey),
});

/** The passphrase a new or re-sealed key gets: --passphrase-file, MESHCHAIN_KEY_PASSPHRASE (or the given variable), or asked twice. */
export function newPassphrase(file: string | undefined, envName: string = SECRET_ENV.keyPassphrase): Promise<string> {
  return obtainPassphrase({ ...(file === undefined ? {} : { file }), envName, env: process.env }, { label: "new key passphrase", confirm: true });
}

/**
 * `--light-kdf`: scrypt at N = 2^14 (16 MiB), the least a key file may carry, instead of 2^17 (128 MiB).
 * Sealing and every unlock cost about an eighth (0.1 s of CPU here instead of 0.9 s), and so does each
 * passphrase guess: for throwaway test and devnet keys, whose tests and scripts unlock them many
 * times, never for a key that guards stake (geth's --lightkdf; docs/decisions.md).
 */
export const LIGHT_KDF: ScryptParams = { n: 1 << 14, r: 8, p: 1 };
export const LIGHT_KDF_HELP = "seal with a light scrypt (N=2^14, an eighth of the default's cost, also for whoever guesses the passphrase): throwaway test and devnet keys only";

/** Said on stderr whenever a key is sealed light, so that a script's output does not hide it. */
export function warnLightKdf(file: string): void {
  process.stderr.write(`warning: ${file} is sealed with --light-kdf (scrypt N=2^14): a guess at its passphrase costs an eighth of the default; use it for throwaway keys only\n`);
}

/** A seed to import: 64 hex digits (what `keys export` prints) or an unencrypted key file. */
function seedFromText(text: string, source: string): Uint8Array {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return fromHex(trimmed.toLowerCase());
  try {
    const doc = JSON.parse(trimmed) as { seed?: unknown };
    if (typeof doc.seed === "string" && /^[0-9a-f]{64}$/.test(doc.seed)) return fromHex(doc.seed);
  } catch {
    // reported below
  }
  throw new CliError("INVALID_ARGUMENT", `${source} holds neither a 64-hex-digit seed (from keys export) nor an unencrypted key file`);
}

export function registerKeys(program: Command, run: Run): void {
  const keys = program.command("keys").description("create, inspect, import and export node keys");
  keys
    .command("new")
    .description("create a key file (mode 0600) holding a new random seed, encrypted under a passphrase")
    .requiredOption("--out <file>", "where to write the key file")
    .option("--passphrase-file <file>", "read the new passphrase from this file (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .option("--unencrypted", "store the seed in the clear: for development chains only (start refuses it outside --dev)", false)
    .option("--light-kdf", LIGHT_KDF_HELP, false)
    .option("--force", "overwrite an existing file", false)
    .option("--json", "machine-readable output", false)
    .action((opts: { out: string; passphraseFile?: string; unencrypted: boolean; lightKdf: boolean; force: boolean; json: boolean }) =>
      run(opts.json, async () => {
        if (opts.unencrypted && opts.lightKdf) throw new CliError("INVALID_ARGUMENT", "--light-kdf seals a key; --unencrypted does not seal it: choose one");
        const id = generateIdentity();
        const passphrase = opts.unencrypted ? undefined : await newPassphrase(opts.passphraseFile);
        writeKeyFile(opts.out, id, { overwrite: opts.force, ...(passphrase === undefined ? {} : { passphrase }), ...(opts.lightKdf ? { scrypt: LIGHT_KDF } : {}) });
        if (opts.lightKdf) warnLightKdf(opts.out);
        print(publicParts(id, opts.out, passphrase !== undefined), opts.json);
      }),
    );
  keys
    .command("show")
    .description("print the address and public keys of a key file; with --chain-id also its proof of possession (needs the passphrase)")
    .argument("<file>", "key file")
    .option("--chain-id <id>", "print the BLS proof of possession for this chain (what genesis add-validator needs)")
    .option("--passphrase-file <file>", "the key's passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { chainId?: string; passphraseFile?: string; json: boolean }) =>
      run(opts.json, async () => {
        if (opts.chainId === undefined) {
          print({ file, ...inspectKeyFile(file) }, opts.json);
          return;
        }
        const chainId = parseChainId(opts.chainId);
        const id = await unlockKeyFile(file, { ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }), env: process.env, allowUnencrypted: true });
        print({ file, ...validatorCard(id, chainId) }, opts.json);
      }),
    );
  keys
    .command("import")
    .description("encrypt an existing seed (from keys export, or an unencrypted key file) into a new key file")
    .requiredOption("--out <file>", "where to write the encrypted key file")
    .option("--from <file>", "the seed or the unencrypted key file (default: standard input)")
    .option("--passphrase-file <file>", "read the new passphrase from this file (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .option("--json", "machine-readable output", false)
    .action((opts: { out: string; from?: string; passphraseFile?: string; json: boolean }) =>
      run(opts.json, async () => {
        let text: string;
        try {
          text = readFileSync(opts.from ?? 0, "utf8");
        } catch (e) {
          throw new CliError("INVALID_ARGUMENT", `--from: cannot read ${opts.from ?? "standard input"}: ${(e as Error).message}`);
        }
        const id = identityFromSeed(seedFromText(text, opts.from ?? "standard input"));
        const passphrase = await newPassphrase(opts.passphraseFile);
        writeKeyFile(opts.out, id, { passphrase });
        print(publicParts(id, opts.out, true), opts.json);
      }),
    );
  keys
    .command("export")
    .description("print a key's seed in the clear (anyone holding it can sign as this node)")
    .argument("<file>", "key file")
    .option("--passphrase-file <file>", "the key's passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .action((file: string, opts: { passphraseFile?: string }) =>
      run(false, async () => {
        const id = await unlockKeyFile(file, { ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }), env: process.env, allowUnencrypted: true });
        process.stderr.write("WARNING: this seed is the whole key. Anyone who sees it can spend this account and sign as this validator.\n" +
          "Write it on paper or into an encrypted store; never paste it into a chat, a ticket or a shell history. Restore with: meshchain keys import --out FILE\n");
        process.stdout.write(`${toHex(id.seed)}\n`);
      }),
    );
  keys
    .command("change-passphrase")
    .description("re-encrypt a key file under a new passphrase (an unencrypted file gets encrypted)")
    .argument("<file>", "key file")
    .option("--passphrase-file <file>", "the current passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .option("--new-passphrase-file <file>", `the new passphrase (else ${SECRET_ENV.newKeyPassphrase}, else a prompt)`)
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { passphraseFile?: string; newPassphraseFile?: string; json: boolean }) =>
      run(opts.json, async () => {
        const id = await unlockKeyFile(file, { ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }), env: process.env, allowUnencrypted: true });
        const passphrase = await newPassphrase(opts.newPassphraseFile, SECRET_ENV.newKeyPassphrase);
        writeKeyFile(file, id, { overwrite: true, passphrase });
        // Read it back before reporting success: the old file is gone.
        readKeyFile(file, { passphrase });
        print(publicParts(id, file, true), opts.json);
      }),
    );
}
