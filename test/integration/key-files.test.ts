import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { unlockKeyFile } from "../../src/cli/node-key.js";
import { identityFromSeed } from "../../src/core/crypto/identity.js";
import { inspectKeyFile, readKeyFile, writeKeyFile } from "../../src/storage/keystore.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
// The smallest cost files may ask for keeps the tests quick; the default (2^17) is for real keys.
const CHEAP = { n: 1 << 14, r: 8, p: 1 };
const id = identityFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1));

function sealed(passphrase = "correct horse"): string {
  const path = join(dir(), "node.key");
  writeKeyFile(path, id, { passphrase, scrypt: CHEAP });
  return path;
}

const edit = (path: string, change: (doc: Record<string, unknown> & { crypto: Record<string, unknown> }) => void) => {
  const doc = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown> & { crypto: Record<string, unknown> };
  change(doc);
  writeFileSync(path, JSON.stringify(doc));
};

describe("encrypted key files", () => {
  it("seal the seed under the passphrase, recording scrypt's parameters, and open only with it", () => {
    const path = sealed();
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(toHex(id.seed));
    const doc = JSON.parse(text) as { version: number; crypto: { kdf: string; kdfParams: { n: number; r: number; p: number; salt: string }; cipher: string } };
    expect(doc.version).toBe(2);
    expect(doc.crypto.kdf).toBe("scrypt");
    expect(doc.crypto.kdfParams).toMatchObject(CHEAP);
    expect(doc.crypto.kdfParams.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(doc.crypto.cipher).toBe("aes-256-gcm");
    expect(toHex(readKeyFile(path, { passphrase: "correct horse" }).seed)).toBe(toHex(id.seed));
    expect(() => readKeyFile(path, { passphrase: "wrong horse" })).toThrow(expect.objectContaining({ code: "WRONG_PASSPHRASE" }));
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ code: "ENCRYPTED" }));
    expect(inspectKeyFile(path)).toMatchObject({ encrypted: true, publicKey: toHex(id.ed25519.publicKey) });
  });

  it("two files of the same seed and passphrase differ (fresh salt and nonce)", () => {
    const a = JSON.parse(readFileSync(sealed(), "utf8")) as { crypto: { ciphertext: string } };
    const b = JSON.parse(readFileSync(sealed(), "utf8")) as { crypto: { ciphertext: string } };
    expect(a.crypto.ciphertext).not.toBe(b.crypto.ciphertext);
  });

  it("detect a file whose public parts or ciphertext were changed", () => {
    const other = identityFromSeed(new Uint8Array(32).fill(9));
    const swapped = sealed();
    edit(swapped, (d) => {
      d.blsPublicKey = toHex(other.bls.publicKey);
    });
    expect(() => readKeyFile(swapped, { passphrase: "correct horse" })).toThrow(expect.objectContaining({ code: "WRONG_PASSPHRASE" }));
    const flipped = sealed();
    edit(flipped, (d) => {
      const c = d.crypto.ciphertext as string;
      d.crypto.ciphertext = `${c[0] === "0" ? "1" : "0"}${c.slice(1)}`;
    });
    expect(() => readKeyFile(flipped, { passphrase: "correct horse" })).toThrow(expect.objectContaining({ code: "WRONG_PASSPHRASE" }));
  });

  it("refuse scrypt parameters outside the bounds instead of trying them", () => {
    for (const n of [1 << 10, 1 << 24, 3 * 1024 * 64]) {
      const path = sealed();
      edit(path, (d) => {
        (d.crypto.kdfParams as { n: number }).n = n;
      });
      expect(() => readKeyFile(path, { passphrase: "correct horse" }), String(n)).toThrow(expect.objectContaining({ code: "BAD_KDF_PARAMS" }));
    }
    expect(() => writeKeyFile(join(dir(), "k"), id, { passphrase: "", scrypt: CHEAP })).toThrow(expect.objectContaining({ code: "EMPTY_PASSPHRASE" }));
  });

  it("a re-sealed file replaces the old one whole, leaving nothing beside it", () => {
    const path = sealed();
    writeKeyFile(path, id, { overwrite: true, passphrase: "new one", scrypt: CHEAP });
    expect(toHex(readKeyFile(path, { passphrase: "new one" }).address)).toBe(toHex(id.address));
    expect(readdirSync(join(path, ".."))).toEqual(["node.key"]);
  });

  it("a node key in the clear is refused outside a development chain, saying how to encrypt it", async () => {
    const path = join(dir(), "clear.key");
    writeKeyFile(path, id);
    await expect(unlockKeyFile(path, { env: {}, allowUnencrypted: false })).rejects.toThrow(/meshchain keys change-passphrase/);
    expect(toHex((await unlockKeyFile(path, { env: {}, allowUnencrypted: true })).address)).toBe(toHex(id.address));
  });

  it("unlocks with the passphrase from its file or the environment; refuses a passphrase file everyone can read", async () => {
    const path = sealed("from somewhere");
    const passFile = join(dir(), "pass");
    writeFileSync(passFile, "from somewhere\n", { mode: 0o600 });
    expect(toHex((await unlockKeyFile(path, { passphraseFile: passFile, env: {}, allowUnencrypted: false })).address)).toBe(toHex(id.address));
    expect(toHex((await unlockKeyFile(path, { env: { MESHCHAIN_KEY_PASSPHRASE: "from somewhere" }, allowUnencrypted: false })).address)).toBe(toHex(id.address));
    chmodSync(passFile, 0o644);
    await expect(unlockKeyFile(path, { passphraseFile: passFile, env: {}, allowUnencrypted: false })).rejects.toThrow(/readable by everyone/);
  });
});
