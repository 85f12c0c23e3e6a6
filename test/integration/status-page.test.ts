import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ApiServer } from "../../src/api/server.js";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
/** Debian's chromium, as .ci/run installs it. */
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI !== undefined) throw new Error("chromium is missing under CI (.ci/run installs it)");

/** The little of the DOM these checks use (this project's type-check has no DOM library). */
interface PageGlobals {
  readonly document: { getElementById(id: string): { textContent: string | null } | null; readonly documentElement: { readonly scrollWidth: number } };
}

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("the status page at GET /", () => {
  it.skipIf(!haveChromium)("loads with no console error, shows the node's real height, updates when a block is produced, and fits a phone", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 2_000 }, { clock, logger: silentLogger(), random: seededRandom(1) });
    await node.start();
    const api = new ApiServer({ host: "127.0.0.1", port: 0 }, node);
    const url = await api.start();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      clock.advance(6_000);
      const height = node.status().height;
      expect(height).toBe(3);
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
      const requested: string[] = [];
      page.on("request", (r) => requested.push(r.url()));

      await page.goto(`${url}/?interval=500`);
      await page.waitForFunction((h) => (globalThis as unknown as PageGlobals).document.getElementById("head-height")?.textContent === String(h), height, { timeout: 20_000 });
      expect(await page.textContent("#finalized-height")).toBe(String(node.status().finalizedHeight));
      expect(await page.textContent("#sync")).toBe("synced");
      expect(await page.locator("#validator-table tbody tr").count()).toBe(1);
      expect(await page.textContent("#validator-table tbody")).toContain("(this node)");
      expect(await page.locator("#block-table tbody tr").count()).toBe(3);

      // A block is produced: the page follows without a reload.
      clock.advance(2_000);
      expect(node.status().height).toBe(height + 1);
      await page.waitForFunction((h) => (globalThis as unknown as PageGlobals).document.getElementById("head-height")?.textContent === String(h), height + 1, { timeout: 20_000 });
      expect(await page.locator("#block-table tbody tr").count()).toBe(4);

      // The heights plot draws the node's history (one sample per status interval) and what the page polled since.
      expect(await page.locator("#heights polyline").count()).toBe(2);
      // Readable on a phone: nothing wider than the screen (tables scroll inside their panels).
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // Self-contained: it asked nothing of anyone but this node.
      expect(requested.filter((r) => !r.startsWith(url))).toEqual([]);
      expect(problems).toEqual([]);
      if (process.env.STATUS_PAGE_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.STATUS_PAGE_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
      await api.stop();
      await node.stop();
    }
  }, 60_000);
});
