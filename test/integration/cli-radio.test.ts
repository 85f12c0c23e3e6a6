import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { keyFingerprint } from "../../src/mesh/meshtastic/radio-view.js";
import { meshchainAsync, PSK, radioRig, type RadioRig } from "../fixtures/stream-radios.js";
import { cli } from "../fixtures/cli-in-process.js";
import { tempDir } from "../fixtures/temp.js";

const PSK_B64 = Buffer.from(PSK).toString("base64");
let rig: RadioRig | null = null;
const secrets = tempDir("meshchain-radio-psk-");
afterAll(() => secrets.cleanup());
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe("meshchain radio", () => {
  it("info prints what the radio reports, for people and as JSON", async () => {
    rig = await radioRig(1);
    // Through the binary once; the other commands run in this process (test/fixtures/cli-in-process.ts).
    const human = await meshchainAsync(["radio", "info", "--radio", rig.urls[0]!]);
    expect(human.stderr).toBe("");
    expect(human.status).toBe(0);
    expect(human.stdout).toContain("!50000001");
    expect(human.stdout).toContain("2.7.15.emulated");
    expect(human.stdout).toMatch(/rebroadcast\s+ALL/);
    expect(human.stdout).toContain('"MeshChain"');
    const json = await cli(["radio", "info", "--radio", rig.urls[0]!, "--json"]);
    expect(json.status).toBe(0);
    const view = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ nodeNumber: 0x5000_0001, region: "US", preset: "SHORT_TURBO", hopLimit: 3, ignoreMqtt: false, rebroadcastMode: "ALL" });
    expect(view.channels).toEqual([expect.objectContaining({ index: 0, name: "MeshChain", keyFingerprint: keyFingerprint(channelKey("MeshChain", PSK).key) })]);
  });

  it("check passes a radio set up right, with exit status 0", async () => {
    rig = await radioRig(1);
    const r = await cli(["radio", "check", "--radio", rig.urls[0]!, "--psk", PSK_B64, "--region", "US", "--preset", "SHORT_TURBO"]);
    expect(r.stdout).toContain("nothing found");
    expect(r.status).toBe(0);
  });

  it("check lists every bad setting with its fix and exits 1", async () => {
    rig = await radioRig(1, { settings: () => ({ region: "UNSET", preset: "LONG_FAST", rebroadcastMode: "CORE_PORTNUMS_ONLY", hopLimit: 0, ignoreMqtt: true, channels: [{ name: "LongFast", psk: Uint8Array.of(1) }, { name: "MeshChain", psk: new Uint8Array(16).fill(1) }] }) });
    const r = await cli(["radio", "check", "--radio", rig.urls[0]!, "--psk", PSK_B64, "--preset", "SHORT_TURBO", "--via", "mqtt", "--json"]);
    expect(r.status).toBe(1);
    const { ok, problems } = JSON.parse(r.stdout) as { ok: boolean; problems: { setting: string; fix: string }[] };
    expect(ok).toBe(false);
    expect(problems.map((p) => p.setting).sort()).toEqual(["channels[1].psk", "device.rebroadcast_mode", "lora.hop_limit", "lora.ignore_mqtt", "lora.modem_preset", "lora.region"].sort());
    expect(problems.every((p) => p.fix.length > 0)).toBe(true);
    const human = await cli(["radio", "check", "--radio", rig.urls[0]!, "--psk", PSK_B64, "--channel", "Other"]);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain('no channel "Other"');
    expect(human.stdout).toContain("fix: meshchain radio setup --channel Other");
  });

  it("setup shows its changes, applies them with --yes, waits out the reboot, and the check passes after", async () => {
    rig = await radioRig(1, { radio: () => ({ rebootMs: 500 }), settings: () => ({ rebroadcastMode: "KNOWN_ONLY", hopLimit: 0, channels: [{ name: "", psk: Uint8Array.of(1) }] }) });
    const refused = await cli(["radio", "setup", "--radio", rig.urls[0]!, "--channel", "MeshChain", "--psk", PSK_B64, "--preset", "SHORT_FAST"]);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toContain("channels[1]: (unused) -> \"MeshChain\"");
    expect(refused.stderr).toContain("--yes");
    expect(rig.radios[0]!.stats.reboots).toBe(0);
    const r = await cli(["radio", "setup", "--radio", rig.urls[0]!, "--channel", "MeshChain", "--psk", PSK_B64, "--preset", "SHORT_FAST", "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("lora.modem_preset: SHORT_TURBO -> SHORT_FAST");
    expect(r.stdout).toContain("device.rebroadcast_mode: KNOWN_ONLY -> ALL");
    expect(r.stdout).toContain("radio is back");
    expect(r.stdout).toContain("nothing found");
    expect(r.status).toBe(0);
    // Begin/commit edit: one reboot for all the changes; the primary channel untouched.
    expect(rig.radios[0]!.stats.reboots).toBe(1);
    expect(rig.radios[0]!.channelList[0]?.settings?.name).toBe("");
    expect(rig.radios[0]!.channelList[1]?.settings?.name).toBe("MeshChain");
    expect(rig.radios[0]!.loraConfig.hopLimit).toBe(3);
    // The key from a file, as an operator should give it: nothing secret on the command line.
    const pskFile = join(secrets.path, "channel-key");
    writeFileSync(pskFile, `${PSK_B64}\n`, { mode: 0o600 });
    const again = await cli(["radio", "setup", "--radio", rig.urls[0]!, "--channel", "MeshChain", "--psk-file", pskFile, "--preset", "SHORT_FAST", "--yes"]);
    expect(again.stderr).toBe("");
    expect(again.stdout).toContain("nothing to change");
    const both = await cli(["radio", "setup", "--radio", rig.urls[0]!, "--channel", "MeshChain", "--psk-file", pskFile, "--psk", PSK_B64, "--yes"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--psk or --psk-file");
    const none = await cli(["radio", "setup", "--radio", rig.urls[0]!, "--channel", "MeshChain", "--yes"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--psk-file");
  });

  it("refuses a radio address that is not one, and reports a radio that does not answer", async () => {
    const bad = await cli(["radio", "info", "--radio", "/dev/ttyACM0"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("INVALID_ARGUMENT");
    expect(bad.stderr).toContain("serial:///dev/ttyACM0");
    const gone = await cli(["radio", "info", "--radio", "tcp://127.0.0.1:1", "--json"]);
    expect(gone.status).toBe(1);
    expect(JSON.parse(gone.stderr)).toMatchObject({ error: { code: "RADIO_UNREACHABLE" } });
  });
});
