import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataDirLock } from "../../src/storage/dir-lock.js";
import { CLI_ENTRY, meshchain } from "../fixtures/cli.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const ROOT = join(import.meta.dirname, "../..");

/** A `meshchain start --dev` running until the test kills it; resolves once it logged a block. */
async function runningNode(dataDir: string): Promise<{ pid: number; kill: (signal: NodeJS.Signals) => Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI_ENTRY, "start", "--dev", "--data-dir", dataDir, "--slot-ms", "200", "--broker", "none", "--api", "none"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no block: ${out}`)), 30_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes('"msg":"block"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    pid: child.pid as number,
    kill: async (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

describe("one process per data directory", () => {
  it("a second process on the same data directory exits at once, naming the holder's PID, and writes nothing", async () => {
    const dataDir = dir();
    const first = await runningNode(dataDir);
    try {
      const before = readdirSync(dataDir).sort();
      const second = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker", "none", "--api", "none"]);
      expect(second.status).toBe(73);
      expect(second.stderr).toContain("DATA_DIR_LOCKED");
      expect(second.stderr).toContain(`PID ${first.pid}`);
      expect(readdirSync(dataDir).sort()).toEqual(before);
    } finally {
      await first.kill("SIGTERM");
    }
  });

  it("a lock held by a process that was killed (SIGKILL) is free again at once", async () => {
    const dataDir = dir();
    const first = await runningNode(dataDir);
    expect(() => DataDirLock.acquire(dataDir)).toThrow(expect.objectContaining({ code: "DATA_DIR_LOCKED" }));
    await first.kill("SIGKILL");
    const lock = DataDirLock.acquire(dataDir);
    lock.release();
  });

  it("--dev pointed at another node's data directory refuses before writing a key or genesis there", () => {
    const dataDir = dir();
    writeFileSync(join(dataDir, "chain.db"), "");
    writeFileSync(join(dataDir, "genesis.json"), JSON.stringify({ chainId: "community-net" }));
    const r = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker", "none", "--api", "none"]);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain("NOT_DEV_DATA_DIR");
    expect(r.stderr).toContain("is not a development data directory");
    expect(readdirSync(dataDir).filter((f) => !f.startsWith("LOCK")).sort()).toEqual(["chain.db", "genesis.json"]);
  });
});
