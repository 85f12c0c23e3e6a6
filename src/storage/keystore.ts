import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { z } from "zod";
import { fromHex, toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { MeshChainError } from "../core/errors.js";
import { openSeed, type ScryptParams, sealSeed } from "./key-encryption.js";

export type KeyFileErrorCode = "NOT_FOUND" | "EXISTS" | "INVALID" | "INSECURE_PERMISSIONS" | "IO_ERROR" | "ENCRYPTED";
export class KeyFileError extends MeshChainError<KeyFileErrorCode> {}

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const publicParts = { kind: z.literal("meshchain-key"), address: z.string(), publicKey: hex(32), blsPublicKey: hex(96) };

/**
 * Version 1 holds the seed in the clear (development chains only); version 2 holds it sealed under a
 * passphrase (scrypt, AES-256-GCM; docs/operations.md). Both carry the public parts so that `keys show`
 * works without the passphrase, and the sealed form authenticates them.
 */
const keyFileSchema = z.discriminatedUnion("version", [
  z.strictObject({ version: z.literal(1), ...publicParts, seed: hex(32) }),
  z.strictObject({
    version: z.literal(2),
    ...publicParts,
    crypto: z.strictObject({
      kdf: z.literal("scrypt"),
      kdfParams: z.strictObject({ n: z.int(), r: z.int(), p: z.int(), salt: hex(16) }),
      cipher: z.literal("aes-256-gcm"),
      iv: hex(12),
      ciphertext: hex(32),
      tag: hex(16),
    }),
  }),
]);
export type KeyFileContents = z.infer<typeof keyFileSchema>;

/** What can be learnt from a key file without its passphrase. */
export interface KeyFileSummary {
  readonly encrypted: boolean;
  readonly address: string;
  readonly publicKey: string;
  readonly blsPublicKey: string;
}

const associatedData = (f: { address: string; publicKey: string; blsPublicKey: string }): string => `${f.address}|${f.publicKey}|${f.blsPublicKey}`;

export function keyFileContents(id: Identity, passphrase?: string, scrypt?: ScryptParams): KeyFileContents {
  const pub = { kind: "meshchain-key" as const, address: formatAddress(id.address), publicKey: toHex(id.ed25519.publicKey), blsPublicKey: toHex(id.bls.publicKey) };
  if (passphrase === undefined) return { version: 1, ...pub, seed: toHex(id.seed) };
  return { version: 2, ...pub, crypto: sealSeed(id.seed, passphrase, associatedData(pub), scrypt) };
}

export interface WriteKeyOptions {
  readonly overwrite?: boolean;
  /** Seal the seed under this passphrase; without one the file is a development key in the clear. */
  readonly passphrase?: string;
  readonly scrypt?: ScryptParams;
}

/** Create a key file with mode 0600 (never overwriting unless asked), fsynced before returning. */
export function writeKeyFile(path: string, id: Identity, opts: WriteKeyOptions = {}): void {
  const text = `${JSON.stringify(keyFileContents(id, opts.passphrase, opts.scrypt), null, 2)}\n`;
  // An overwrite goes through a new file and a rename, so a crash leaves the old key or the new one.
  const target = opts.overwrite === true ? `${path}.new-${toHex(randomBytes(4))}` : path;
  let fd: number;
  try {
    fd = openSync(target, "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new KeyFileError("EXISTS", `${path} already exists; refusing to overwrite a key`);
    throw new KeyFileError("IO_ERROR", `cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (target !== path) renameSync(target, path);
}

export function generateIdentity(): Identity {
  return identityFromSeed(new Uint8Array(randomBytes(32)));
}

function loadKeyFile(path: string): KeyFileContents {
  let text: string;
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) {
      throw new KeyFileError("INSECURE_PERMISSIONS", `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    }
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KeyFileError("NOT_FOUND", `no key file at ${path}`);
    throw new KeyFileError("IO_ERROR", `cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyFileError("INVALID", `${path} is not a MeshChain key file (not JSON)`);
  }
  const parsed = keyFileSchema.safeParse(doc);
  if (!parsed.success) {
    const at = parsed.error.issues[0]?.path.join(".") ?? "";
    throw new KeyFileError("INVALID", `${path} is not a MeshChain key file${at === "" ? "" : ` (field ${at})`}`);
  }
  return parsed.data;
}

export function inspectKeyFile(path: string): KeyFileSummary {
  const f = loadKeyFile(path);
  return { encrypted: f.version === 2, address: f.address, publicKey: f.publicKey, blsPublicKey: f.blsPublicKey };
}

/**
 * The identity in a key file. A sealed file needs its passphrase (`ENCRYPTED` without one,
 * `WRONG_PASSPHRASE` with a wrong one); whether a clear file is acceptable is the caller's rule.
 */
export function readKeyFile(path: string, opts: { passphrase?: string } = {}): Identity {
  const f = loadKeyFile(path);
  let seed: Uint8Array;
  if (f.version === 1) {
    seed = fromHex(f.seed);
  } else {
    if (opts.passphrase === undefined) throw new KeyFileError("ENCRYPTED", `${path} is encrypted: give its passphrase`);
    seed = openSeed(f.crypto, opts.passphrase, associatedData(f));
  }
  const id = identityFromSeed(seed);
  if (f.address !== formatAddress(id.address) || f.publicKey !== toHex(id.ed25519.publicKey)) {
    throw new KeyFileError("INVALID", `${path} is damaged: its address does not match its seed`);
  }
  return id;
}
