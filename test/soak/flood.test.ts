import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { parseGenesis } from "../../src/core/genesis.js";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { writeKeyFile } from "../../src/storage/keystore.js";
import { danglingFragment, rawFlood } from "../adversarial/attacker.js";
import { CHAIN_ID, COIN, GENESIS_TIME, testChain } from "../fixtures/chain.js";
import { CLI_ENTRY } from "../fixtures/cli.js";
import { lastStatus, lines, type RunningNode } from "../fixtures/cli-nodes.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();
const FRAMES = Number(process.env.MESHCHAIN_FLOOD_FRAMES ?? "600000");
/**
 * Extra `node` flags for the follower (space-separated), for experiments on where its memory goes:
 * `--trace-gc` adds the heap after each collection to the figures printed, `--max-semi-space-size=N`
 * or `--max-old-space-size=N` try V8 limits. Empty by default: the follower runs as an operator runs it.
 */
const NODE_FLAGS = (process.env.MESHCHAIN_FLOOD_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
/**
 * What the flood may add to the follower's RSS at its peak, as shipped (Node's default heap policy).
 * The reassembly itself holds at most 16 KiB for unverified senders (its own accounting, asserted in
 * test/adversarial), and the live heap after a full collection stays where it was; what the peak shows
 * is garbage from handling frames as fast as the broker delivers them, which V8 lets the old generation
 * grow to several times the live heap before collecting (docs/benchmarks.md §Network under attack).
 * The old code's partials made 1.3 GB that was never released.
 */
const RSS_GROWTH_BOUND = 128 * 2 ** 20;
/**
 * The V8 limits an operator can give in NODE_OPTIONS (docs/security.md §Memory bound): the old
 * generation collected before it passes 96 MB, the young one kept small.
 */
const HEAP_CAP = "--max-old-space-size=96 --max-semi-space-size=4";
/** The aim for the whole follower, met with HEAP_CAP. */
const RSS_PEAK_BOUND = 150 * 2 ** 20;

/** The test chain's genesis as the file an operator is handed (the same document `testChain` parses). */
function genesisFile(path: string): void {
  const { validators, users } = testChain({ validators: 1, users: 4 });
  const doc = buildGenesisDocument({
    chainId: CHAIN_ID,
    genesisTime: GENESIS_TIME,
    validators: validators.map((identity) => ({ identity, selfBond: 10_000n * COIN, commissionBps: 1_000 })),
    accounts: [...users.map((identity) => ({ identity, balance: 1_000_000n * COIN })), ...validators.map((identity) => ({ identity, balance: 100_000n * COIN }))],
  });
  expect(parseGenesis(doc)).toEqual(testChain({ validators: 1, users: 4 }).genesis);
  writeFileSync(path, JSON.stringify(doc));
}

/** VmRSS and VmHWM (the peak since start, or since the last reset) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(/^\S+:\s+(\d+) kB$/m.exec(status.split("\n").find((l) => l.startsWith(`${field}:`)) ?? "")?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** The heap in use after each collection, from `--trace-gc` lines ("Scavenge 12.1 (14.0) -> 9.8 (14.5) MB"), in bytes. */
const heapAfterGc = (out: string): number[] =>
  [...out.matchAll(/: (?:Scavenge|Mark-Compact|Mark-sweep)[^\n]*? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g)].map((m) => Number(m[1]) * 2 ** 20);

interface FloodFigures {
  readonly baseline: number;
  readonly peak: number;
  readonly after: number;
}

/**
 * A lone validator (embedded broker) in this process, the follower as `meshchain start` from this run's
 * compiled CLI (with `nodeOptions` in NODE_OPTIONS, as a systemd drop-in gives them), the flood once it
 * has synced; the follower must keep syncing after it.
 */
async function floodFollower(nodeOptions: string): Promise<FloodFigures> {
  const chain = testChain({ validators: 1, users: 4 });
  const validator = new MeshChainNode(
    { dataDir: dir(), genesis: chain.genesis, identity: chain.validators[0]!, slotMs: 200, heartbeatSlots: 1, statusIntervalMs: 200, network: { broker: "embedded", brokerPort: 0 } },
    { clock: systemClock, logger: silentLogger(), random: seededRandom(1) },
  );
  await validator.start();
  const home = dir();
  const [genesis, key, passphrase] = [join(home, "genesis.json"), join(home, "node.key"), join(home, "passphrase")];
  genesisFile(genesis);
  writeFileSync(passphrase, "a flooded hill\n", { mode: 0o600 });
  writeKeyFile(key, chain.users[0]!, { passphrase: "a flooded hill", scrypt: { n: 1 << 14, r: 8, p: 1 } });
  // The CLI refuses MESHCHAIN_ variables it does not know (this run's own, such as the flood's length).
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MESHCHAIN_")));
  if (nodeOptions !== "") env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} ${nodeOptions}`.trim();
  const args = ["start", "--data-dir", join(home, "data"), "--genesis", genesis, "--key", key, "--key-passphrase-file", passphrase, "--broker", validator.brokerUrl!, "--api", "none", "--status-interval", "200"];
  const child = spawn(process.execPath, [...NODE_FLAGS, CLI_ENTRY, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const follower: RunningNode = { name: "follower", child, out: "", exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout.on("data", (c: Buffer) => (follower.out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (follower.out += c.toString()));
  const pid = child.pid!;
  const rss: number[] = [];
  const sampler = setInterval(() => {
    if (child.exitCode === null) rss.push(memoryOf(pid).rss);
  }, 100);
  try {
    const synced = () => {
      const s = lines(follower).filter((l) => typeof l.status === "object" && l.status !== null).pop()?.status as { height: number; sync: string } | undefined;
      return s?.sync === "synced" && s.height >= 5;
    };
    await waitFor(() => synced() || child.exitCode !== null, 60_000, "the follower to sync").catch((e: Error) => {
      throw new Error(`${e.message}\n${follower.out.slice(-2_000)}`);
    });
    expect(child.exitCode, follower.out.slice(-2_000)).toBeNull();
    // Settled: ten samples at a second's idle, the largest of them.
    const idleFrom = rss.length;
    await waitFor(() => rss.length >= idleFrom + 10, 30_000, "ten samples of the idle follower");
    const baseline = Math.max(...rss.slice(-10));
    const heapBefore = heapAfterGc(follower.out).at(-1);
    const outBefore = follower.out.length;
    // The peak under the flood alone: VmHWM from here on (writing 5 to clear_refs resets it), which
    // sees what sampling from this busy process would miss.
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    const start = rss.length;
    for (let sent = 0; sent < FRAMES; sent += 50_000) {
      const batch = Array.from({ length: Math.min(50_000, FRAMES - sent) }, (_, i) => ({ from: 0x10000000 + ((sent + i) % 50_000), bytes: danglingFragment((sent + i) & 0xffff, 254, 255, 1) }));
      await rawFlood(validator.brokerUrl!, chain.genesis.chainId, batch);
    }
    const heightAfterFlood = validator.status().height;
    await waitFor(() => lastStatus(follower).height >= heightAfterFlood + 5, 120_000, "the follower to keep syncing after the flood");
    const peak = Math.max(memoryOf(pid).hwm, ...rss.slice(start));
    const after = memoryOf(pid).rss;
    const heapDuring = heapAfterGc(follower.out.slice(outBefore));
    const mb = (n: number | undefined) => (n === undefined ? "-" : (n / 2 ** 20).toFixed(0));
    process.stdout.write(
      `flood: ${FRAMES} frames, node ${process.version}, NODE_OPTIONS "${nodeOptions}", flags "${NODE_FLAGS.join(" ")}"; follower (compiled CLI) RSS baseline ${mb(baseline)} MB, peak ${mb(peak)} MB, after ${mb(after)} MB` +
        (heapDuring.length === 0 ? "\n" : `; heap after GC baseline ${mb(heapBefore)} MB, peak ${mb(Math.max(...heapDuring))} MB, after ${mb(heapDuring.at(-1))} MB (${heapDuring.length} collections)\n`),
    );
    return { baseline, peak, after };
  } finally {
    clearInterval(sampler);
    child.kill("SIGTERM");
    await follower.exited;
    await validator.stop();
  }
}

describe("a follower under a long flood of dangling fragments from senders it never verified", () => {
  it("as shipped: adds a bounded amount to its RSS, whatever the flood's length, and keeps syncing", async () => {
    const f = await floodFollower("");
    expect(f.peak - f.baseline).toBeLessThan(RSS_GROWTH_BOUND);
  });

  it(`with NODE_OPTIONS="${HEAP_CAP}": stays under 150 MB of RSS in all, and keeps syncing`, async () => {
    const f = await floodFollower(HEAP_CAP);
    expect(f.peak).toBeLessThan(RSS_PEAK_BOUND);
  });
});
