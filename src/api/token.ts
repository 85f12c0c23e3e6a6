import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "./errors.js";

/** The API token's file in the data directory: only the node's user may read it (mode 0600). */
export const API_TOKEN_FILE = "api.token";

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function apiTokenPath(dataDir: string): string {
  return join(dataDir, API_TOKEN_FILE);
}

/**
 * The node's API token: read from the data directory, or made there on first start. It is written
 * to a private temporary file, fsynced, then hard-linked into place, so a reader never sees half a
 * token and a second start (or a racing one) never overwrites the token clients already hold.
 */
export function ensureApiToken(dataDir: string, random: (n: number) => Uint8Array = randomBytes): string {
  const path = apiTokenPath(dataDir);
  const existing = readExisting(path);
  if (existing !== null) return existing;
  const token = Buffer.from(random(32)).toString("hex");
  const temp = join(dataDir, `.${API_TOKEN_FILE}.${process.pid}.${Buffer.from(random(4)).toString("hex")}`);
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, `${token}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, path);
  } catch (e) {
    // Another process made it between our read and our link: theirs stands.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new ApiError("TOKEN_FILE_UNUSABLE", `cannot write the API token ${path}: ${(e as Error).message}`);
    const theirs = readExisting(path);
    if (theirs === null) throw new ApiError("TOKEN_FILE_UNUSABLE", `${path} vanished while being created`);
    return theirs;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Never created (the open failed): nothing to remove.
    }
  }
  return token;
}

/** The token in an existing file, checked for privacy and shape; null when there is no file. */
function readExisting(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ApiError("TOKEN_FILE_UNUSABLE", `cannot read the API token ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ApiError("TOKEN_FILE_UNUSABLE", `${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) throw new ApiError("TOKEN_FILE_INSECURE", `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    return parseToken(readFileSync(fd, "utf8"), path);
  } finally {
    closeSync(fd);
  }
}

function parseToken(text: string, path: string): string {
  const token = text.trim();
  if (!TOKEN_PATTERN.test(token)) throw new ApiError("TOKEN_FILE_INVALID", `${path} does not hold an API token (64 hex digits); delete it and restart the node to make a new one`);
  return token;
}

/** What a client (the CLI) finds: the token, or why there is none. */
export type ClientToken = { readonly token: string; readonly path: string } | { readonly token: null; readonly path: string; readonly reason: string };

/** The token for a client on this machine; never throws (a request that needs no token must still work). */
export function readClientToken(path: string): ClientToken {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { token: null, path, reason: code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied: run as the node's user" : (e as Error).message };
  }
  const token = text.trim();
  return TOKEN_PATTERN.test(token) ? { token, path } : { token: null, path, reason: "not an API token (64 hex digits)" };
}

/** Compare a presented token with ours in time that does not depend on where they differ. */
export function tokenMatches(presented: string, expected: string): boolean {
  // Hashing first gives equal lengths, so not even the presented length shortens the comparison.
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
