import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../fixtures/cli-in-process.js";
import { apiUrl, CliNodes, finalizedHashes, lastStatus, lines, type RunningNode } from "../fixtures/cli-nodes.js";
import { mosquittoBroker, mosquittoPath, type TestBroker } from "../fixtures/brokers.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

/*
 * The poa variant of test/integration/ceremony.test.ts, with nothing but the CLI: three operators
 * make a poa genesis, start over a real mosquitto and finalize; a fourth registers on the running
 * chain, the federation votes it in, and it joins at the next epoch start while nobody stops.
 */

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

/** The commands run in-process (test/fixtures/cli-in-process.ts), taking turns; the nodes through the binary. */
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!haveMosquitto)("a poa chain from init to a running federation, with the CLI alone", () => {
  it("three members finalize over mosquitto, and a fourth registers, is voted in and joins at the next epoch without stopping anyone", async () => {
    const dir = dirs();
    const pass = join(dir, "passphrase");
    writeFileSync(pass, "a federation of hills\n", { mode: 0o600 });
    const members = ["alice", "bob", "carol"];
    // Throwaway keys, sealed light: each unlock (here, each node's start, each signed command) costs 0.1 s
    // of CPU instead of 0.9 s, taken from the tests beside this one (ceremony.test.ts says where the default is checked).
    const cards = await Promise.all([...members, "erin"].map((name) => ok(["init", "--data-dir", join(dir, name), "--chain-id", "poa-net", "--passphrase-file", pass, "--light-kdf", "--json"])));
    cards.forEach((card, i) => writeFileSync(join(dir, `${[...members, "erin"][i]}.json`), card));
    const follower = JSON.parse(await ok(["init", "--data-dir", join(dir, "dave"), "--passphrase-file", pass, "--light-kdf", "--json"])) as { config: string };
    const erin = JSON.parse(cards[3]!) as { address: string; config: string };

    const draft = join(dir, "draft.json");
    // No fees on this private federation's chain, so members need no balance to propose and vote.
    await ok(["genesis", "new", "--out", draft, "--chain-id", "poa-net", "--consensus", "poa", "--param", "slotMs=2000", "--param", "heartbeatSlots=1", "--param", "epochLength=5", "--param", "minFeePerByte=0"]);
    for (const name of members) await ok(["genesis", "add-validator", draft, "--card", join(dir, `${name}.json`)]);
    const final = JSON.parse(await ok(["genesis", "finalize", draft, "--out", join(dir, "genesis.json"), "--json"])) as { genesisHash: string; consensus: string; validators: string[] };
    expect(final.consensus).toBe("poa");
    expect(final.validators).toHaveLength(3);
    for (const name of [...members, "erin", "dave"]) copyFileSync(join(dir, "genesis.json"), join(dir, name, "genesis.json"));

    broker = await mosquittoBroker();
    const url = broker.url;
    const [alice, bob, carol] = members.map((name) => nodes.start(name, join(dir, name, "meshchain.toml"), url)) as [RunningNode, RunningNode, RunningNode];
    const dave = nodes.start("dave", follower.config, url);
    const fourth = nodes.start("erin", erin.config, url);
    await nodes.waitOrTell(() => [alice, bob, carol].every((v) => finalizedHashes(v).has(3)), 180_000, "three members to finalize height 3");
    expect(lines(fourth).find((l) => l.msg === "node started")?.role).toBe("follower");

    const send = (who: RunningNode, name: string) => ["--key", join(dir, name, "node.key"), "--passphrase-file", pass, "--api", apiUrl(who)!, "--data-dir", join(dir, name), "--json"];
    // Erin registers her keys (no bond on poa) through her own node; Alice proposes her; Bob and Carol vote yes.
    await nodes.waitOrTell(() => [alice, bob, carol, fourth].every((r) => apiUrl(r) !== undefined), 30_000, "the APIs to listen");
    // Nonce and chain id come from the node; --wait final returns once the step is final.
    await ok(["validator", "register", "--wait", "final", "--timeout", "120", ...send(fourth, "erin")]);
    await ok(["federation", "propose", "--add", erin.address, "--wait", "final", "--timeout", "120", ...send(alice, "alice")]);
    await Promise.all([ok(["federation", "vote", "1", "yes", ...send(bob, "bob")]), ok(["federation", "vote", "1", "yes", ...send(carol, "carol")])]);

    await nodes.waitOrTell(() => lines(fourth).some((l) => l.msg === "our epoch has come: joining consensus"), 120_000, "the fourth to join consensus");
    await nodes.waitOrTell(() => finalizedHashes(fourth).size >= 3, 120_000, "the fourth to finalize blocks as a validator");
    const joinedAt = Math.min(...finalizedHashes(fourth).keys());
    await nodes.waitOrTell(() => lastStatus(dave).height >= joinedAt + 2, 60_000, "the follower to keep following");

    // Everyone agrees on what the fourth finalized, and no one was restarted on the way.
    for (const [h, hash] of finalizedHashes(fourth)) for (const m of [alice, bob, carol]) if (finalizedHashes(m).has(h)) expect(finalizedHashes(m).get(h), `height ${h}`).toBe(hash);
    for (const r of [alice, bob, carol, dave, fourth]) expect(lines(r).filter((l) => l.msg === "node started")).toHaveLength(1);
    expect(readFileSync(join(dir, "genesis.json"), "utf8")).toContain('"consensus": "poa"');

    for (const r of [dave, fourth, alice, bob, carol]) r.child.kill("SIGTERM");
    expect(await Promise.all([dave, fourth, alice, bob, carol].map((r) => r.exited))).toEqual([0, 0, 0, 0, 0]);
  }, 600_000);
});
