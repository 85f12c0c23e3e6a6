import { describe, expect, it } from "vitest";
import { ApiServer } from "../../src/api/server.js";
import { toHex } from "../../src/core/bytes.js";
import { signTx } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

const TOKEN = "ab".repeat(32);
const rpc = async (url: string, body: string) =>
  (await fetch(`${url}/rpc`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body })).json() as Promise<{ result?: { hash: string; status: string }; error?: { code: number; data?: { code: string } } }>;

describe("local API", () => {
  it("reports status, health, readiness and metrics, and takes transactions into blocks", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 60, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(1) });
    await node.start();
    const api = new ApiServer({ host: "127.0.0.1", port: 0, token: TOKEN }, node);
    const url = await api.start();
    try {
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true });
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^meshchain_head_height_blocks 0$/m);
      expect(metrics).toMatch(/^meshchain_validator_weight_gini_ratio 0$/m);
      // Every family's name ends in its unit, or names what it counts (promtool forbids _count outside histograms).
      for (const name of metrics.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2] as string)) {
        expect(name).toMatch(/_(blocks|seconds|bytes|ratio|code|total|per_second|transactions|peers|by_state|frames|messages|active)$/);
      }
      // Counters, and only counters, end in _total (Prometheus's convention).
      expect(metrics).toMatch(/^# TYPE meshchain_sync_fallbacks_total counter$/m);
      expect(metrics).toMatch(/^meshchain_sync_fallbacks_total 0$/m);

      const to = testIdentity("api-recipient").address;
      const tx = signTx({ sender: dev.identity.address, nonce: 0, fee: 2_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to, amount: 7n } }, dev.genesis.chainId, dev.identity.ed25519);
      const accepted = await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "submitTransaction", params: { tx: toHex(tx.bytes) } }));
      expect(accepted.result?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(accepted.result?.status).toBe("accepted");
      expect(((await (await fetch(`${url}/status`)).json()) as { mempool: { transactions: number } }).mempool.transactions).toBe(1);
      // The transaction does not wait for the heartbeat: the next slot carries it.
      clock.advance(2_000);
      const status = (await (await fetch(`${url}/status`)).json()) as { height: number; mempool: { transactions: number } };
      expect(status.height).toBe(1);
      expect(status.mempool.transactions).toBe(0);
      const found = await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 8, method: "getTransaction", params: { hash: accepted.result?.hash } }));
      expect(found.result).toMatchObject({ final: true, height: 1 });

      // Sent again once final: the answer says where it is, not that it failed.
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "submitTransaction", params: { tx: toHex(tx.bytes) } }))).result).toMatchObject({ status: "included", height: 1, final: true });
      // The pool counts what it turned away, by reason: the resubmission above was already known to it.
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^meshchain_mempool_refusals_total\{reason="ALREADY_KNOWN"\} 1$/m);
      // Refusals are typed and change nothing.
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 3, method: "submitTransaction", params: { tx: "00ff" } }))).error?.code).toBe(-32000);
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 4, method: "submitTransaction", params: { tx: "xyz" } }))).error?.code).toBe(-32602);
      expect((await rpc(url, "{not json")).error?.code).toBe(-32700);
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 5, method: "mine" }))).error?.code).toBe(-32601);
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 6, method: "getTransaction", params: { hash: "12" } }))).error?.code).toBe(-32602);
      expect((await rpc(url, JSON.stringify({ jsonrpc: "2.0", id: 7, method: "peers" }))).result).toEqual([]);
      const nowhere = await fetch(`${url}/nowhere`);
      expect(nowhere.status).toBe(404);
      expect(await nowhere.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32005, data: { code: "NOT_FOUND" } } });
      expect(node.status().height).toBe(1);
    } finally {
      await api.stop();
      await node.stop();
    }
  });
});
