import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEV_EPOCH_LENGTH } from "../../src/node/dev-network.js";
import { CLI_ENTRY, meshchainAsync } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();


const running: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
  }
});

function spawnCli(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

describe("the wallet from the CLI alone, on a fresh dev chain (the walkthrough in README and docs/api.md)", () => {
  it("checks a balance, sends a transfer and a message without nonce, fee or chain id, proves it offline, and the recipient reads and acknowledges it; watch shows it", async () => {
    const dataDir = join(dir(), "dev");
    const node = spawnCli(["start", "--dev", "--data-dir", dataDir, "--broker-port", "0", "--api-port", "0", "--slot-ms", "500", "--heartbeat-slots", "1"]);
    await waitFor(() => node.output().includes('"msg":"local API listening"') || node.child.exitCode !== null, 60_000, "the API to listen");
    const api = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(node.output())?.[1] as string;
    expect(api, node.output()).toBeDefined();
    const at = ["--api", api, "--data-dir", dataDir];
    const me = join(dataDir, "node.key");
    const bobKey = join(dir(), "bob.key");
    const made = await cli(["keys", "new", "--out", bobKey, "--unencrypted", "--json"]);
    const bob = (JSON.parse(made.stdout) as { address: string }).address;
    const watch = spawnCli(["watch", ...at, "--messages", bob, "--governance"]);
    await waitFor(() => watch.output().includes("watching"), 60_000, "watch to subscribe");

    const account = await cli(["account", ...at]);
    expect(account.status, account.stderr).toBe(0);
    expect(account.stdout).toMatch(/balance\s+\d+ units \(\d+\.\d{6} MESH\)/);
    const unknown = await cli(["account", bob, ...at, "--json"]);
    expect(unknown.status).toBe(1);
    expect((JSON.parse(unknown.stderr) as { error: { code: string; message: string } }).error.message).toContain("UNKNOWN_ACCOUNT");
    const wrongChain = await cli(["tx", "transfer", "--key", me, "--to", bob, "--amount", "1", "--chain-id", "other-net", ...at, "--json"]);
    expect(wrongChain.status).toBe(2);
    expect((JSON.parse(wrongChain.stderr) as { error: { code: string } }).error.code).toBe("WRONG_CHAIN");

    const transfer = await cli(["tx", "transfer", "--key", me, "--to", bob, "--amount", "2000000", "--wait", "final", ...at, "--json"]);
    expect(transfer.status, transfer.stderr).toBe(0);
    expect(JSON.parse(transfer.stdout)).toMatchObject({ sent: true, status: "final", final: true, kind: "transfer", nonce: 0, feeCoversMinimum: true });
    // The commands run in this process (test/fixtures/cli-in-process.ts); this one, the node and watch through the binary.
    const sent = await meshchainAsync(["msg", "send", "--key", me, "--to", bob, "meet at the water tower", "--wait", "final", ...at, "--json"]);
    expect(sent.status, sent.stderr).toBe(0);
    const message = JSON.parse(sent.stdout) as { hash: string; status: string; nonce: number };
    expect(message).toMatchObject({ status: "final", nonce: 1 });

    const proof = await cli(["msg", "proof", message.hash, ...at]);
    expect(proof.status, proof.stderr).toBe(0);
    const proofFile = join(dir(), "proof.json");
    writeFileSync(proofFile, proof.stdout);
    const setFile = join(dir(), "validators.json");
    expect((await cli(["validators", "--out", setFile, ...at])).status).toBe(0);
    const verified = await cli(["proof", "verify", proofFile, "--validators", setFile]);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("validators holding more than two thirds of the stake of the set you trust signed that block");
    expect(verified.stdout).toContain("meet at the water tower");
    const tampered = JSON.parse(readFileSync(proofFile, "utf8")) as { tx: string };
    tampered.tx = tampered.tx.replace(Buffer.from("water").toString("hex"), Buffer.from("wafer").toString("hex"));
    const tamperedFile = join(dir(), "tampered.json");
    writeFileSync(tamperedFile, JSON.stringify(tampered));
    const failed = await cli(["proof", "verify", tamperedFile, "--validators", setFile, "--json"]);
    expect(failed.status).toBe(1);
    expect((JSON.parse(failed.stderr) as { error: { code: string } }).error.code).toBe("BAD_TX_SIGNATURE");

    const inbox = await cli(["msg", "inbox", "--key", bobKey, ...at]);
    expect(inbox.status, inbox.stderr).toBe(0);
    expect(inbox.stdout).toContain("meet at the water tower");
    const ack = await cli(["msg", "ack", message.hash, "--key", bobKey, "--wait", "final", ...at, "--json"]);
    expect(ack.status, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ status: "final", revealsKey: true, acknowledges: message.hash });
    const status = await cli(["msg", "status", message.hash, ...at, "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: "final", acknowledged: true });

    const proposed = await cli(["gov", "propose", "--key", me, "--param", "minFeePerByte", "--value", "12", "--wait", "final", ...at]);
    expect(proposed.status, proposed.stderr).toBe(0);
    const list = await cli(["gov", "list", ...at]);
    expect(list.status, list.stderr).toBe(0);
    // Passed at once (the lone validator holds all stake); in force from the next epoch's first block.
    // The dev chain's epochs are short: a change that passes on an epoch's last block is in force at the
    // next block, so watch may see it only enacted. Either way it names the epoch start.
    const outcome = /passed: minFeePerByte = 12 from height (\d+)|enacted: minFeePerByte \d+ → 12, in force from block (\d+)/;
    await waitFor(() => outcome.test(watch.output()), 30_000, "watch to show the outcome");
    const found = outcome.exec(watch.output());
    const effective = Number(found?.[1] ?? found?.[2]);
    expect(effective % Number(DEV_EPOCH_LENGTH), watch.output()).toBe(0);
    const badParam = await cli(["gov", "propose", "--key", me, "--param", "minFee", "--value", "12", ...at]);
    expect(badParam.status).toBe(2);
    expect(badParam.stderr).toContain('no parameter "minFee"');

    expect(watch.output()).toMatch(new RegExp(`message at \\d+ from mc[0-9a-f]{20}: meet at the water tower  ${message.hash}`));
    expect(watch.output()).toContain("proposal at");
  }, 600_000);
});
