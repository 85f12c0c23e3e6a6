import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiServer } from "../../src/api/server.js";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { CLI_ENTRY } from "../fixtures/cli.js";

const dir = tempDirsPerTest();
const ROOT = join(import.meta.dirname, "../..");

/**
 * Run the CLI without blocking this process (the node under test answers its API from here).
 * `closeAfterFirstChunk` plays `| head -1`: the reader goes away after the first output.
 */
function runCli(args: string[], closeAfterFirstChunk = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (closeAfterFirstChunk) child.stdout.destroy();
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function startNode() {
  const dataDir = dir();
  const clock = new ManualClock(GENESIS_TIME * 1000);
  const dev = ensureDevNetwork(dataDir, () => clock.now());
  const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(1) });
  await node.start();
  clock.advance(10_000);
  const api = new ApiServer({ host: "127.0.0.1", port: 0 }, node);
  return { node, api, url: await api.start() };
}

describe("meshchain status", () => {
  it("prints a table by default and the node's JSON with --json", async () => {
    const { node, api, url } = await startNode();
    try {
      const table = await runCli(["status", "--api", url]);
      expect(table.stderr).toBe("");
      expect(table.status).toBe(0);
      expect(table.stdout).toMatch(/^role {7}validator mc[0-9a-f]{20}$/m);
      expect(table.stdout).toMatch(/^head {7}5 \(/m);
      expect(table.stdout).toMatch(/^warnings {3}none$/m);
      const json = await runCli(["status", "--api", url, "--json"]);
      expect((JSON.parse(json.stdout) as { height: number }).height).toBe(node.status().height);
    } finally {
      await api.stop();
      await node.stop();
    }
  }, 60_000);

  it("stops quietly with status 0 when its reader goes away (| head -1), even while watching", async () => {
    const { node, api, url } = await startNode();
    try {
      const watched = await runCli(["status", "--api", url, "--watch", "1"], true);
      expect(watched.stderr).toBe("");
      expect(watched.status).toBe(0);
      expect(watched.stdout).toContain("role");
    } finally {
      await api.stop();
      await node.stop();
    }
  }, 60_000);

  it("refuses a bad --watch and says what it takes", async () => {
    const r = await runCli(["status", "--watch", "soon"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--watch must be a whole number");
  }, 60_000);
});
