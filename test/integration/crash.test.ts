import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, genesisStore, testChain } from "../fixtures/chain.js";
import { tempDir } from "../fixtures/temp.js";
import { seededRandom } from "../fixtures/random.js";

/** 5 in `npm test`; `npm run soak` kills 200 times (MESHCHAIN_KILLS). */
const KILLS = Number(process.env.MESHCHAIN_KILLS ?? 5);
const writer = join(import.meta.dirname, "../fixtures/crash-writer.ts");

/** Start the writer, SIGKILL it `killAfterMs` after it reports ready, and resolve with the last height it reported. */
function runWriter(db: string, killAfterMs: number): Promise<{ lastReported: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    // tsx as an in-process loader: its CLI would run the writer in a grandchild that SIGKILL misses.
    const child = spawn(process.execPath, ["--import", "tsx", writer, db], { stdio: ["ignore", "pipe", "pipe"], cwd: join(import.meta.dirname, "../..") });
    let lastReported = -1;
    let buffer = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const [word, n] = line.split(" ");
        if (word === "committed" || word === "ready") lastReported = Math.max(lastReported, Number(n));
        if (word === "ready" && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve({ lastReported, child });
      else reject(new Error(`writer exited on its own: ${stderr}`));
    });
  });
}

describe("crash safety", () => {
  const dir = tempDir("meshchain-crash-");
  afterAll(() => dir.cleanup());

  it(`reopens at the last whole block after ${KILLS} SIGKILLs at random moments`, async () => {
    const { genesis } = testChain();
    const db = join(dir.path, "chain.db");
    const random = seededRandom(20261121);
    let previousHeight = 0;
    for (let i = 0; i < KILLS; i++) {
      const { lastReported } = await runWriter(db, Math.floor(random() * 400));
      const check = new Database(db, { readonly: true });
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
      check.close();
      const store = ChainStore.open(db, genesis);
      try {
        const tip = store.tip;
        // Every block the writer reported as committed survived, and nothing went backwards.
        expect(tip.height).toBeGreaterThanOrEqual(lastReported);
        expect(tip.height).toBeGreaterThanOrEqual(previousHeight);
        previousHeight = tip.height;
        // A clean replay of the stored blocks from genesis gives the same state and tip.
        const replay = genesisStore(genesis);
        for (let h = 1; h <= tip.height; h++) {
          const block = store.blockAt(h);
          expect(block).not.toBeNull();
          const applied = applyBlock(replay.store, block!, replay.parent, { chainId: CHAIN_ID });
          replay.store.commit(applied.changes, applied.tree);
          replay.parent = { height: h, hash: applied.hash, slot: block!.header.slot, timestamp: block!.header.timestamp };
        }
        expect(toHex(replay.store.root)).toBe(toHex(store.state.root));
        expect(toHex(replay.parent.hash)).toBe(toHex(tip.hash));
        expect(store.blockAt(tip.height + 1)).toBeNull();
      } finally {
        store.close();
      }
    }
    expect(previousHeight).toBeGreaterThan(KILLS);
  }, 180_000 + KILLS * 5_000);
});
