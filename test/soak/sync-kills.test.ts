import { spawn } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { blockHash } from "../../src/core/block/header.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, genesisStore, testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDir } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";
import { report } from "./report.js";

/**
 * The fault campaign's sync half: a follower process range-syncing a busy chain is SIGKILLed at random
 * moments. After every kill its database passes PRAGMA integrity_check, its state root equals a clean
 * replay of its blocks from genesis, and each of its blocks is the validator's block at that height.
 */
const KILLS = Number(process.env.MESHCHAIN_SYNC_KILLS ?? 40);
const follower = join(import.meta.dirname, "../fixtures/sync-follower.ts");
const chain = testChain({ validators: 1, users: 4 });

function runFollower(dataDir: string, broker: string, killAfterMs: number, seed: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", follower, dataDir, broker, String(seed)], { stdio: ["ignore", "pipe", "pipe"], cwd: join(import.meta.dirname, "../..") });
    let stderr = "";
    let armed = false;
    child.stdout.on("data", (c: Buffer) => {
      if (!armed && c.toString().includes("ready")) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve(0) : reject(new Error(`follower exited on its own: ${stderr}`))));
  });
}

describe("soak: SIGKILLs during sync", () => {
  const work = tempDir("meshchain-sync-kills-");
  afterAll(() => work.cleanup());

  it(`a follower killed ${KILLS} times while syncing reopens whole every time, on the validator's chain`, async () => {
    const validator = new MeshChainNode(
      { dataDir: join(work.path, "validator"), genesis: chain.genesis, identity: chain.validators[0]!, slotMs: 100, heartbeatSlots: 1, statusIntervalMs: 1_000, network: { broker: "embedded", brokerPort: 0 } },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(1) },
    );
    await validator.start();
    const nonces = [0, 0, 0, 0];
    const traffic = setInterval(() => {
      for (let u = 0; u < 4; u++) {
        try {
          validator.submitTransaction(transfer(chain.users[u]!, nonces[u]!, chain.users[(u + 1) % 4]!.address, 10n).bytes);
          nonces[u]!++;
        } catch {
          // The sender's quota is full until the next block: try again then.
        }
      }
    }, 100);
    const random = seededRandom(20261201);
    const followerDir = join(work.path, "follower");
    let lastHeight = 0;
    try {
      await waitFor(() => validator.status().height >= 200, 120_000, "a chain to sync");
      for (let i = 0; i < KILLS; i++) {
        await runFollower(followerDir, validator.brokerUrl!, 300 + Math.floor(random() * 3_000), i);
        const check = new Database(join(followerDir, "chain.db"), { readonly: true });
        expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
        check.close();
        const store = ChainStore.open(join(followerDir, "chain.db"), chain.genesis);
        const source = ChainStore.open(join(work.path, "validator", "chain.db"), chain.genesis);
        try {
          expect(store.tip.height).toBeGreaterThanOrEqual(lastHeight);
          lastHeight = store.tip.height;
          const replay = genesisStore(chain.genesis);
          for (let h = 1; h <= store.tip.height; h++) {
            const block = store.blockAt(h)!;
            expect(toHex(blockHash(block.header))).toBe(toHex(blockHash(source.blockAt(h)!.header)));
            const applied = applyBlock(replay.store, block, replay.parent, { chainId: CHAIN_ID });
            replay.store.commit(applied.changes, applied.tree);
            replay.parent = { height: h, hash: applied.hash, slot: block.header.slot, timestamp: block.header.timestamp };
          }
          expect(toHex(replay.store.root)).toBe(toHex(store.state.root));
        } finally {
          store.close();
          source.close();
        }
      }
      report("sync-kills", { kills: KILLS, followerHeight: lastHeight, validatorHeight: validator.status().height, integrityChecks: KILLS });
      expect(lastHeight).toBeGreaterThan(0);
    } finally {
      clearInterval(traffic);
      await validator.stop();
    }
  }, 1_800_000);
});
