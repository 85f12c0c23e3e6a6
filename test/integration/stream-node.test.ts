import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StreamRadioSerialPort } from "../../src/mesh/sim/stream-radio-server.js";
import { Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { radioRig, type RadioRig, rigPerTest, streamTransport } from "../fixtures/stream-radios.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";
import { CLI_ENTRY } from "../fixtures/cli.js";

const ROOT = join(import.meta.dirname, "../..");
const dir = tempDirsPerTest();
let rig: RadioRig | null = null;
const { cleanups, use } = rigPerTest();

interface LogRecord {
  readonly msg: string;
  readonly url?: string;
}

/** `meshchain start` as an operator runs it, its JSON log lines collected. */
/** `meshchain start` with these flags; the channel key, a secret, travels in the environment as a service would give it. */
function startNode(args: string[], psk?: string): { child: ChildProcess; logs: LogRecord[]; stderr: () => string } {
  const env = { ...process.env, ...(psk === undefined ? {} : { MESHCHAIN_RADIO_PSK: psk }) };
  const child = spawn(process.execPath, [CLI_ENTRY, "start", ...args], { cwd: ROOT, env });
  const logs: LogRecord[] = [];
  let pending = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => {
    pending += b.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) {
      try {
        logs.push(JSON.parse(l) as LogRecord);
      } catch {
        // not a log record
      }
    }
  });
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  return { child, logs, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

interface RadioStatusJson {
  readonly link: string;
  readonly state: string;
  readonly region: string;
  readonly preset: string;
  readonly reported: { readonly nodeId: string; readonly rebroadcastMode: string; readonly channels: readonly { name: string }[] } | null;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly connects: number;
}

async function radioStatus(api: string): Promise<RadioStatusJson> {
  const res = await fetch(`${api}/status`);
  return ((await res.json()) as { radio: RadioStatusJson }).radio;
}

describe("meshchain start --radio serial:// and tcp://", () => {
  it("a node on a serial radio: handshake, the radio in its status, frames both ways, back after the radio restarts", async () => {
    rig = use(await radioRig(2));
    const path = join(dir(), "ttyRADIO");
    let serial = new StreamRadioSerialPort(rig.radios[0]!, path);
    cleanups.push(() => serial.stop());
    await serial.start();
    const peer = streamTransport(rig.urls[1]!);
    cleanups.push(() => peer.stop());
    await peer.start();
    const heard: ReceivedFrame[] = [];
    peer.onFrame((f) => heard.push(f));

    const node = startNode(["--dev", "--data-dir", join(dir(), "data"), "--broker", "none", "--radio", `serial://${path}`, "--api-port", "0", "--channel", "MeshChain"], Buffer.from(rig.radios[0]!.channelList[0]!.settings!.psk).toString("base64"));
    cleanups.push(() => stop(node.child));
    await waitFor(() => node.logs.some((l) => l.msg === "local API listening") || node.child.exitCode !== null, 60_000, "the node's API");
    expect(node.stderr()).toBe("");
    const api = node.logs.find((l) => l.msg === "local API listening")?.url as string;
    const first = await radioStatus(api);
    expect(first).toMatchObject({ link: "stream", state: "connected", region: "US", preset: "SHORT_TURBO", connects: 1 });
    expect(first.reported?.nodeId).toBe("!50000001");
    expect(first.reported?.channels.map((c) => c.name)).toEqual(["MeshChain"]);

    // The node's hello went on air as the radio's own packet.
    await waitFor(() => heard.some((f) => f.from === 0x5000_0001), 20_000, "the node's frames on air");
    await peer.send(Uint8Array.of(0x01, 0x02, 0x03), Priority.Control);
    const deadline = Date.now() + 20_000;
    while ((await radioStatus(api)).framesReceived < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await radioStatus(api)).framesReceived).toBeGreaterThanOrEqual(1);

    await serial.stop();
    await waitFor(() => node.logs.some((l) => l.msg.startsWith("radio link lost")), 20_000, "the loss logged");
    serial = new StreamRadioSerialPort(rig.radios[0]!, path);
    await serial.start();
    const back = Date.now() + 30_000;
    while ((await radioStatus(api)).connects < 2 && Date.now() < back) await new Promise((r) => setTimeout(r, 200));
    expect(await radioStatus(api)).toMatchObject({ state: "connected", connects: 2 });
  }, 120_000);

  it("a node on a TCP radio refuses a radio without our channel key, or on another region, naming both", async () => {
    rig = use(await radioRig(1));
    const wrongKey = startNode(["--dev", "--data-dir", join(dir(), "data"), "--broker", "none", "--radio", rig.urls[0]!, "--api-port", "0"]);
    cleanups.push(() => stop(wrongKey.child));
    await new Promise((r) => wrongKey.child.once("exit", r));
    expect(wrongKey.child.exitCode).not.toBe(0);
    expect(wrongKey.stderr()).toContain('has channel "MeshChain" with a different key');
    const psk = Buffer.from(rig.radios[0]!.channelList[0]!.settings!.psk).toString("base64");
    const node = startNode(["--dev", "--data-dir", join(dir(), "data"), "--broker", "none", "--radio", rig.urls[0]!, "--region", "EU_868", "--api-port", "0"], psk);
    cleanups.push(() => stop(node.child));
    await new Promise((r) => node.child.once("exit", r));
    expect(node.child.exitCode).not.toBe(0);
    expect(node.stderr()).toContain("SETTINGS_MISMATCH");
    expect(node.stderr()).toContain("EU_868");
    expect(node.stderr()).toContain("US");
  }, 60_000);
});
