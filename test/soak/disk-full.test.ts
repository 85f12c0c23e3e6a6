import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDir } from "../fixtures/temp.js";
import { report } from "./report.js";

/**
 * The fault campaign's disk half: a lone validator on a 4 MiB tmpfs, with transfers coming in, while
 * the disk is filled to the last byte and freed again, CYCLES times. The node never stops; every
 * transfer it acknowledged becomes final; one it could not keep is refused, never acknowledged.
 */
const CYCLES = Number(process.env.MESHCHAIN_DISK_CYCLES ?? 10);

function fill(dir: string): void {
  for (const size of [256 * 1024, 16 * 1024, 1024, 64]) {
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(dir, `filler-${size}-${i}`), Buffer.alloc(size, 1));
      } catch {
        break;
      }
    }
  }
}

function free(dir: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith("filler-")) rmSync(join(dir, f));
}

const canMount = process.getuid?.() === 0 && spawnSync("mount", ["--version"]).status === 0;

describe("soak: a disk that fills up", () => {
  it.skipIf(!canMount)(`a validator through ${CYCLES} full-disk cycles keeps every acknowledged transfer`, async () => {
    const work = tempDir("meshchain-disk-");
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", work.path]);
    if (mounted.status !== 0) {
      console.warn(`skipped: cannot mount a tmpfs here (${mounted.stderr.toString().trim()})`);
      return;
    }
    const { genesis, validators, users } = testChain({ validators: 1, users: 4 });
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dataDir = join(work.path, "node");
    mkdirSync(dataDir);
    const node = new MeshChainNode(
      { dataDir, genesis, identity: validators[0]!, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 60_000 },
      { clock, logger: silentLogger(), random: seededRandom(1) },
    );
    await node.start();
    const nonces = [0, 0, 0, 0];
    const acknowledged: string[] = [];
    let refused = 0;
    const submitSome = (n: number) => {
      for (let i = 0; i < n; i++) {
        const u = (acknowledged.length + refused) % 4;
        try {
          acknowledged.push(node.submitTransaction(transfer(users[u]!, nonces[u]!, users[(u + 1) % 4]!.address, 3n).bytes).hash);
          nonces[u]!++;
        } catch {
          refused++;
        }
      }
    };
    let faults = 0;
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        submitSome(8);
        clock.advance(2_000 * 3);
        fill(work.path);
        submitSome(8);
        clock.advance(2_000 * 5);
        if (node.status().storage.fault !== null) faults++;
        free(work.path);
        clock.advance(2_000 * 3);
        expect(node.status().storage.fault).toBeNull();
      }
      clock.advance(2_000 * 10);
      const final = acknowledged.filter((h) => node.finalizedTxHeight(Buffer.from(h, "hex")) !== null).length;
      report("disk-full", { cycles: CYCLES, faultsSeen: faults, acknowledged: acknowledged.length, final, refusedWhileFull: refused, height: node.status().height });
      expect(faults).toBe(CYCLES);
      expect(final).toBe(acknowledged.length);
    } finally {
      await node.stop();
      spawnSync("umount", ["-l", work.path]);
      work.cleanup();
    }
  });
});
