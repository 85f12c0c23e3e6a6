import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeClient } from "../../src/cli/api-client.js";
import type { MeshChainClient } from "../../src/client/rpc-client.js";
import { CLI_ENTRY } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";
import { tempDir } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

/*
 * Staking and validator upkeep from the CLI alone, on one fresh dev node: each command that works,
 * and each bad input refused with its typed reason and nothing changed (balance, nonce, stake,
 * delegations and unbonding read back the same).
 */

const ROOT = join(import.meta.dirname, "../..");

interface Account {
  balance: string;
  nonce: number;
  validator: { selfBond: string; stake: string; jailedUntil: number } | null;
  delegations: { validator: string; amount: string }[];
  unbonding: { validator: string; amount: string; releasedAt: number }[];
}

let node: ChildProcessWithoutNullStreams;
let client: MeshChainClient;
let out = "";
let at: string[] = [];
let me = "";
let meAddress = "";
let bobKey = "";
let bob = "";
let stranger = "";

let cleanup = (): void => undefined;

beforeAll(async () => {
  const temp = tempDir();
  cleanup = temp.cleanup;
  const base = temp.path;
  const dataDir = join(base, "dev");
  node = spawn(process.execPath, [CLI_ENTRY, "start", "--dev", "--data-dir", dataDir, "--broker-port", "0", "--api-port", "0", "--slot-ms", "500", "--heartbeat-slots", "1"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  node.stdout.on("data", (c: Buffer) => (out += c.toString()));
  node.stderr.on("data", (c: Buffer) => (out += c.toString()));
  await waitFor(() => out.includes('"msg":"local API listening"') || node.exitCode !== null, 60_000, "the API to listen");
  const api = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
  if (api === undefined) throw new Error(`the dev node did not start:\n${out}`);
  at = ["--api", api, "--data-dir", dataDir];
  // State is read back through the client library; the commands run in this process (test/fixtures/cli-in-process.ts),
  // through the same commander program as the binary, against the node in its own process.
  client = nodeClient(api, dataDir);
  me = join(dataDir, "node.key");
  bobKey = join(base, "bob.key");
  const newKey = async (file: string) => (JSON.parse((await cli(["keys", "new", "--out", file, "--unencrypted", "--json"])).stdout) as { address: string }).address;
  bob = await newKey(bobKey);
  stranger = await newKey(join(base, "stranger.key"));
  meAddress = String((await client.status()).address);
  const funded = await cli(["tx", "transfer", "--key", me, "--to", bob, "--amount", "5000000", "--wait", "included", ...at, "--json"]);
  if (funded.status !== 0) throw new Error(funded.stderr);
}, 300_000);

afterAll(async () => {
  if (node.exitCode === null && node.signalCode === null) {
    node.kill("SIGKILL");
    await new Promise((r) => node.once("exit", r));
  }
  cleanup();
});

const account = async (address?: string): Promise<Account> => (await client.account(address ?? meAddress)) as unknown as Account;

/**
 * The parts of an account a refused transaction must leave alone: any applied transaction moves the
 * nonce. A validator's and a delegator's balances grow with each block's reward, so the balance is
 * compared only for an account that earns none.
 */
const ledgerPart = (a: Account) => ({
  nonce: a.nonce, selfBond: a.validator?.selfBond, delegations: a.delegations, unbonding: a.unbonding,
  ...(a.validator === null && a.delegations.length === 0 ? { balance: a.balance } : {}),
});

/** Send, expect a refusal with `reason`, and check that nothing changed for the sender. */
async function refused(args: string[], key: string, reason: string, exit = 1): Promise<void> {
  const who = key === me ? undefined : bob;
  const before = ledgerPart(await account(who));
  const r = await cli([...args, "--key", key, ...at, "--json"]);
  expect(r.status, r.stdout + r.stderr).toBe(exit);
  const error = (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;
  expect(`${error.code} ${error.message}`).toContain(reason);
  expect(ledgerPart(await account(who))).toEqual(before);
}

async function sent(args: string[], key: string): Promise<{ height: number }> {
  const r = await cli([...args, "--key", key, "--wait", "included", ...at, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { height: number };
}

describe("staking from the CLI on a dev node", () => {
  it("bonds and unbonds a validator's self-bond, refusing more than the balance or the bond", async () => {
    const before = await account();
    const bond = 3_000_000n;
    await sent(["tx", "bond", "--amount", String(bond)], me);
    const bonded = await account();
    expect(BigInt(bonded.validator!.selfBond)).toBe(BigInt(before.validator!.selfBond) + bond);

    await refused(["tx", "bond", "--amount", String(BigInt(bonded.balance) * 2n)], me, "INSUFFICIENT_BALANCE");
    await refused(["tx", "unbond", "--amount", String(BigInt(bonded.validator!.selfBond) + 1n)], me, "INSUFFICIENT_BOND");
    await refused(["tx", "bond", "--amount", "1"], bobKey, "NOT_VALIDATOR");
    await refused(["tx", "bond", "--amount", "0"], me, "INVALID_ARGUMENT", 2);
    await refused(["tx", "unbond", "--amount", "lots"], me, "INVALID_ARGUMENT", 2);

    const unbond = 1_000_000n;
    const { height } = await sent(["tx", "unbond", "--amount", String(unbond)], me);
    const after = await account();
    expect(BigInt(after.validator!.selfBond)).toBe(BigInt(bonded.validator!.selfBond) - unbond);
    expect(after.unbonding).toContainEqual(expect.objectContaining({ validator: meAddress, amount: String(unbond) }));
    expect(after.unbonding.find((u) => u.amount === String(unbond))!.releasedAt).toBeGreaterThan(height);
  }, 600_000);

  it("delegates to a validator and takes it back, refusing an unknown validator, more than the balance or the delegation", async () => {
    await refused(["tx", "delegate", "--validator", stranger, "--amount", "1000"], bobKey, "UNKNOWN_VALIDATOR");
    await refused(["tx", "delegate", "--validator", meAddress, "--amount", "99000000"], bobKey, "INSUFFICIENT_BALANCE");
    await refused(["tx", "delegate", "--validator", "mc-not-an-address", "--amount", "1000"], bobKey, "INVALID_ARGUMENT", 2);
    await refused(["tx", "undelegate", "--validator", meAddress, "--amount", "1"], bobKey, "INSUFFICIENT_DELEGATION");
    const stakeBefore = BigInt((await account()).validator!.stake);

    await sent(["tx", "delegate", "--validator", meAddress, "--amount", "2000000"], bobKey);
    const delegated = await account(bob);
    expect(delegated.delegations).toEqual([expect.objectContaining({ validator: meAddress, amount: "2000000" })]);
    expect(BigInt((await account()).validator!.stake)).toBe(stakeBefore + 2_000_000n);

    await refused(["tx", "undelegate", "--validator", meAddress, "--amount", "2000001"], bobKey, "INSUFFICIENT_DELEGATION");
    await sent(["tx", "undelegate", "--validator", meAddress, "--amount", "500000"], bobKey);
    const after = await account(bob);
    expect(after.delegations).toEqual([expect.objectContaining({ validator: meAddress, amount: "1500000" })]);
    expect(after.unbonding).toEqual([expect.objectContaining({ validator: meAddress, amount: "500000" })]);
    // The human view names the same figures.
    const human = await cli(["account", bob, ...at]);
    expect(human.stdout).toMatch(/delegations\s+.*"amount":"1500000"/);
    expect(human.stdout).toMatch(/unbonding\s+.*"amount":"500000"/);
  }, 600_000);

  it("refuses unjail for a validator that is not jailed, and a proposal's window outside the chain's bounds", async () => {
    await refused(["tx", "unjail"], me, "NOT_JAILED");
    await refused(["tx", "unjail"], bobKey, "NOT_VALIDATOR");
    // The dev chain: epochLength 10, governanceVotingPeriod 500.
    await refused(["gov", "propose", "--param", "minFeePerByte", "--value", "11", "--window", "3"], me, "--window must lie in [10, 500]", 2);
    await refused(["gov", "propose", "--param", "minFeePerByte", "--value", "11", "--window", "501"], me, "--window must lie in [10, 500]", 2);
    const proposed = await cli(["gov", "propose", "--param", "minFeePerByte", "--value", "11", "--window", "40", "--key", me, "--wait", "included", ...at, "--json"]);
    expect(proposed.status, proposed.stderr).toBe(0);
    expect(JSON.parse(proposed.stdout)).toMatchObject({ kind: "propose", parameter: "minFeePerByte", votingWindow: 40 });
    const shown = await cli(["tx", "show", (JSON.parse(proposed.stdout) as { hash: string }).hash, ...at, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ votingWindow: 40 });
  }, 600_000);
});
