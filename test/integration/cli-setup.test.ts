import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { meshchain } from "../fixtures/cli.js";
import { cli } from "../fixtures/cli-in-process.js";
import { tempDir } from "../fixtures/temp.js";

const work = tempDir("meshchain-cli-setup-");
afterAll(() => work.cleanup());
const at = (name: string) => join(work.path, name);
const json = <T>(text: string): T => JSON.parse(text) as T;

describe("meshchain keys: encrypted files, import, export, change-passphrase", () => {
  it("round-trips a seed through export and import, and changes a passphrase", async () => {
    const env = { MESHCHAIN_KEY_PASSPHRASE: "first" };
    const made = await cli(["keys", "new", "--out", at("a.key"), "--json"], env);
    expect(made.status, made.stderr).toBe(0);
    const card = json<{ address: string; encrypted: boolean }>(made.stdout);
    expect(card.encrypted).toBe(true);
    expect(json<{ encrypted: boolean; address: string }>((await cli(["keys", "show", at("a.key"), "--json"])).stdout)).toMatchObject({ encrypted: true, address: card.address });

    // No passphrase anywhere and no terminal: a clear refusal, not a hang.
    // Through the binary: its stdin is a pipe, not a terminal.
    const none = meshchain(["keys", "export", at("a.key")], undefined, { MESHCHAIN_KEY_PASSPHRASE: undefined });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("no terminal to ask on");

    const exported = await cli(["keys", "export", at("a.key")], env);
    expect(exported.status).toBe(0);
    expect(exported.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(exported.stderr).toContain("WARNING");
    writeFileSync(at("seed"), exported.stdout, { mode: 0o600 });
    const imported = await cli(["keys", "import", "--from", at("seed"), "--out", at("b.key"), "--json"], { MESHCHAIN_KEY_PASSPHRASE: "second" });
    expect(imported.status, imported.stderr).toBe(0);
    expect(json<{ address: string }>(imported.stdout).address).toBe(card.address);

    const changed = await cli(["keys", "change-passphrase", at("a.key")], { ...env, MESHCHAIN_NEW_KEY_PASSPHRASE: "third" });
    expect(changed.status, changed.stderr).toBe(0);
    const old = await cli(["keys", "export", at("a.key")], env);
    expect(old.status).toBe(2);
    expect(old.stderr).toContain("WRONG_PASSPHRASE");
  }, 240_000);

  it("--light-kdf seals at scrypt's least cost, says so, and the key opens like any other; never with nothing to seal", async () => {
    const env = { MESHCHAIN_KEY_PASSPHRASE: "throwaway" };
    const init = await cli(["init", "--data-dir", at("light"), "--chain-id", "test-net", "--light-kdf", "--json"], env);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stderr).toContain("--light-kdf");
    const made = await cli(["keys", "new", "--out", at("light.key"), "--light-kdf", "--json"], env);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toContain("--light-kdf");
    for (const file of [join(at("light"), "node.key"), at("light.key")]) {
      const sealed = json<{ crypto: { kdfParams: { n: number; r: number; p: number } } }>(readFileSync(file, "utf8"));
      expect(sealed.crypto.kdfParams).toMatchObject({ n: 2 ** 14, r: 8, p: 1 });
      const shown = await cli(["keys", "show", file, "--chain-id", "test-net", "--json"], env);
      expect(shown.status, shown.stderr).toBe(0);
      expect(json<{ proofOfPossession: string }>(shown.stdout).proofOfPossession).toMatch(/^[0-9a-f]+$/);
    }
    expect((await cli(["keys", "show", at("light.key"), "--chain-id", "test-net"], { MESHCHAIN_KEY_PASSPHRASE: "wrong" })).stderr).toContain("WRONG_PASSPHRASE");
    // Nothing to seal: refused before anything is written.
    expect((await cli(["keys", "new", "--out", at("clear-light.key"), "--unencrypted", "--light-kdf"])).status).toBe(2);
    expect(existsSync(at("clear-light.key"))).toBe(false);
    expect((await cli(["init", "--data-dir", at("dev-light"), "--dev", "--light-kdf"])).status).toBe(2);
    expect(existsSync(at("dev-light"))).toBe(false);
  });

  it("start refuses an unencrypted key outside --dev, saying how to encrypt it", async () => {
    expect((await cli(["keys", "new", "--out", at("clear.key"), "--unencrypted"])).status).toBe(0);
    writeFileSync(at("g.json"), "{}");
    const r = meshchain(["start", "--genesis", at("g.json"), "--key", at("clear.key"), "--data-dir", at("clear-data"), "--api", "none"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`meshchain keys change-passphrase ${at("clear.key")}`);
    expect(existsSync(at("clear-data"))).toBe(false);
  }, 120_000);
});

describe("meshchain init and genesis refuse what would go wrong", () => {
  it("init writes a checked config and refuses a non-empty directory; genesis refuses a card for another chain, duplicates and overwriting", async () => {
    const env = { MESHCHAIN_KEY_PASSPHRASE: "pw" };
    const init = await cli(["init", "--data-dir", at("v"), "--chain-id", "other-net", "--json"], env);
    expect(init.status, init.stderr).toBe(0);
    writeFileSync(at("v.json"), init.stdout);
    const again = await cli(["init", "--data-dir", at("v")], env);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("not empty");
    // The config init wrote is valid; it only lacks the genesis the ceremony will produce.
    const check = await cli(["config", "check", join(at("v"), "meshchain.toml")]);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain("is well-formed, but");
    expect(check.stderr).toContain("genesis.json");

    expect((await cli(["genesis", "new", "--out", at("d.json"), "--chain-id", "hill-net", "--param", "slotMs=10"])).stderr).toContain("--param slotMs must lie in");
    expect((await cli(["genesis", "new", "--out", at("d.json"), "--chain-id", "hill-net"])).status).toBe(0);
    const wrongChain = await cli(["genesis", "add-validator", at("d.json"), "--card", at("v.json")]);
    expect(wrongChain.status).toBe(2);
    expect(wrongChain.stderr).toContain("meshchain keys show KEY --chain-id hill-net");
    const empty = await cli(["genesis", "finalize", at("d.json"), "--out", at("g.json.final")]);
    expect(empty.stderr).toContain("NO_VALIDATORS");
    // A card redone for this chain is accepted once.
    const card = json<Record<string, string>>(readFileSync(at("v.json"), "utf8"));
    const redone = await cli(["keys", "show", card.key!, "--chain-id", "hill-net", "--json"], env);
    writeFileSync(at("v2.json"), redone.stdout);
    expect((await cli(["genesis", "add-validator", at("d.json"), "--card", at("v2.json")])).status).toBe(0);
    expect((await cli(["genesis", "add-validator", at("d.json"), "--card", at("v2.json")])).stderr).toContain("DUPLICATE_VALIDATOR");
    expect((await cli(["genesis", "finalize", at("d.json"), "--out", at("final.json")])).status).toBe(0);
    expect((await cli(["genesis", "finalize", at("d.json"), "--out", at("final.json")])).stderr).toContain("refusing to overwrite");
  }, 300_000);
});
