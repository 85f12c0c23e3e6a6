import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { addSettingFlags, givenSettingFlags } from "../../src/cli/config/flags.js";
import { ConfigError, loadConfig } from "../../src/cli/config/load.js";
import { planStart } from "../../src/cli/config/start-plan.js";
import { fromHex } from "../../src/core/bytes.js";
import { parseAddress } from "../../src/core/crypto/address.js";
import { decodeTxWithBytes, txHash } from "../../src/core/tx/codec.js";
import { verifyTxSignature } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { tempDir } from "../fixtures/temp.js";
import { meshchain } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";

describe("meshchain keys / tx", () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const alice = join(dir.path, "alice.key");
  const bob = join(dir.path, "bob.key");

  it("creates key files with mode 0600 and shows them", async () => {
    // This file's commands run in-process (test/fixtures/cli-in-process.ts); a few, as here, through the binary.
    expect(meshchain(["keys", "new", "--out", alice, "--unencrypted"]).status).toBe(0);
    expect((await cli(["keys", "new", "--out", bob, "--unencrypted", "--json"])).status).toBe(0);
    expect(statSync(alice).mode & 0o777).toBe(0o600);
    const shown = JSON.parse((await cli(["keys", "show", alice, "--json"])).stdout) as { address: string; publicKey: string };
    expect(shown.address).toMatch(/^mc[0-9a-f]{20}$/);
    const again = meshchain(["keys", "new", "--out", alice, "--unencrypted"]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("EXISTS");
  });

  it("signs a transfer of at most 100 bytes in a dry run", async () => {
    const to = (JSON.parse((await cli(["keys", "show", bob, "--json"])).stdout) as { address: string }).address;
    const from = JSON.parse((await cli(["keys", "show", alice, "--json"])).stdout) as { address: string; publicKey: string };
    const r = await cli(["tx", "transfer", "--key", alice, "--to", to, "--amount", "250000000", "--fee", "1000", "--nonce", "0", "--dry-run", "--json"]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { hex: string; bytes: number; hash: string; minFee: string };
    expect(out.bytes).toBeLessThanOrEqual(100);
    const decoded = decodeTxWithBytes(fromHex(out.hex));
    expect(decoded.bytes.length).toBe(out.bytes);
    expect(Buffer.from(txHash(decoded.bytes)).toString("hex")).toBe(out.hash);
    expect(decoded.tx.body).toEqual({ kind: TxKind.Transfer, to: parseAddress(to), amount: 250_000_000n });
    expect(verifyTxSignature(decoded, "meshchain-dev", fromHex(from.publicKey))).toBe(true);
    expect(BigInt(out.minFee)).toBe(BigInt(out.bytes) * 10n);
  });

  it("reveals the key on request and honours --chain-id", async () => {
    const to = (JSON.parse((await cli(["keys", "show", bob, "--json"])).stdout) as { address: string }).address;
    const r = await cli(["tx", "transfer", "--key", alice, "--to", to, "--amount", "1", "--fee", "2000", "--nonce", "0", "--reveal-key", "--chain-id", "village-net", "--dry-run", "--json"]);
    const out = JSON.parse(r.stdout) as { hex: string; bytes: number; chainId: string };
    expect(out.chainId).toBe("village-net");
    expect(decodeTxWithBytes(fromHex(out.hex)).tx.publicKey).not.toBeNull();
    expect(out.bytes).toBeLessThanOrEqual(132);
  });

  it("refuses bad start arguments before it touches the data directory", () => {
    const dataDir = join(dir.path, "start-data");
    const cases: string[][] = [
      ["--radio", "bogus"],
      ["--radio", "embedded", "--preset", "NOPE"],
      ["--radio", "embedded", "--channel", "a/b"],
      ["--radio", "embedded", "--hop-limit", "9"],
      ["--radio", "embedded", "--region", "MOON"],
      ["--checkpoint", "abc"],
      ["--snapshot-interval", "0"],
    ];
    // Each case through start's own flag parsing and checks, in this process (a spawned start costs
    // seconds of CPU); two of them through the binary, for the exit status and the untouched directory.
    for (const extra of cases) {
      const command = addSettingFlags(new Command().exitOverride());
      command.parse(["--dev", "--data-dir", dataDir, "--broker-port", "0", "--api", "none", ...extra], { from: "user" });
      const refusal = (() => {
        try {
          const { config, sources } = loadConfig({ env: {}, flags: givenSettingFlags(command.opts()) });
          planStart(config, {}, (path) => sources.has(path));
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(refusal, extra.join(" ")).toBeInstanceOf(ConfigError);
      expect((refusal as ConfigError).code).toBe("CONFIG_INVALID");
      expect((refusal as ConfigError).message).toContain(extra[extra.length - 2]);
    }
    for (const extra of [cases[3]!, cases[5]!]) {
      const r = meshchain(["start", "--dev", "--data-dir", dataDir, "--broker-port", "0", "--api", "none", ...extra]);
      expect(r.status, extra.join(" ")).toBe(2);
      expect(r.stderr).toContain("CONFIG_INVALID");
      expect(r.stderr).toContain(extra[extra.length - 2]);
      expect(existsSync(dataDir), extra.join(" ")).toBe(false);
    }
  });

  it("rejects bad arguments with a typed error and exit status 2", async () => {
    const cases: [string[], string][] = [
      [["--to", "mc00", "--amount", "1"], "INVALID_ARGUMENT"],
      [["--to", "mc0000000000000000000000", "--amount", "1"], "INVALID_ARGUMENT"],
      [["--amount", "-5"], "INVALID_ARGUMENT"],
      [["--amount", "1.5"], "INVALID_ARGUMENT"],
      [["--amount", "0"], "INVALID_ARGUMENT"],
      [["--chain-id", "Bad Id"], "INVALID_ARGUMENT"],
    ];
    const to = (JSON.parse((await cli(["keys", "show", bob, "--json"])).stdout) as { address: string }).address;
    for (const [override, code] of cases) {
      const args = { "--key": alice, "--to": to, "--amount": "5", "--fee": "1000", "--nonce": "0" } as Record<string, string>;
      for (let i = 0; i < override.length; i += 2) args[override[i]!] = override[i + 1]!;
      const r = await cli(["tx", "transfer", ...Object.entries(args).flat(), "--dry-run", "--json"]);
      expect(r.status, override.join(" ")).toBe(2);
      expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe(code);
    }
    const unknown = meshchain(["tx", "transfer", "--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/error:/);
  });

  it("says plainly that sending needs a node when --dry-run is missing", async () => {
    const to = (JSON.parse((await cli(["keys", "show", bob, "--json"])).stdout) as { address: string }).address;
    const r = await cli(["tx", "transfer", "--key", alice, "--to", to, "--amount", "5", "--fee", "1000", "--nonce", "0"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("NODE_API_UNAVAILABLE");
  });

  it("reports a missing key file by its code, as a mistake to fix (exit status 2)", async () => {
    const r = await cli(["keys", "show", join(dir.path, "none.key"), "--json"]);
    expect(r.status).toBe(2);
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});

describe("meshchain airtime", () => {
  const dir = tempDir();

  it("gives the Semtech time on air for a preset and size", async () => {
    const r = meshchain(["airtime", "--preset", "LongFast", "--bytes", "100", "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ preset: "LONG_FAST", bytes: 100, airtimeMs: 1009.664, lowDataRateOptimise: false });
    const frame = JSON.parse((await cli(["airtime", "--preset", "LONG_FAST", "--frame-bytes", "231", "--json"])).stdout) as { bytes: number; airtimeMs: number };
    expect(frame).toMatchObject({ bytes: 255, airtimeMs: 2156.544 });
  });

  it("prints a table of sizes without --bytes", async () => {
    const out = JSON.parse((await cli(["airtime", "--preset", "LONG_SLOW", "--json"])).stdout) as { sizes: { bytes: number; airtimeMs: number }[]; lowDataRateOptimise: boolean };
    expect(out.lowDataRateOptimise).toBe(true);
    expect(out.sizes.find((s) => s.bytes === 255)?.airtimeMs).toBe(14295.04);
  });

  it("recommends chain parameters for a preset and a validator count, and writes them into a genesis draft", async () => {
    const r = await cli(["airtime", "--recommend", "--preset", "LongFast", "--validators", "7", "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ preset: "LONG_FAST", validators: 7, slotMs: "155000", maxBlockTxs: "13", shortIdBytes: "3", fallbackRanks: "0", finalityRule: "1" });
    const faster = JSON.parse((await cli(["airtime", "--recommend", "--preset", "SHORT_FAST", "--json"])).stdout) as { slotMs: string };
    expect(Number(faster.slotMs)).toBeLessThan(155_000);
    expect((await cli(["airtime", "--recommend", "--validators", "0"])).status).toBe(2);
    expect((await cli(["airtime", "--recommend", "--bytes", "20"])).status).toBe(2);
    const draft = join(dir.path, "preset-draft.json");
    const g = await cli(["genesis", "new", "--out", draft, "--chain-id", "preset-chain", "--preset", "MEDIUM_FAST", "--validators", "4", "--param", "maxBlockTxs=5", "--json"]);
    expect(g.status).toBe(0);
    expect((JSON.parse(g.stdout) as { paramsChanged: Record<string, string> }).paramsChanged).toEqual({ slotMs: "55000", maxBlockTxs: "5", fallbackRanks: "0", shortIdBytes: "3", finalityRule: "1" });
    expect((await cli(["genesis", "new", "--out", join(dir.path, "bad.json"), "--chain-id", "preset-chain", "--preset", "LONG_FASTER"])).status).toBe(2);
  });

  it("rejects unknown presets and impossible sizes", async () => {
    expect((await cli(["airtime", "--preset", "FAST_AND_FAR"])).status).toBe(2);
    expect((await cli(["airtime", "--bytes", "256"])).status).toBe(2);
    expect((await cli(["airtime", "--bytes", "0"])).status).toBe(2);
  });
});
