import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Priority, type ReceivedFrame } from "../../src/mesh/transport.js";
import { StreamRadioSerialPort, StreamRadioTcpServer } from "../../src/mesh/sim/stream-radio-server.js";
import { logRecorder, radioRig, type RadioRig, rigPerTest, streamTransport } from "../fixtures/stream-radios.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

let rig: RadioRig | null = null;
const { cleanups, use } = rigPerTest();
const dir = tempDirsPerTest();

function collect(t: { onFrame(l: (f: ReceivedFrame) => void): () => void }): ReceivedFrame[] {
  const got: ReceivedFrame[] = [];
  t.onFrame((f) => got.push(f));
  return got;
}

describe("meshtastic-stream over a serial line (a pseudo-terminal)", () => {
  it("handshakes past the console text, carries frames both ways, and comes back after the radio is unplugged", async () => {
    rig = use(await radioRig(2));
    const path = join(dir(), "ttyMESH0");
    const serial = new StreamRadioSerialPort(rig.radios[0]!, path);
    cleanups.push(() => serial.stop());
    const url = await serial.start();
    expect(url).toBe(`serial://${path}`);
    const rec = logRecorder();
    const overSerial = streamTransport(url, {}, undefined, rec.log);
    const overTcp = streamTransport(rig.urls[1]!);
    cleanups.push(() => overSerial.stop(), () => overTcp.stop());
    await Promise.all([overSerial.start(), overTcp.start()]);
    expect(overSerial.localNode).toBe(0x5000_0001);
    // The boot banner came as console text before the first frame, and was not taken for one.
    expect(overSerial.linkStats.radioLogLines).toBeGreaterThan(0);
    expect(overSerial.stats.malformed).toBe(0);
    const atTcp = collect(overTcp);
    const atSerial = collect(overSerial);
    await overSerial.send(Uint8Array.of(1, 2, 3), Priority.Transaction);
    await overTcp.send(Uint8Array.of(4), Priority.Transaction);
    await waitFor(() => atTcp.length === 1 && atSerial.length === 1, 10_000, "frames both ways");
    expect([...atTcp[0]!.bytes]).toEqual([1, 2, 3]);
    expect(atTcp[0]!.from).toBe(0x5000_0001);

    // Unplugged: the PTY disappears as a USB device does; frames sent meanwhile wait.
    await serial.stop();
    await waitFor(() => overSerial.linkState !== "connected", 10_000, "the link noticed lost");
    await overSerial.send(Uint8Array.of(9, 9), Priority.Transaction);
    const again = new StreamRadioSerialPort(rig.radios[0]!, path);
    cleanups.push(() => again.stop());
    await again.start();
    await waitFor(() => overSerial.linkStats.connects === 2, 15_000, "the reconnect");
    await waitFor(() => atTcp.length === 2, 10_000, "the held frame delivered");
    expect([...atTcp[1]!.bytes]).toEqual([9, 9]);
    expect(rec.lines.some((l) => l.startsWith("warn: radio link lost"))).toBe(true);
  });
});

describe("meshtastic-stream over TCP", () => {
  it("reconnects after the radio is killed and restarted, and delivers what waited", async () => {
    rig = use(await radioRig(2));
    const a = streamTransport(rig.urls[0]!);
    const b = streamTransport(rig.urls[1]!);
    cleanups.push(() => a.stop(), () => b.stop());
    await Promise.all([a.start(), b.start()]);
    const atB = collect(b);
    const server = rig.servers[0]!;
    const port = server.port;
    rig.radios[0]!.closeAll();
    await server.stop();
    await waitFor(() => a.linkState !== "connected", 10_000, "the loss noticed");
    await a.send(Uint8Array.of(0x33), Priority.Consensus);
    const restarted = new StreamRadioTcpServer(rig.radios[0]!);
    await restarted.start("127.0.0.1", port);
    cleanups.push(() => restarted.stop());
    await waitFor(() => a.linkStats.connects === 2, 15_000, "the reconnect");
    await waitFor(() => atB.length === 1, 10_000, "the held frame");
    expect([...atB[0]!.bytes]).toEqual([0x33]);
  });

  it("says so when another client takes the radio's one TCP connection, and takes it back", async () => {
    rig = use(await radioRig(1));
    const rec = logRecorder();
    const ours = streamTransport(rig.urls[0]!, {}, undefined, rec.log);
    cleanups.push(() => ours.stop());
    await ours.start();
    const app = streamTransport(rig.urls[0]!);
    await app.start();
    await waitFor(() => rec.lines.some((l) => l.includes("radio link lost")), 10_000, "the takeover logged");
    expect(rec.lines.find((l) => l.includes("radio link lost"))).toContain("took its one TCP connection");
    await app.stop();
    await waitFor(() => ours.linkState === "connected" && ours.linkStats.connects >= 2, 15_000, "our link back");
    expect(rig.radios[0]!.clientCount).toBe(1);
  });

  it("gives up starting after its timeout with a clear error when nothing answers", async () => {
    const t = streamTransport("tcp://127.0.0.1:1", { startTimeoutMs: 300 });
    await expect(t.start()).rejects.toMatchObject({ code: "RADIO_UNREACHABLE" });
    await expect(t.send(Uint8Array.of(1), Priority.Control)).rejects.toMatchObject({ code: "CLOSED" });
  });
});
