import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { fromHex, toHex, utf8 } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";

export type KeyCryptoErrorCode = "WRONG_PASSPHRASE" | "BAD_KDF_PARAMS" | "EMPTY_PASSPHRASE";
export class KeyCryptoError extends MeshChainError<KeyCryptoErrorCode> {}

/** scrypt's cost, recorded in each file so that a later release can raise it and still read old files. */
export interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

/** 2^17 × 128 × 8 bytes = 128 MiB and about a second on a Raspberry Pi 4: each passphrase guess costs the same. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 1 << 17, r: 8, p: 1 };

/** What a file may ask for: enough to be memory-hard, not so much that reading it exhausts a Pi. */
const MIN_LOG_N = 14;
const MAX_LOG_N = 20;

export interface SealedSeed {
  readonly kdf: "scrypt";
  readonly kdfParams: ScryptParams & { readonly salt: string };
  readonly cipher: "aes-256-gcm";
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

function checkParams(p: ScryptParams): void {
  const logN = Math.log2(p.n);
  if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N || p.r !== 8 || !Number.isInteger(p.p) || p.p < 1 || p.p > 4) {
    throw new KeyCryptoError("BAD_KDF_PARAMS", `scrypt parameters N=${p.n} r=${p.r} p=${p.p} are outside what MeshChain reads (N = 2^${MIN_LOG_N}..2^${MAX_LOG_N}, r = 8, p = 1..4)`);
  }
}

function deriveKey(passphrase: string, salt: Uint8Array, p: ScryptParams): Buffer {
  checkParams(p);
  return scryptSync(passphrase.normalize("NFKC"), salt, 32, { N: p.n, r: p.r, p: p.p, maxmem: 256 * p.n * p.r + 1024 * 1024 });
}

/** Encrypt a seed under a passphrase; `associated` (the file's public parts) is authenticated with it. */
export function sealSeed(seed: Uint8Array, passphrase: string, associated: string, params: ScryptParams = DEFAULT_SCRYPT): SealedSeed {
  if (passphrase.length === 0) throw new KeyCryptoError("EMPTY_PASSPHRASE", "the passphrase is empty");
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(passphrase, salt, params), iv);
  cipher.setAAD(utf8.encode(associated));
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return {
    kdf: "scrypt",
    kdfParams: { n: params.n, r: params.r, p: params.p, salt: toHex(salt) },
    cipher: "aes-256-gcm",
    iv: toHex(iv),
    ciphertext: toHex(ciphertext),
    tag: toHex(cipher.getAuthTag()),
  };
}

export function openSeed(sealed: SealedSeed, passphrase: string, associated: string): Uint8Array {
  const { salt, ...params } = sealed.kdfParams;
  const decipher = createDecipheriv("aes-256-gcm", deriveKey(passphrase, fromHex(salt), params), fromHex(sealed.iv));
  decipher.setAAD(utf8.encode(associated));
  decipher.setAuthTag(fromHex(sealed.tag));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(fromHex(sealed.ciphertext)), decipher.final()]));
  } catch {
    // GCM cannot tell a wrong passphrase from a tampered file; both mean "do not use this key".
    throw new KeyCryptoError("WRONG_PASSPHRASE", "wrong passphrase (or the key file was altered)");
  }
}
