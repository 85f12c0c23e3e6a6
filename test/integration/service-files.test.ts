import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../fixtures/temp.js";

const ROOT = join(import.meta.dirname, "../..");
const work = tempDir("meshchain-install-");
afterAll(() => work.cleanup());

function install(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("bash", [join(ROOT, "scripts/install.sh"), ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A `node` that claims a version, as an old distribution package would. */
function fakeNode(version: string): string {
  const path = join(work.path, `node-${version}`);
  writeFileSync(path, `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
  return path;
}

describe("scripts/install.sh", () => {
  it("--dry-run shows every step and changes nothing", () => {
    const r = install(["--dry-run", "--chain-id", "hill-net"], { NODE_BIN: fakeNode("20.19.0") });
    expect(r.status, r.out).toBe(0);
    for (const step of ["npm install -g", "useradd --system", "usermod -a -G dialout meshchain", "install -d -m 0750 -o root -g meshchain /etc/meshchain",
      "meshchain init --data-dir /var/lib/meshchain --passphrase-file /etc/meshchain/passphrase --json --chain-id hill-net", "/etc/systemd/system/meshchain.service", "systemctl enable meshchain.service"]) {
      expect(r.out, step).toContain(step);
    }
  });

  it("refuses a Node.js older than 20.19 and says how to get a newer one", () => {
    const r = install([], { NODE_BIN: fakeNode("18.20.4") });
    expect(r.status).toBe(1);
    expect(r.out).toContain("this machine has: 18.20.4");
    expect(r.out).toContain("deb.nodesource.com/setup_20.x");
    expect(install(["--dry-run"], { NODE_BIN: fakeNode("20.18.9") }).out).toContain("Node.js 20.19.0 or newer is needed");
  });

  it("rejects an unknown option", () => {
    expect(install(["--dryrun"]).status).toBe(2);
  });
});

describe("systemd/meshchain.service", () => {
  const unit = readFileSync(join(ROOT, "systemd/meshchain.service"), "utf8");

  it("runs hardened as its own user, with the radio's group, and does not restart on a configuration error", () => {
    for (const line of ["User=meshchain", "SupplementaryGroups=dialout", "StateDirectory=meshchain", "ProtectSystem=strict", "NoNewPrivileges=true", "Restart=on-failure", "RestartPreventExitStatus=2 65 73",
      "ExecStart=/usr/bin/env meshchain start --config /var/lib/meshchain/meshchain.toml"]) {
      expect(unit, line).toContain(`\n${line}\n`);
    }
  });

  const analyze = spawnSync("systemd-analyze", ["--version"]).error === undefined;
  it.skipIf(!analyze)("passes systemd-analyze verify", () => {
    const r = spawnSync("systemd-analyze", ["verify", join(ROOT, "systemd/meshchain.service")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });
});
