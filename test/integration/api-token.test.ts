import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_TOKEN_FILE, apiTokenPath, ensureApiToken, readClientToken, tokenMatches } from "../../src/api/token.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
/** Deterministic "randomness": the token's bytes are known to the test. */
const bytesOf = (fill: number) => (n: number) => new Uint8Array(n).fill(fill);

describe("the API token file", () => {
  it("is made on first start with mode 0600 and 64 hex digits, and leaves no temporary file behind", () => {
    const dataDir = dir();
    const token = ensureApiToken(dataDir, bytesOf(0xab));
    expect(token).toBe("ab".repeat(32));
    const path = apiTokenPath(dataDir);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe(`${token}\n`);
    expect(readdirSync(dataDir)).toEqual([API_TOKEN_FILE]);
  });

  it("is never overwritten by a second start: the same token, the same file", () => {
    const dataDir = dir();
    const first = ensureApiToken(dataDir, bytesOf(1));
    const before = statSync(apiTokenPath(dataDir));
    expect(ensureApiToken(dataDir, bytesOf(2))).toBe(first);
    const after = statSync(apiTokenPath(dataDir));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("keeps the token of a process that created it first while we were making ours", () => {
    const dataDir = dir();
    const theirs = "cd".repeat(32);
    let raced = false;
    const racingRandom = (n: number) => {
      if (!raced) {
        raced = true;
        writeFileSync(apiTokenPath(dataDir), `${theirs}\n`, { mode: 0o600 });
      }
      return new Uint8Array(n).fill(0xee);
    };
    expect(ensureApiToken(dataDir, racingRandom)).toBe(theirs);
    expect(readFileSync(apiTokenPath(dataDir), "utf8")).toBe(`${theirs}\n`);
    expect(readdirSync(dataDir)).toEqual([API_TOKEN_FILE]);
  });

  it("refuses a token file others can read, or one that holds no token, and changes neither", () => {
    const dataDir = dir();
    const path = apiTokenPath(dataDir);
    ensureApiToken(dataDir, bytesOf(3));
    chmodSync(path, 0o644);
    expect(() => ensureApiToken(dataDir)).toThrow(expect.objectContaining({ code: "TOKEN_FILE_INSECURE", message: expect.stringContaining(`chmod 600 ${path}`) }));
    writeFileSync(path, "not a token\n", { mode: 0o600 });
    chmodSync(path, 0o600);
    expect(() => ensureApiToken(dataDir)).toThrow(expect.objectContaining({ code: "TOKEN_FILE_INVALID" }));
    expect(readFileSync(path, "utf8")).toBe("not a token\n");
  });

  it("reports a data directory it cannot write to as a typed error", () => {
    expect(() => ensureApiToken(join(dir(), "missing"))).toThrow(expect.objectContaining({ code: "TOKEN_FILE_UNUSABLE" }));
  });

  it("is read by a client without throwing: the token, or why there is none", () => {
    const dataDir = dir();
    expect(readClientToken(apiTokenPath(dataDir))).toMatchObject({ token: null, reason: "no such file" });
    const token = ensureApiToken(dataDir, bytesOf(4));
    expect(readClientToken(apiTokenPath(dataDir))).toEqual({ token, path: apiTokenPath(dataDir) });
    writeFileSync(apiTokenPath(dataDir), "zz\n");
    expect(readClientToken(apiTokenPath(dataDir)).token).toBeNull();
  });

  it("compares tokens in full: any difference, any length, is a mismatch", () => {
    const token = "ab".repeat(32);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token.slice(0, 63), token)).toBe(false);
    expect(tokenMatches(`${token}0`, token)).toBe(false);
    expect(tokenMatches(`${token.slice(0, 63)}c`, token)).toBe(false);
    expect(tokenMatches("", token)).toBe(false);
  });
});
