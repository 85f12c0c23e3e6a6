import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { danglingFragment, rawFlood } from "../adversarial/attacker.js";
import { testChain } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const FRAMES = Number(process.env.MESHCHAIN_FLOOD_FRAMES ?? "600000");
/**
 * What a flood may add to the follower's RSS at its peak, over its baseline. The reassembly itself holds
 * at most 16 KiB for unverified senders (its own accounting, asserted in test/adversarial); what the
 * peak shows is garbage from handling frames as fast as the broker delivers them, which the old code's
 * partials turned into 1.3 GB that was never released.
 */
const RSS_GROWTH_BOUND = 128 * 1024 * 1024;

describe("a follower under a long flood of dangling fragments from senders it never verified", () => {
  it("adds a bounded amount to its RSS, whatever the flood's length, and keeps syncing", async () => {
    const chain = testChain({ validators: 1, users: 4 });
    const validator = new MeshChainNode(
      { dataDir: dir(), genesis: chain.genesis, identity: chain.validators[0]!, slotMs: 200, heartbeatSlots: 1, statusIntervalMs: 200, network: { broker: "embedded", brokerPort: 0 } },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(1) },
    );
    await validator.start();
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../fixtures/flood-follower.ts"), dir(), validator.brokerUrl!], { stdio: ["ignore", "pipe", "inherit"] });
    const samples: { height: number; sync: string; rss: number; heap: number }[] = [];
    let buffered = "";
    child.stdout.on("data", (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const l of lines) samples.push(JSON.parse(l) as (typeof samples)[number]);
    });
    try {
      await waitFor(() => samples.at(-1)?.sync === "synced" && samples.at(-1)!.height >= 5, 60_000, "the follower to sync");
      const baseline = Math.max(...samples.slice(-10).map((s) => s.rss));
      const start = samples.length;
      for (let sent = 0; sent < FRAMES; sent += 50_000) {
        const batch = Array.from({ length: Math.min(50_000, FRAMES - sent) }, (_, i) => ({ from: 0x10000000 + ((sent + i) % 50_000), bytes: danglingFragment((sent + i) & 0xffff, 254, 255, 1) }));
        await rawFlood(validator.brokerUrl!, chain.genesis.chainId, batch);
      }
      const heightAfterFlood = validator.status().height;
      await waitFor(() => (samples.at(-1)?.height ?? 0) >= heightAfterFlood + 5, 120_000, "the follower to keep syncing after the flood");
      const during = samples.slice(start);
      const peak = Math.max(...during.map((s) => s.rss));
      const mb = (n: number) => (n / 2 ** 20).toFixed(0);
      const last = samples.at(-1)!;
      process.stdout.write(`flood: ${FRAMES} frames; follower RSS baseline ${mb(baseline)} MB, peak ${mb(peak)} MB, after ${mb(last.rss)} MB; heap baseline ${mb(samples[start - 1]!.heap)} MB, peak ${mb(Math.max(...during.map((s) => s.heap)))} MB, after ${mb(last.heap)} MB\n`);
      expect(peak - baseline).toBeLessThan(RSS_GROWTH_BOUND);
    } finally {
      child.kill("SIGTERM");
      await validator.stop();
    }
  });
});
