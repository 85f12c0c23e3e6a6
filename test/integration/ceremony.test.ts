import { copyFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { meshchain } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";
import { CliNodes, finalizedHashes, lastStatus, lines, type RunningNode } from "../fixtures/cli-nodes.js";
import { mosquittoBroker, mosquittoPath, type TestBroker } from "../fixtures/brokers.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const haveMosquitto = mosquittoPath() !== null;
if (process.env.CI !== undefined && !haveMosquitto) throw new Error("CI must install mosquitto (.ci/run)");

const dirs = tempDirsPerTest();
const nodes = new CliNodes();
let broker: TestBroker | null = null;

// Each try its own directory, nodes and broker: a test of the real-time group that fails gets a
// second try (vitest.config.ts), and init refuses a directory the first one filled.
afterEach(async () => {
  nodes.killAll();
  await broker?.close();
  broker = null;
});

/** The commands run in-process (test/fixtures/cli-in-process.ts); the nodes, and one genesis show, through the binary. */
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!haveMosquitto)("from init to a running network, with the CLI alone", () => {
  it("three validators and a follower, from init directories and a genesis made by the genesis commands, finalize blocks over mosquitto", async () => {
    const dir = dirs();
    const pass = join(dir, "passphrase");
    writeFileSync(pass, "three pis on a hill\n", { mode: 0o600 });
    const names = ["alice", "bob", "carol"];
    // Each operator, on their own Pi: init with the agreed chain id; the --json output is their card.
    // Throwaway keys, sealed light: each unlock (here, and each node's start) costs 0.1 s of CPU instead of
    // 0.9 s, taken from the tests beside this one. The default's cost is cli-setup's and key-files' to check.
    for (const name of names) writeFileSync(join(dir, `${name}.json`), await ok(["init", "--data-dir", join(dir, name), "--chain-id", "hill-net", "--passphrase-file", pass, "--light-kdf", "--json"]));
    const follower = JSON.parse(await ok(["init", "--data-dir", join(dir, "dave"), "--passphrase-file", pass, "--light-kdf", "--json"])) as { address: string; config: string };
    expect(statSync(join(dir, "alice")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "alice", "node.key")).mode & 0o777).toBe(0o600);

    // The ceremony, run by one of them.
    const draft = join(dir, "draft.json");
    await ok(["genesis", "new", "--out", draft, "--chain-id", "hill-net", "--param", "slotMs=2000", "--param", "heartbeatSlots=1"]);
    for (const name of names) await ok(["genesis", "add-validator", draft, "--card", join(dir, `${name}.json`)]);
    await ok(["genesis", "add-account", draft, "--address", follower.address, "--balance", "5000000"]);
    const final = JSON.parse(await ok(["genesis", "finalize", draft, "--out", join(dir, "genesis.json"), "--json"])) as { genesisHash: string };
    expect(final.genesisHash).toMatch(/^[0-9a-f]{64}$/);

    // Every operator puts the file in place, compares the hash and checks the config (Dave with the binary).
    for (const name of [...names, "dave"]) copyFileSync(join(dir, "genesis.json"), join(dir, name, "genesis.json"));
    for (const name of [...names, "dave"]) {
      const shown = name === "dave" ? meshchain(["genesis", "show", join(dir, name, "genesis.json"), "--json"]) : await cli(["genesis", "show", join(dir, name, "genesis.json"), "--json"]);
      expect((JSON.parse(shown.stdout) as { genesisHash: string }).genesisHash).toBe(final.genesisHash);
      await ok(["config", "check", join(dir, name, "meshchain.toml")]);
    }

    broker = await mosquittoBroker();
    const url = broker.url;
    const validators = names.map((name) => nodes.start(name, join(dir, name, "meshchain.toml"), url));
    const dave = nodes.start("dave", follower.config, url);
    await nodes.waitOrTell(() => validators.every((v) => finalizedHashes(v).has(3)), 180_000, "three validators to finalize height 3");
    await nodes.waitOrTell(() => lastStatus(dave).height >= 3, 60_000, "the follower to follow");

    const roles = (r: RunningNode) => lines(r).find((l) => l.msg === "node started")?.role;
    expect(validators.map(roles)).toEqual(["validator", "validator", "validator"]);
    expect(roles(dave)).toBe("follower");
    for (const h of [1, 2, 3]) expect(new Set(validators.map((v) => finalizedHashes(v).get(h))).size, `height ${h}`).toBe(1);
    // Nothing was submitted: the heartbeat alone makes the chain advance.
    expect(lines(validators[0]!).some((l) => l.msg === "finalized" && l.txs === 0)).toBe(true);

    for (const r of [dave, ...validators]) r.child.kill("SIGTERM");
    expect(await Promise.all([dave, ...validators].map((r) => r.exited))).toEqual([0, 0, 0, 0]);
  }, 300_000);
});
