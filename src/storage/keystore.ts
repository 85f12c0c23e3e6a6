import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { fromHex, toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { MeshChainError } from "../core/errors.js";

export type KeyFileErrorCode = "NOT_FOUND" | "EXISTS" | "INVALID" | "INSECURE_PERMISSIONS" | "IO_ERROR";
export class KeyFileError extends MeshChainError<KeyFileErrorCode> {}

/** What a key file holds: the seed, plus the public parts so that a reader can check it. */
export interface KeyFileContents {
  readonly version: 1;
  readonly kind: "meshchain-key";
  readonly seed: string;
  readonly address: string;
  readonly publicKey: string;
  readonly blsPublicKey: string;
}

export function keyFileContents(id: Identity): KeyFileContents {
  return {
    version: 1,
    kind: "meshchain-key",
    seed: toHex(id.seed),
    address: formatAddress(id.address),
    publicKey: toHex(id.ed25519.publicKey),
    blsPublicKey: toHex(id.bls.publicKey),
  };
}

/** Create a key file with mode 0600 (never overwriting unless asked), fsynced before returning. */
export function writeKeyFile(path: string, id: Identity, opts: { overwrite?: boolean } = {}): void {
  let fd: number;
  try {
    fd = openSync(path, opts.overwrite === true ? "w" : "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new KeyFileError("EXISTS", `${path} already exists; refusing to overwrite a key`);
    throw new KeyFileError("IO_ERROR", `cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, `${JSON.stringify(keyFileContents(id), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function generateIdentity(): Identity {
  return identityFromSeed(new Uint8Array(randomBytes(32)));
}

export function readKeyFile(path: string): Identity {
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
  let doc: Partial<KeyFileContents>;
  try {
    doc = JSON.parse(text) as Partial<KeyFileContents>;
  } catch {
    throw new KeyFileError("INVALID", `${path} is not a MeshChain key file (not JSON)`);
  }
  if (doc.kind !== "meshchain-key" || doc.version !== 1 || typeof doc.seed !== "string" || !/^[0-9a-f]{64}$/.test(doc.seed)) {
    throw new KeyFileError("INVALID", `${path} is not a MeshChain key file`);
  }
  const id = identityFromSeed(fromHex(doc.seed));
  if (doc.address !== undefined && doc.address !== formatAddress(id.address)) {
    throw new KeyFileError("INVALID", `${path} is damaged: its address does not match its seed`);
  }
  return id;
}
