import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirsPerTest } from "../fixtures/temp.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();

/**
 * What scripts/install.sh does on a Pi, for real: pack this checkout, install the tarball globally
 * (into a private prefix), and run the installed `meshchain`. Minutes of native compiling
 * (better-sqlite3), so it runs under `npm run soak`, not `npm test`.
 */
describe("the package as an operator installs it", () => {
  it("packs, installs globally, and the installed meshchain runs and makes a data directory", () => {
    const work = dir();
    execFileSync("npm", ["pack", "--pack-destination", work], { cwd: ROOT, stdio: "pipe" });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const prefix = join(work, "prefix");
    execFileSync("npm", ["install", "-g", "--prefix", prefix, join(work, tarball!)], { cwd: work, stdio: "pipe" });
    const meshchain = join(prefix, "bin", "meshchain");
    const version = execFileSync(meshchain, ["--version"], { encoding: "utf8" }).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const made = JSON.parse(execFileSync(meshchain, ["init", "--dev", "--data-dir", join(work, "data"), "--json"], { encoding: "utf8" })) as { address: string };
    expect(made.address).toMatch(/^mc[0-9a-f]+$/);
    expect(readdirSync(join(work, "data"))).toEqual(expect.arrayContaining(["node.key", "meshchain.toml", "genesis.json"]));
  });
});
