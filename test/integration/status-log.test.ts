import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { createLogger, resolveLogFormat } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { signTx } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { GENESIS_TIME, testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

/** A destination that keeps what is written, line by line. */
function capture(isTTY: boolean): Writable & { isTTY: boolean; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter((l) => l !== ""));
      done();
    },
  });
  return Object.assign(stream, { isTTY, lines });
}

describe("logs", () => {
  it("are pretty, one line per event, on a terminal, and pino JSON otherwise", () => {
    expect(resolveLogFormat("auto", { isTTY: true })).toBe("pretty");
    expect(resolveLogFormat("auto", { isTTY: false })).toBe("json");
    expect(resolveLogFormat("json", { isTTY: true })).toBe("json");
    const json = capture(false);
    createLogger({ destination: json }).info({ height: 3 }, "block");
    expect(JSON.parse(json.lines[0] as string)).toMatchObject({ level: 30, height: 3, msg: "block" });
    const pretty = capture(false);
    createLogger({ format: "pretty", destination: pretty }).info({ height: 3, status: { height: 3 } }, "Synced - head 3");
    // The status line's figures stay in the JSON; in a terminal its message says them.
    expect(pretty.lines).toEqual([expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: Synced - head 3 \{"height":3\}$/)]);
    expect(createLogger({ level: "warn", destination: json }).isLevelEnabled("info")).toBe(false);
  });

  it("carry one status line when something changed, not the same line at every interval", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const out = capture(false);
    // A lone validator whose heartbeat is an hour away: nothing changes between status intervals.
    const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 1_800, statusIntervalMs: 1_000 }, { clock, logger: createLogger({ destination: out }), random: seededRandom(1) });
    await node.start();
    try {
      const statusLines = () => out.lines.map((l) => JSON.parse(l) as { msg: string; status?: unknown }).filter((r) => r.status !== undefined);
      clock.advance(10_000);
      expect(statusLines().map((r) => r.msg)).toEqual(["Synced - head 0 (1s ago) - finalized 0 (1s ago) - peers 0 - mempool 0"]);
      // Still alive: repeated once every 30 intervals.
      clock.advance(21_000);
      expect(statusLines()).toHaveLength(2);
      // A block: the line changes, and is logged at the next interval.
      node.submitTransaction(devTransfer(dev));
      clock.advance(2_000);
      expect(statusLines().at(-1)?.msg).toMatch(/^Synced - head 1 /);
    } finally {
      await node.stop();
    }
  });
});

function devTransfer(dev: ReturnType<typeof ensureDevNetwork>): Uint8Array {
  return signTx({ sender: dev.identity.address, nonce: 0, fee: 2_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: testIdentity("log-recipient").address, amount: 5n } }, dev.genesis.chainId, dev.identity.ed25519).bytes;
}
