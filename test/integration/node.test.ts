import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { GENESIS_TIME, testChain } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

describe("node", () => {
  it("makes a heartbeat block each due slot, stops, and resumes from its tip", () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const opts = { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 3, statusIntervalMs: 10_000 };
    const node = new MeshChainNode(opts, { clock, logger: silentLogger() });
    node.start();
    clock.advance(2_000 * 30);
    expect(node.status().height).toBe(10);
    node.stop();
    node.stop();
    clock.advance(60_000);
    const again = new MeshChainNode(opts, { clock, logger: silentLogger() });
    again.start();
    expect(again.status().height).toBe(10);
    clock.advance(2_000 * 3);
    expect(again.status().height).toBe(11);
    again.stop();
    const store = ChainStore.open(join(dataDir, "chain.db"), dev.genesis);
    // Restarted at slot 60; the next slot boundary is 61, already past the heartbeat.
    expect(store.blockAt(11)?.header.slot).toBe(61);
    store.close();
  });

  it("reuses the development network it created", () => {
    const dataDir = dir();
    const a = ensureDevNetwork(dataDir, () => 1_000_000);
    const b = ensureDevNetwork(dataDir, () => 9_000_000);
    expect(b.genesis.genesisTime).toBe(a.genesis.genesisTime);
    expect(b.identity.address).toEqual(a.identity.address);
  });

  it("refuses to run as a non-validator or in a multi-validator chain", () => {
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const { genesis, users, validators } = testChain({ validators: 2 });
    const base = { dataDir: dir(), genesis, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 10_000 };
    expect(() => new MeshChainNode({ ...base, identity: users[0]! }, { clock, logger: silentLogger() }).start()).toThrow(expect.objectContaining({ code: "NOT_A_VALIDATOR" }));
    expect(() => new MeshChainNode({ ...base, identity: validators[0]! }, { clock, logger: silentLogger() }).start()).toThrow(expect.objectContaining({ code: "NOT_SUPPORTED" }));
  });

  it("runs as a process, logs blocks, and exits 0 on SIGTERM", async () => {
    const dataDir = dir();
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start", "--dev", "--data-dir", dataDir, "--slot-ms", "200"], { cwd: join(import.meta.dirname, "../.."), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no blocks: ${out}`)), 30_000);
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if ((out.match(/"msg":"block"/g) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const stoppedAt = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(out).toContain('"msg":"node stopped"');
  });
});
