import { toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import { blsProvePossession } from "../core/crypto/bls.js";
import type { Identity } from "../core/crypto/identity.js";
import { inspectKeyFile, KeyFileError, readKeyFile } from "../storage/keystore.js";
import { SECRET_ENV } from "./config/schema.js";
import { obtainPassphrase } from "./secrets.js";

export function publicKeys(id: Identity): Record<string, string> {
  return { address: formatAddress(id.address), publicKey: toHex(id.ed25519.publicKey), blsPublicKey: toHex(id.bls.publicKey) };
}

/** What an operator hands to the genesis ceremony: everything `genesis add-validator` needs. */
export function validatorCard(id: Identity, chainId: string): Record<string, string> {
  return { ...publicKeys(id), proofOfPossession: toHex(blsProvePossession(chainId, id.bls)), chainId };
}

export interface UnlockOptions {
  /** A file holding the passphrase (the config's key_passphrase_file, or --passphrase-file). */
  readonly passphraseFile?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Development chains may use a key in the clear; everything else needs it sealed. */
  readonly allowUnencrypted: boolean;
}

/** Open a node key: its passphrase from its file, the environment or a prompt; a clear key only where allowed. */
export async function unlockKeyFile(path: string, opts: UnlockOptions): Promise<Identity> {
  const summary = inspectKeyFile(path);
  if (!summary.encrypted) {
    if (!opts.allowUnencrypted) {
      throw new KeyFileError("INVALID", `${path} holds its seed unencrypted, which only a development chain (--dev) accepts; encrypt it in place with: meshchain keys change-passphrase ${path}`);
    }
    return readKeyFile(path);
  }
  const passphrase = await obtainPassphrase(
    { ...(opts.passphraseFile === undefined ? {} : { file: opts.passphraseFile }), envName: SECRET_ENV.keyPassphrase, env: opts.env },
    { label: `passphrase for ${path}`, confirm: false },
  );
  return readKeyFile(path, { passphrase });
}
