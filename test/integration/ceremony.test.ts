import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { meshchain } from "../fixtures/cli.js";
import { mosquittoBroker, mosquittoPath, type TestBroker } from "../fixtures/brokers.js";
import { tempDir } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const ROOT = join(import.meta.dirname, "../..");
const haveMosquitto = mosquittoPath() !== null;
if (process.env.CI !== undefined && !haveMosquitto) throw new Error("CI must install mosquitto (.ci/run)");

interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  out: string;
  readonly exited: Promise<number | null>;
}

const work = tempDir("meshchain-ceremony-");
const running: Running[] = [];
let broker: TestBroker | null = null;

afterAll(async () => {
  for (const r of running) r.child.kill("SIGKILL");
  await broker?.close();
  work.cleanup();
});

function ok(args: string[]): string {
  const r = meshchain(args);
  expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** `meshchain start --config FILE`, as the docs say; the broker comes from the environment, as a systemd drop-in would give it. */
function start(name: string, config: string, brokerUrl: string): Running {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "start", "--config", config, "--api-port", "0", "--status-interval", "500"], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MESHCHAIN_BROKER_URL: brokerUrl },
  });
  const r: Running = { name, child, out: "", exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout?.on("data", (c: Buffer) => (r.out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (r.out += c.toString()));
  running.push(r);
  return r;
}

const lines = (r: Running): Record<string, unknown>[] => r.out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
const finalizedHashes = (r: Running): Map<number, string> => new Map(lines(r).filter((l) => l.msg === "finalized").map((l) => [l.height as number, l.hash as string]));
/** The figures of the node's last status line (its record carries them under `status`). */
/** On a timeout, what each node last said: enough to tell a slow machine from a stuck chain. */
async function waitOrTell(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs, what);
  } catch (e) {
    const tails = running.map((r) => `${r.name}: ${r.out.trimEnd().split("\n").slice(-3).join("\n  ")}`);
    throw new Error(`${(e as Error).message}\n${tails.join("\n")}`);
  }
}

const lastStatus = (r: Running): { height: number; finalized: number } =>
  (lines(r).filter((l) => typeof l.status === "object" && l.status !== null).pop()?.status as { height: number; finalized: number } | undefined) ?? { height: 0, finalized: 0 };

describe.skipIf(!haveMosquitto)("from init to a running network, with the CLI alone", () => {
  it("three validators and a follower, from init directories and a genesis made by the genesis commands, finalize blocks over mosquitto", async () => {
    const dir = work.path;
    const pass = join(dir, "passphrase");
    writeFileSync(pass, "three pis on a hill\n", { mode: 0o600 });
    const names = ["alice", "bob", "carol"];
    // Each operator, on their own Pi: init with the agreed chain id; the --json output is their card.
    for (const name of names) writeFileSync(join(dir, `${name}.json`), ok(["init", "--data-dir", join(dir, name), "--chain-id", "hill-net", "--passphrase-file", pass, "--json"]));
    const follower = JSON.parse(ok(["init", "--data-dir", join(dir, "dave"), "--passphrase-file", pass, "--json"])) as { address: string; config: string };
    expect(statSync(join(dir, "alice")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "alice", "node.key")).mode & 0o777).toBe(0o600);

    // The ceremony, run by one of them.
    const draft = join(dir, "draft.json");
    ok(["genesis", "new", "--out", draft, "--chain-id", "hill-net", "--param", "slotMs=2000", "--param", "heartbeatSlots=1"]);
    for (const name of names) ok(["genesis", "add-validator", draft, "--card", join(dir, `${name}.json`)]);
    ok(["genesis", "add-account", draft, "--address", follower.address, "--balance", "5000000"]);
    const final = JSON.parse(ok(["genesis", "finalize", draft, "--out", join(dir, "genesis.json"), "--json"])) as { genesisHash: string };
    expect(final.genesisHash).toMatch(/^[0-9a-f]{64}$/);

    // Every operator puts the file in place and compares the hash (two of them shown: each CLI run costs seconds here).
    for (const name of [...names, "dave"]) copyFileSync(join(dir, "genesis.json"), join(dir, name, "genesis.json"));
    for (const name of ["carol", "dave"]) {
      expect((JSON.parse(ok(["genesis", "show", join(dir, name, "genesis.json"), "--json"])) as { genesisHash: string }).genesisHash).toBe(final.genesisHash);
      ok(["config", "check", join(dir, name, "meshchain.toml")]);
    }

    broker = await mosquittoBroker();
    const url = broker.url;
    const validators = names.map((name) => start(name, join(dir, name, "meshchain.toml"), url));
    const dave = start("dave", follower.config, url);
    await waitOrTell(() => validators.every((v) => finalizedHashes(v).has(3)), 180_000, "three validators to finalize height 3");
    await waitOrTell(() => lastStatus(dave).height >= 3, 60_000, "the follower to follow");

    const roles = (r: Running) => lines(r).find((l) => l.msg === "node started")?.role;
    expect(validators.map(roles)).toEqual(["validator", "validator", "validator"]);
    expect(roles(dave)).toBe("follower");
    for (const h of [1, 2, 3]) expect(new Set(validators.map((v) => finalizedHashes(v).get(h))).size, `height ${h}`).toBe(1);
    // Nothing was submitted: the heartbeat alone makes the chain advance.
    expect(lines(validators[0]!).some((l) => l.msg === "finalized" && l.txs === 0)).toBe(true);

    for (const r of [dave, ...validators]) r.child.kill("SIGTERM");
    expect(await Promise.all([dave, ...validators].map((r) => r.exited))).toEqual([0, 0, 0, 0]);
  }, 300_000);
});
