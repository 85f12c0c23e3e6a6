import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatAddress } from "../../src/core/crypto/address.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { mosquittoBroker } from "../fixtures/brokers.js";
import { testIdentity } from "../fixtures/chain.js";
import { CLI_ENTRY, meshchain } from "../fixtures/cli.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();

/** The CLI without blocking this process (the node we started keeps writing its log to us meanwhile). */
function meshchainAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ status: e === null ? 0 : typeof e.code === "number" ? e.code : -1, stdout, stderr }),
    );
  });
}

/** A port held open by this test, as another program would hold it. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  return { port: typeof address === "object" && address !== null ? address.port : 0, server };
}

const running: ChildProcessWithoutNullStreams[] = [];
const held: Server[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((r) => s.close(r));
  for (const c of running.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
  }
});

function startNode(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_ENTRY, "start", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe("meshchain start: ports that are taken", () => {
  it("fails at once on an explicit --broker-port that is taken, before writing anything", async () => {
    const { port, server } = await holdPort();
    held.push(server);
    const dataDir = join(dir(), "node");
    const r = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker-port", String(port), "--api", "none"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error [PORT_IN_USE]: --broker-port ${port}: 127.0.0.1:${port} is already in use`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("refuses --broker-port where no embedded broker runs", () => {
    const dataDir = join(dir(), "node");
    const r = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker", "mqtt://127.0.0.1:1", "--broker-port", "1884", "--api", "none"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("(--broker-port) is the embedded broker's port");
    expect(existsSync(dataDir)).toBe(false);
  });

  it("fails at once on an --api-port that is taken, while its embedded broker would run, before writing anything", async () => {
    const { port, server } = await holdPort();
    held.push(server);
    const dataDir = join(dir(), "node");
    const r = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker-port", "0", "--api-port", String(port)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error [PORT_IN_USE]: --api-port ${port}`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("exits non-zero, not hanging, when the API cannot start after the node and its broker did", async () => {
    const dataDir = dir();
    ensureDevNetwork(dataDir, () => Date.now());
    // A token file others can read: found only once the node holds its directory and its broker runs.
    writeFileSync(join(dataDir, "api.token"), `${"ab".repeat(32)}\n`, { mode: 0o644 });
    chmodSync(join(dataDir, "api.token"), 0o644);
    const node = startNode(["--dev", "--data-dir", dataDir, "--broker-port", "0", "--api-port", "0"]);
    expect(await node.exited).toBe(1);
    expect(node.output()).toContain('"msg":"embedded MQTT broker listening"');
    expect(node.output()).toContain("error [TOKEN_FILE_INSECURE]");
    expect(node.output()).toContain('"msg":"node stopped"');
  });
});

describe("meshchain start, status and tx transfer over the hardened API", () => {
  it("reads the token from the data directory, tells accepted from queued, and logs no broker password", async () => {
    const password = "pw-Kq83!zz";
    const broker = await mosquittoBroker({ user: { name: "meshchain", password } });
    try {
      const url = broker.url.replace("mqtt://", `mqtt://meshchain:${encodeURIComponent(password)}@`);
      const dataDir = dir();
      const node = startNode(["--dev", "--data-dir", dataDir, "--broker", url, "--radio", url, "--api-port", "0", "--slot-ms", "500", "--heartbeat-slots", "1000", "--status-interval", "300", "--log-level", "trace"]);
      await waitFor(() => node.output().includes('"msg":"local API listening"') || node.child.exitCode !== null, 30_000, "the API to listen");
      const api = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(node.output())?.[1] as string;
      expect(api, node.output()).toBeDefined();
      const tokenFile = join(dataDir, "api.token");
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(tokenFile, "utf8")).toMatch(/^[0-9a-f]{64}\n$/);

      const status = await meshchainAsync(["status", "--api", api, "--data-dir", dataDir, "--json"]);
      expect(status.status, status.stderr).toBe(0);
      const to = formatAddress(testIdentity("cli-api-recipient").address);
      const transfer = (nonce: number, extra: string[] = []) =>
        meshchainAsync(["tx", "transfer", "--key", join(dataDir, "node.key"), "--to", to, "--amount", "5", "--fee", "2000", "--nonce", String(nonce), "--api", api, "--json", ...extra]);
      const accepted = await transfer(0, ["--data-dir", dataDir]);
      expect(accepted.status, accepted.stderr).toBe(0);
      expect(JSON.parse(accepted.stdout)).toMatchObject({ sent: true, status: "accepted" });
      const queued = await transfer(2, ["--data-dir", dataDir]);
      expect(queued.status, queued.stderr).toBe(0);
      expect(JSON.parse(queued.stdout)).toMatchObject({ sent: true, status: "queued", queuedBecause: expect.stringContaining("waits for nonce 1") });
      // Another directory (no token there): the node refuses, and the CLI says what to do.
      const elsewhere = dir();
      mkdirSync(join(elsewhere, "empty"));
      const refused = await transfer(1, ["--data-dir", join(elsewhere, "empty")]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("NODE_API_REFUSED");
      expect(refused.stderr).toContain("give --data-dir of the node");

      await waitFor(() => (node.output().match(/"status":\{/g) ?? []).length >= 2, 20_000, "status lines");
      node.child.kill("SIGTERM");
      expect(await node.exited).toBe(0);
      const log = node.output();
      for (const line of ['"msg":"node started"', '"msg":"radio gateway started"']) expect(log).toContain(line);
      expect(log).toContain("mqtt://meshchain:***@127.0.0.1");
      expect(log).not.toContain(password);
      expect(log).not.toContain(encodeURIComponent(password));
      expect(log).not.toContain(readFileSync(tokenFile, "utf8").trim());
    } finally {
      await broker.close();
    }
  });
});
