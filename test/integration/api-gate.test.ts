import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiServer, MAX_BODY_BYTES, type NodeApi } from "../../src/api/server.js";
import { toHex } from "../../src/core/bytes.js";
import { signTx } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testIdentity } from "../fixtures/chain.js";
import { rawRequest, type RawResponse } from "../fixtures/http.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const TOKEN = "5e".repeat(32);

interface RpcAnswer {
  readonly jsonrpc: string;
  readonly id: unknown;
  readonly result?: { hash: string; status: string; reason?: string; height?: number; final?: boolean };
  readonly error?: { code: number; message: string; data: { code: string } };
}

/** Every refusal is a JSON-RPC error object with a numeric code and a reason in data.code. */
function refusal(r: RawResponse, status: number, code: number, reason: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers["content-type"]).toBe("application/json");
  const body = r.json<RpcAnswer>();
  expect(body.jsonrpc).toBe("2.0");
  expect(body.error?.code).toBe(code);
  expect(body.error?.data.code).toBe(reason);
  expect(typeof body.error?.message).toBe("string");
}

describe("the local API's gate, over real HTTP to a real node", () => {
  let clock: ManualClock;
  let node: MeshChainNode;
  let api: ApiServer;
  let url: string;
  let port: string;
  let dev: ReturnType<typeof ensureDevNetwork>;
  const to = testIdentity("gate-recipient").address;
  const transferTx = (nonce: number, amount = 5n) =>
    signTx({ sender: dev.identity.address, nonce, fee: 2_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to, amount } }, dev.genesis.chainId, dev.identity.ed25519);
  const submitBody = (bytes: Uint8Array, id = 1) => JSON.stringify({ jsonrpc: "2.0", id, method: "submitTransaction", params: { tx: toHex(bytes) } });
  const post = (body: string, headers: Record<string, string> = {}, host?: string) =>
    rawRequest(url, { method: "POST", path: "/rpc", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers }, body, ...(host === undefined ? {} : { host }) });

  beforeEach(async () => {
    const dataDir = dir();
    clock = new ManualClock(GENESIS_TIME * 1000);
    dev = ensureDevNetwork(dataDir, () => clock.now());
    node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 60, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(3) });
    await node.start();
    api = new ApiServer({ host: "127.0.0.1", port: 0, token: TOKEN }, node);
    url = await api.start();
    port = new URL(url).port;
  });

  afterEach(async () => {
    await api.stop();
    await node.stop();
  });

  it("refuses a CSRF POST: text/plain and form bodies never reach the node, even carrying a valid request", async () => {
    const body = submitBody(transferTx(0).bytes);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"]) {
      refusal(await post(body, { "content-type": type }), 415, -32003, "UNSUPPORTED_MEDIA_TYPE");
    }
    refusal(await rawRequest(url, { method: "POST", path: "/rpc", body }), 415, -32003, "UNSUPPORTED_MEDIA_TYPE");
    expect(node.status().mempool.transactions).toBe(0);
    // JSON with a charset parameter is JSON.
    expect((await post(body, { "content-type": "application/json; charset=utf-8" })).json<RpcAnswer>().result?.status).toBe("accepted");
  });

  it("refuses a foreign Host (DNS rebinding) on every route, and a Host with another port", async () => {
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `127.0.0.1:${Number(port) + 1}`, "127.0.0.1", `localhost.:${port}`, "@:1"]) {
      refusal(await rawRequest(url, { path: "/status", host }), 403, -32002, "FORBIDDEN_HOST");
      refusal(await post(submitBody(transferTx(0).bytes), {}, host), 403, -32002, "FORBIDDEN_HOST");
    }
    refusal(await rawRequest(url, { path: "/health", host: null }), 403, -32002, "FORBIDDEN_HOST");
    expect(node.status().mempool.transactions).toBe(0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) expect((await rawRequest(url, { path: "/health", host })).status).toBe(200);
  });

  it("refuses requests a web page's script sends (a foreign or null Origin), and takes its own origin", async () => {
    for (const origin of ["http://evil.example", `http://evil.example:${port}`, "null", `https://127.0.0.1:${port}`, `http://127.0.0.1:${Number(port) + 1}`]) {
      refusal(await post(submitBody(transferTx(0).bytes), { origin }), 403, -32002, "FORBIDDEN_ORIGIN");
      refusal(await rawRequest(url, { path: "/status", headers: { origin } }), 403, -32002, "FORBIDDEN_ORIGIN");
    }
    expect(node.status().mempool.transactions).toBe(0);
    expect((await rawRequest(url, { path: "/status", headers: { origin: `http://localhost:${port}` } })).status).toBe(200);
  });

  it("needs the token for a submit, not for reading; a wrong token is refused like a missing one", async () => {
    const tx = transferTx(0);
    refusal(await post(submitBody(tx.bytes), { authorization: "" }), 401, -32001, "TOKEN_MISSING");
    refusal(await post(submitBody(tx.bytes), { authorization: `Bearer ${"00".repeat(32)}` }), 401, -32001, "TOKEN_WRONG");
    refusal(await post(submitBody(tx.bytes), { authorization: `Bearer ${TOKEN.slice(1)}` }), 401, -32001, "TOKEN_WRONG");
    refusal(await post(submitBody(tx.bytes), { authorization: `Basic ${TOKEN}` }), 401, -32001, "TOKEN_MISSING");
    const unauthorized = await post(submitBody(tx.bytes, 42), { authorization: "" });
    expect(unauthorized.headers["www-authenticate"]).toBe("Bearer");
    expect(unauthorized.json<RpcAnswer>().id).toBe(42);
    expect(node.status().mempool.transactions).toBe(0);
    // Reads need no token on loopback.
    for (const path of ["/status", "/health", "/ready", "/metrics"]) expect((await rawRequest(url, { path })).status).toBe(200);
    const read = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "status" }), { authorization: "" });
    expect(read.json<RpcAnswer>().error).toBeUndefined();
    expect((await post(submitBody(tx.bytes))).json<RpcAnswer>().result?.status).toBe("accepted");
    // An API started without a token changes nothing, whatever is presented.
    const tokenless = new ApiServer({ host: "127.0.0.1", port: 0 }, node);
    const tokenlessUrl = await tokenless.start();
    try {
      const r = await rawRequest(tokenlessUrl, { method: "POST", path: "/rpc", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: submitBody(transferTx(1).bytes) });
      refusal(r, 401, -32001, "TOKEN_NOT_CONFIGURED");
    } finally {
      await tokenless.stop();
    }
    expect(node.status().mempool.transactions).toBe(1);
  });

  it("limits the body size, and answers unknown routes, wrong methods and bad JSON-RPC with JSON errors", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: { pad: "x".repeat(MAX_BODY_BYTES) } });
    // Streamed (chunked) past the limit, and declared past it up front.
    refusal(await post(big), 413, -32004, "BODY_TOO_LARGE");
    refusal(await post(big, { "content-length": String(Buffer.byteLength(big)) }), 413, -32004, "BODY_TOO_LARGE");
    refusal(await rawRequest(url, { path: "/nowhere" }), 404, -32005, "NOT_FOUND");
    refusal(await rawRequest(url, { path: "/rpc" }), 405, -32005, "METHOD_NOT_ALLOWED");
    refusal(await rawRequest(url, { method: "POST", path: "/status", headers: { "content-type": "application/json" }, body: "{}" }), 405, -32005, "METHOD_NOT_ALLOWED");
    refusal(await rawRequest(url, { method: "DELETE", path: "/rpc" }), 405, -32005, "METHOD_NOT_ALLOWED");
    refusal(await post("{not json"), 200, -32700, "PARSE_ERROR");
    refusal(await post("[]"), 200, -32600, "INVALID_REQUEST");
    refusal(await post(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "mine" })), 200, -32601, "METHOD_NOT_FOUND");
    refusal(await post(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "submitTransaction", params: { tx: "zz" } })), 200, -32602, "INVALID_PARAMS");
    refusal(await post(submitBody(Uint8Array.of(0, 255))), 200, -32000, "TRUNCATED");
    expect(node.status().mempool.transactions).toBe(0);
  });

  it("answers malformed HTTP with a JSON-RPC error too", async () => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString()));
    const closed = new Promise((r) => socket.once("close", r));
    socket.write("GARBAGE / HTTP/9.9\r\n\r\n");
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as RpcAnswer;
    expect(body.error).toMatchObject({ code: -32600, data: { code: "BAD_HTTP" } });
  });

  it("tells the truth about a submit: accepted, queued (nonce ahead), included, or a typed rejection", async () => {
    const first = transferTx(0);
    const ahead = transferTx(2);
    const answer = async (bytes: Uint8Array) => (await post(submitBody(bytes))).json<RpcAnswer>();
    expect((await answer(first.bytes)).result).toMatchObject({ status: "accepted" });
    // A client retrying after a lost answer is told the same, not that it failed.
    expect((await answer(first.bytes)).result).toMatchObject({ status: "accepted" });
    const queued = await answer(ahead.bytes);
    expect(queued.result).toMatchObject({ status: "queued", reason: expect.stringContaining("nonce 2 waits for nonce 1") });
    expect((await answer(ahead.bytes)).result).toMatchObject({ status: "queued" });
    expect(node.status().mempool.transactions).toBe(1);
    // The gap fills: both are in the pool, and the next block carries them.
    expect((await answer(transferTx(1).bytes)).result).toMatchObject({ status: "accepted" });
    expect(node.status().mempool.transactions).toBe(3);
    clock.advance(2_000);
    expect(node.status().height).toBe(1);
    expect((await answer(ahead.bytes)).result).toMatchObject({ status: "included", height: 1, final: true });
    // Something really refused stays a typed refusal: spending more than the balance.
    const broke = signTx({ sender: dev.identity.address, nonce: 3, fee: 2_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to, amount: 10n ** 18n } }, dev.genesis.chainId, dev.identity.ed25519);
    const refused = await answer(broke.bytes);
    expect(refused.error?.code).toBe(-32000);
    expect(refused.error?.data.code).toBe("INVALID");
  });

  it("answers an internal fault and a stopped node with JSON-RPC errors, not bare 500 pages", async () => {
    const failing: NodeApi = {
      status: () => node.status(),
      weightGini: () => node.weightGini(),
      metricsText: () => {
        throw new TypeError("broken metric at mqtt://radio:hunter2@10.0.0.1");
      },
      submitTransaction: (b) => node.submitTransaction(b),
      finalizedTxHeight: (h) => node.finalizedTxHeight(h),
      peerList: () => node.peerList(),
      statusHistory: () => node.statusHistory(),
      validatorList: () => node.validatorList(),
      recentBlocks: (n) => node.recentBlocks(n),
      reads: node.reads,
      chainInfo: () => node.chainInfo(),
    };
    const faulty = new ApiServer({ host: "127.0.0.1", port: 0, token: TOKEN }, failing);
    const faultyUrl = await faulty.start();
    try {
      const r = await rawRequest(faultyUrl, { path: "/metrics" });
      refusal(r, 500, -32603, "INTERNAL");
      expect(r.text).not.toContain("hunter2");
    } finally {
      await faulty.stop();
    }
    await node.stop();
    refusal(await rawRequest(url, { path: "/status" }), 503, -32006, "NOT_RUNNING");
    refusal(await post(submitBody(transferTx(0).bytes)), 503, -32006, "NOT_RUNNING");
  });
});

describe("the local API beyond loopback", () => {
  const machine = { hostname: "hillpi", addresses: ["127.0.0.1", "::1", "192.0.2.7"] };
  const unused = (): never => {
    throw new Error("not reached: the API never starts");
  };
  const unreachedNode: NodeApi = { status: unused, weightGini: unused, metricsText: unused, submitTransaction: unused, finalizedTxHeight: unused, peerList: unused, statusHistory: unused, validatorList: unused, recentBlocks: unused, chainInfo: unused, get reads(): never {
    return unused();
  } };

  it("will not listen beyond loopback without a token", async () => {
    const api = new ApiServer({ host: "0.0.0.0", port: 0, machine }, unreachedNode);
    await expect(api.start()).rejects.toMatchObject({ code: "TOKEN_REQUIRED" });
  });

  it("needs the token for every request, and takes the machine's names and addresses as Host", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: 2_000, heartbeatSlots: 60, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(4) });
    await node.start();
    const api = new ApiServer({ host: "0.0.0.0", port: 0, token: TOKEN, machine }, node);
    const url = (await api.start()).replace("0.0.0.0", "127.0.0.1");
    const port = new URL(url).port;
    try {
      for (const path of ["/health", "/status", "/metrics", "/ready"]) {
        refusal(await rawRequest(url, { path }), 401, -32001, "TOKEN_MISSING");
        refusal(await rawRequest(url, { path, headers: { authorization: `Bearer ${"11".repeat(32)}` } }), 401, -32001, "TOKEN_WRONG");
      }
      const withToken = { authorization: `Bearer ${TOKEN}` };
      for (const host of [`127.0.0.1:${port}`, `192.0.2.7:${port}`, `hillpi:${port}`, `hillpi.local:${port}`, `[::1]:${port}`]) {
        expect((await rawRequest(url, { path: "/health", host, headers: withToken })).status, host).toBe(200);
      }
      refusal(await rawRequest(url, { path: "/health", host: `evil.example:${port}`, headers: withToken }), 403, -32002, "FORBIDDEN_HOST");
    } finally {
      await api.stop();
      await node.stop();
    }
  });

  it("reports a taken port as a typed error", async () => {
    const first = new ApiServer({ host: "127.0.0.1", port: 0 }, unreachedNode);
    const url = await first.start();
    try {
      const second = new ApiServer({ host: "127.0.0.1", port: Number(new URL(url).port) }, unreachedNode);
      await expect(second.start()).rejects.toMatchObject({ code: "CANNOT_LISTEN", message: expect.stringContaining("EADDRINUSE") });
    } finally {
      await first.stop();
    }
  });
});
