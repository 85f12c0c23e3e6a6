import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { START_FLAGS } from "../../src/cli/config/flags.js";
import { ConfigError, loadConfig } from "../../src/cli/config/load.js";
import { renderConfigTable } from "../../src/cli/config/reference.js";
import { CONFIG_LEAVES } from "../../src/cli/config/schema.js";
import { checkCombinations } from "../../src/cli/config/start-plan.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();

function file(text: string): string {
  const path = join(dir(), "node.toml");
  writeFileSync(path, text);
  return path;
}

function issuesOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("the configuration: defaults < file < environment < flags", () => {
  it("takes each setting from the strongest source that gives it, and says which", () => {
    const path = file('data_dir = "/srv/a"\n[node]\nslot_ms = 3000\nstatus_interval_ms = 700\n[api]\nport = 9000\n');
    const { config, sources } = loadConfig({
      file: path,
      env: { MESHCHAIN_NODE_SLOT_MS: "4000", MESHCHAIN_API_PORT: "9100", PATH: "/bin" },
      flags: { "api.port": { flag: "--api-port", value: "9200" } },
    });
    expect(config.data_dir).toBe("/srv/a");
    expect(config.node.status_interval_ms).toBe(700);
    expect(config.node.slot_ms).toBe(4_000);
    expect(config.api.port).toBe(9_200);
    expect(config.log.level).toBe("info");
    expect(sources.get("node.slot_ms")).toBe("env MESHCHAIN_NODE_SLOT_MS");
    expect(sources.get("api.port")).toBe("flag --api-port");
    expect(sources.get("data_dir")).toBe(`file ${path}`);
    expect(sources.has("log.level")).toBe(false);
  });

  it("reads relative paths in a file from the file's directory, and those from the environment as given", () => {
    const path = file('data_dir = "data"\nkey = "/abs/node.key"\ngenesis = "../g.json"\n');
    const base = join(path, "..");
    const { config } = loadConfig({ file: path, env: { MESHCHAIN_KEY_PASSPHRASE_FILE: "rel/pass" } });
    expect(config.data_dir).toBe(join(base, "data"));
    expect(config.genesis).toBe(join(base, "../g.json"));
    expect(config.key).toBe("/abs/node.key");
    expect(config.key_passphrase_file).toBe("rel/pass");
  });

  it("rejects unknown keys and wrong types with the key's path, its source and what was expected", () => {
    const path = file('dev = "yes"\n[radio]\nhop_limt = 3\nregion = "MOON"\n[node]\nslot_ms = 50\n');
    const message = issuesOf(() => loadConfig({ file: path }));
    expect(message).toContain(`dev (file ${path}): expected true or false, got "yes"`);
    expect(message).toContain("radio.hop_limt");
    expect(message).toContain("did you mean radio.hop_limit?");
    expect(message).toContain('radio.region (file');
    expect(message).toContain("node.slot_ms (file");
    expect(message).toContain("expected an integer from 100 to 3600000, got 50");
  });

  it("rejects an unknown MESHCHAIN_ variable, suggesting the one meant, and a flag with the wrong type", () => {
    expect(issuesOf(() => loadConfig({ env: { MESHCHAIN_RADIO_HOPLIMIT: "3" } }))).toContain("did you mean MESHCHAIN_RADIO_HOP_LIMIT?");
    expect(issuesOf(() => loadConfig({ flags: { "radio.hop_limit": { flag: "--hop-limit", value: "3x" } } }))).toContain('radio.hop_limit (flag --hop-limit): expected an integer from 0 to 7, got "3x"');
    // Secrets and tooling variables are not settings, and are not mistaken for typos.
    expect(() => loadConfig({ env: { MESHCHAIN_KEY_PASSPHRASE: "x", MESHCHAIN_BROKER_PASSWORD: "y", MESHCHAIN_SIM_SEEDS: "3" } })).not.toThrow();
  });

  it("reports a TOML syntax error with its line, and a missing file", () => {
    expect(() => loadConfig({ file: file("[node]\nslot_ms = [\n") })).toThrow(expect.objectContaining({ code: "CONFIG_SYNTAX", message: expect.stringContaining("line 3") }));
    expect(() => loadConfig({ file: join(dir(), "missing.toml") })).toThrow(expect.objectContaining({ code: "CONFIG_NOT_FOUND" }));
  });

  it("accepts an integer from the environment exactly when it lies within the setting's bounds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000_000 }), (n) => {
        const ok = n >= 100 && n <= 3_600_000;
        let accepted: boolean;
        try {
          accepted = loadConfig({ env: { MESHCHAIN_NODE_SLOT_MS: String(n) } }).config.node.slot_ms === n;
        } catch {
          accepted = false;
        }
        return accepted === ok;
      }),
      { numRuns: 200 },
    );
  });

  it("checks the rules between settings", () => {
    const config = (text: string) => loadConfig({ file: file(text) }).config;
    expect(() => checkCombinations(config('genesis = "g.json"\n'))).toThrow(/give genesis and key/);
    expect(() => checkCombinations(config('dev = true\nkey = "k"\n'))).toThrow(/dev makes its own/);
    expect(() => checkCombinations(config('dev = true\n[broker]\nurl = "mqtt://x:1883"\n[radio]\nbroker = "embedded"\n'))).toThrow(/needs broker.url = embedded/);
    expect(() => checkCombinations(config('genesis = "g"\nkey = "k"\n[radio]\nbroker = "mqtt://r:1883"\n'))).toThrow(/IP side/);
    expect(() => checkCombinations(config('dev = true\n[node]\nprune = true\n'))).toThrow(/prune is for a follower/);
    expect(() => checkCombinations(config('genesis = "g"\nkey = "k"\n[node]\nprune_keep_blocks = 50\n'), (p) => p === "node.prune_keep_blocks")).toThrow(/add --prune/);
    expect(() => checkCombinations(config('genesis = "g"\nkey = "k"\n[broker]\nurl = "mqtt://x:1883"\n[node]\nprune = true\nprune_keep_blocks = 50\n'), (p) => p === "node.prune_keep_blocks")).not.toThrow();
    expect(() => loadConfig({ env: { MESHCHAIN_NODE_PRUNE_KEEP_BLOCKS: "0" } })).toThrow();
  });

  it("every example in config/ is a valid configuration", () => {
    const examples = readdirSync(join(ROOT, "config")).filter((f) => f.endsWith(".toml"));
    expect(examples.sort()).toEqual(["bridge.toml", "dev.toml", "follower.toml", "validator-usb-radio.toml"]);
    for (const name of examples) {
      const { config } = loadConfig({ file: join(ROOT, "config", name) });
      expect(() => checkCombinations(config), name).not.toThrow();
    }
  });

  it("docs/configuration.md carries the table generated from the schema (update: meshchain config reference --update docs/configuration.md)", () => {
    const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    expect(doc).toContain(renderConfigTable());
    for (const leaf of CONFIG_LEAVES) expect(doc).toContain(`\`${leaf.path}\``);
  });

  it("every start flag names a setting, and no two flags the same one", () => {
    const paths = START_FLAGS.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const p of paths) expect(CONFIG_LEAVES.some((l) => l.path === p), p).toBe(true);
  });
});
