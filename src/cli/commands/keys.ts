import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import type { Identity } from "../../core/crypto/identity.js";
import { generateIdentity, readKeyFile, writeKeyFile } from "../../storage/keystore.js";
import { print } from "../output.js";

const publicParts = (id: Identity, file: string) => ({
  file,
  address: formatAddress(id.address),
  publicKey: toHex(id.ed25519.publicKey),
  blsPublicKey: toHex(id.bls.publicKey),
});

export function registerKeys(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  const keys = program.command("keys").description("create and inspect node keys");
  keys
    .command("new")
    .description("create a key file (mode 0600) holding a new random seed")
    .requiredOption("--out <file>", "where to write the key file")
    .option("--force", "overwrite an existing file", false)
    .option("--json", "machine-readable output", false)
    .action((opts: { out: string; force: boolean; json: boolean }) =>
      run(opts.json, () => {
        const id = generateIdentity();
        writeKeyFile(opts.out, id, { overwrite: opts.force });
        print(publicParts(id, opts.out), opts.json);
      }),
    );
  keys
    .command("show")
    .description("print the address and public keys of a key file")
    .argument("<file>", "key file")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { json: boolean }) => run(opts.json, () => print(publicParts(readKeyFile(file), file), opts.json)));
}
