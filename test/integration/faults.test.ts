import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ApiServer } from "../../src/api/server.js";
import { ManualClock, systemClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { embeddedBroker, freePort, type TestBroker } from "../fixtures/brokers.js";
import { GENESIS_TIME, testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A logger whose records the test can read. */
function recordingLogger() {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: "info", base: undefined }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records, messages: () => records.map((r) => String(r.msg)) };
}

describe("a node whose broker is down", () => {
  it("starts, produces blocks and answers its API; says why it is not ready; logs each link change once; recovers when the broker comes up", async () => {
    const dataDir = dir();
    const dev = ensureDevNetwork(dataDir, () => systemClock.now());
    const port = await freePort();
    const { logger, records, messages } = recordingLogger();
    const node = new MeshChainNode(
      { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 300, heartbeatSlots: 1, statusIntervalMs: 60_000, network: { broker: `mqtt://127.0.0.1:${port}`, brokerPort: 0 } },
      { clock: systemClock, logger, random: seededRandom(3) },
    );
    await node.start();
    cleanups.push(() => node.stop());
    const api = new ApiServer({ host: "127.0.0.1", port: 0 }, node);
    const url = await api.start();
    cleanups.push(() => api.stop());

    await waitFor(() => node.status().height >= 3, 20_000, "blocks while the broker is down");
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ready: boolean; reason: string };
    expect(body.reason).toMatch(/cut off from every peer \(ip: .*ECONNREFUSED/);
    expect(node.status().links.ip).toBe("disconnected");
    // Failed retries for the same reason are not logged again.
    const downLines = () => records.filter((r) => r.msg === "link not up; retrying" || r.msg === "link down; retrying");
    expect(downLines().length).toBe(1);
    expect(downLines()[0]).toMatchObject({ link: "ip", reason: expect.stringContaining("ECONNREFUSED") });

    const broker: TestBroker = await embeddedBroker(port);
    cleanups.push(() => broker.close());
    await waitFor(() => node.status().ready.ok, 30_000, "the link to come up");
    expect(messages()).toContain("link back up");
    expect(downLines().length).toBe(1);
    // Secrets never appear in the log: the URL is not logged with the link changes at all.
    expect(JSON.stringify(records)).not.toContain("password");
  });
});

describe("a node whose storage fails its writes", () => {
  it("pauses block production while another program holds chain.db's write lock, stays up, reports why, and resumes on its own", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const lone = testChain({ validators: 1, users: 2 });
    const [alice, bob] = lone.users;
    const node = new MeshChainNode(
      { dataDir, genesis: lone.genesis, identity: lone.validators[0]!, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 60_000 },
      { clock, logger: silentLogger(), random: seededRandom(1) },
    );
    await node.start();
    cleanups.push(() => node.stop());
    clock.advance(2_000 * 3);
    expect(node.status().height).toBe(3);

    const other = new Database(join(dataDir, "chain.db"));
    other.exec("BEGIN IMMEDIATE");
    clock.advance(2_000 * 3);
    const faulted = node.status();
    expect(faulted.height).toBe(3);
    expect(faulted.storage.fault).toMatchObject({ store: "chain", code: "BUSY" });
    expect(faulted.ready).toMatchObject({ ok: false, reason: expect.stringContaining("storage fault (BUSY)") });
    // The node still takes transactions: its pool is another file.
    const { hash, status } = node.submitTransaction(transfer(alice!, 0, bob!.address, 1_000n).bytes);
    expect(status).toBe("accepted");

    other.exec("ROLLBACK");
    other.close();
    clock.advance(2_000);
    const healed = node.status();
    expect(healed.height).toBe(4);
    expect(healed.storage).toEqual({ fault: null, faults: 1 });
    expect(healed.ready.ok).toBe(true);
    expect(node.finalizedTxHeight(Buffer.from(hash, "hex"))).toBe(4);
  });

  const canMount = process.getuid?.() === 0 && spawnSync("mount", ["--version"]).status === 0;
  it.skipIf(!canMount)("pauses on a full disk (a small tmpfs), keeps memory and disk together, and resumes when space returns", async () => {
    const mountPoint = dir();
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]);
    if (mounted.status !== 0) {
      console.warn(`skipped: cannot mount a tmpfs here (${mounted.stderr.toString().trim()})`);
      return;
    }
    cleanups.push(() => void spawnSync("umount", ["-l", mountPoint]));
    const dataDir = join(mountPoint, "node");
    mkdirSync(dataDir);
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const node = new MeshChainNode(
      { dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 60_000 },
      { clock, logger: silentLogger(), random: seededRandom(1) },
    );
    await node.start();
    cleanups.push(() => node.stop());
    clock.advance(2_000 * 2);
    expect(node.status().height).toBe(2);
    // Fill the disk to the last byte.
    const filler = join(mountPoint, "filler");
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; ; i++) {
      try {
        writeFileSync(`${filler}-${i}`, chunk);
      } catch {
        break;
      }
    }
    for (let i = 0; i < 64; i++) {
      try {
        writeFileSync(`${filler}-small-${i}`, Buffer.alloc(1024, 1));
      } catch {
        break;
      }
    }
    clock.advance(2_000 * 20);
    const full = node.status();
    expect(full.storage.fault?.code).toMatch(/DISK_FULL|IO_ERROR/);
    const stuckAt = full.height;
    expect(full.ready.ok).toBe(false);
    for (const f of readdirSync(mountPoint)) if (f.startsWith("filler-")) rmSync(join(mountPoint, f));
    clock.advance(2_000 * 2);
    const healed = node.status();
    expect(healed.storage.fault).toBeNull();
    expect(healed.height).toBeGreaterThan(stuckAt);
    await node.stop();
    // What memory said is what the disk holds.
    const store = ChainStore.open(join(dataDir, "chain.db"), dev.genesis);
    expect(store.tip.height).toBe(healed.height);
    store.close();
  });
});
