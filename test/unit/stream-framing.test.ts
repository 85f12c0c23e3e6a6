import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeStreamFrame, MAX_STREAM_PAYLOAD, StreamDeframer } from "../../src/mesh/meshtastic/stream-framing.js";
import { parseRadioAddress, resolveSerialPath } from "../../src/mesh/meshtastic/stream-link.js";
import { RadioViewBuilder, presetDisplayName } from "../../src/mesh/meshtastic/radio-view.js";
import { create } from "@bufbuild/protobuf";
import { Channel, Config, Mesh } from "@meshtastic/protobufs";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function deframe(chunks: Uint8Array[]): { frames: number[][]; log: string[]; deframer: StreamDeframer } {
  const frames: number[][] = [];
  const log: string[] = [];
  const deframer = new StreamDeframer({ frame: (f) => frames.push([...f]), log: (l) => log.push(l) });
  for (const c of chunks) deframer.push(c);
  return { frames, log, deframer };
}

/** Splits bytes at the given cut points. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.slice(at, p));
    at = p;
  }
  out.push(bytes.slice(at));
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
/** Console text never contains the frame start byte 0x94 (it is not valid UTF-8 on its own). */
const consoleLine = fc.stringMatching(/^[A-Za-z0-9 |:.[\]-]{1,60}$/);

describe("stream framing", () => {
  it("writes 0x94 0xC3, the length big-endian, then the payload", () => {
    expect([...encodeStreamFrame(Uint8Array.of(7, 8, 9))]).toEqual([0x94, 0xc3, 0, 3, 7, 8, 9]);
    expect([...encodeStreamFrame(new Uint8Array(300)).slice(0, 4)]).toEqual([0x94, 0xc3, 1, 44]);
  });

  it("refuses a payload over 512 bytes", () => {
    expect(() => encodeStreamFrame(new Uint8Array(MAX_STREAM_PAYLOAD + 1))).toThrow(expect.objectContaining({ code: "FRAME_TOO_LARGE" }));
    expect(encodeStreamFrame(new Uint8Array(MAX_STREAM_PAYLOAD)).length).toBe(516);
  });

  it("gets every frame back, whatever the chunking and the console text between them", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(consoleLine, fc.uint8Array({ maxLength: MAX_STREAM_PAYLOAD })), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (items, cuts) => {
        const stream = concat(items.flatMap(([line, payload]) => [Buffer.from(`${line}\r\n`), encodeStreamFrame(payload)]));
        const { frames, log } = deframe(cut(stream, cuts));
        expect(frames).toEqual(items.map(([, p]) => [...p]));
        expect(log).toEqual(items.map(([line]) => line.trim()).filter((l) => l.length > 0));
      }),
      { numRuns: 300 },
    );
  });

  it("treats a header announcing more than 512 bytes as console text and finds the next frame", () => {
    const { frames, deframer } = deframe([Uint8Array.of(0x94, 0xc3, 0xff, 0xff, 0x41), encodeStreamFrame(Uint8Array.of(1, 2))]);
    expect(frames).toEqual([[1, 2]]);
    expect(deframer.falseStarts).toBe(1);
  });

  it("strips colour codes from console lines", () => {
    const { log } = deframe([Buffer.from("\x1b[34mDEBUG\x1b[0m | hello\n")]);
    expect(log).toEqual(["DEBUG | hello"]);
  });
});

describe("radio addresses", () => {
  it("reads tcp and serial URLs, with the API's default port", () => {
    expect(parseRadioAddress("tcp://meshtastic.local")).toEqual({ kind: "tcp", host: "meshtastic.local", port: 4403 });
    expect(parseRadioAddress("tcp://10.0.0.5:4404")).toEqual({ kind: "tcp", host: "10.0.0.5", port: 4404 });
    expect(parseRadioAddress("tcp://[::1]:4403")).toEqual({ kind: "tcp", host: "::1", port: 4403 });
    expect(parseRadioAddress("serial:///dev/ttyACM0")).toEqual({ kind: "serial", path: "/dev/ttyACM0" });
    expect(parseRadioAddress("serial://auto")).toEqual({ kind: "serial", path: "auto" });
  });

  it.each(["/dev/ttyACM0", "serial://dev/ttyACM0", "tcp://host:0", "tcp://host:99999", "http://radio", "tcp://", ""])("refuses %j with what it expected", (url) => {
    expect(() => parseRadioAddress(url)).toThrow(expect.objectContaining({ code: "BAD_RADIO_URL" }));
  });

  const dir = tempDirsPerTest();
  it("finds the one radio under by-id, and lists them when there are several", () => {
    const root = dir();
    const byId = join(root, "by-id");
    mkdirSync(byId);
    expect(() => resolveSerialPath("auto", byId)).toThrow(expect.objectContaining({ code: "NO_SERIAL_PORT" }));
    writeFileSync(join(root, "ttyACM0"), "");
    symlinkSync(join(root, "ttyACM0"), join(byId, "usb-RAKwireless_WisCore_RAK4631-if00"));
    expect(resolveSerialPath("auto", byId)).toBe(join(byId, "usb-RAKwireless_WisCore_RAK4631-if00"));
    writeFileSync(join(root, "ttyUSB0"), "");
    symlinkSync(join(root, "ttyUSB0"), join(byId, "usb-Silicon_Labs_CP2102-if00-port0"));
    let message = "";
    try {
      resolveSerialPath("auto", byId);
    } catch (e) {
      expect(e).toMatchObject({ code: "SEVERAL_SERIAL_PORTS" });
      message = (e as Error).message;
    }
    expect(message).toContain("RAK4631");
    expect(message).toContain("CP2102");
    expect(message).toContain(join(root, "ttyUSB0"));
    expect(resolveSerialPath("/dev/ttyACM3", byId)).toBe("/dev/ttyACM3");
  });
});

describe("radio view", () => {
  it("names an unnamed channel after its preset and hashes that name, as the firmware does", () => {
    expect(presetDisplayName("LONG_FAST")).toBe("LongFast");
    const b = new RadioViewBuilder();
    b.add(create(Mesh.FromRadioSchema, { payloadVariant: { case: "myInfo", value: create(Mesh.MyNodeInfoSchema, { myNodeNum: 0x1234 }) } }));
    b.add(create(Mesh.FromRadioSchema, { payloadVariant: { case: "channel", value: create(Channel.ChannelSchema, { index: 0, role: Channel.Channel_Role.PRIMARY, settings: create(Channel.ChannelSettingsSchema, { name: "", psk: Uint8Array.of(1) }) }) } }));
    b.add(create(Mesh.FromRadioSchema, { payloadVariant: { case: "channel", value: create(Channel.ChannelSchema, { index: 1, role: Channel.Channel_Role.DISABLED }) } }));
    expect(b.build()).toBeNull();
    b.add(create(Mesh.FromRadioSchema, { payloadVariant: { case: "config", value: create(Config.ConfigSchema, { payloadVariant: { case: "lora", value: create(Config.Config_LoRaConfigSchema, { modemPreset: Config.Config_LoRaConfig_ModemPreset.LONG_FAST, region: Config.Config_LoRaConfig_RegionCode.EU_868, hopLimit: 3 }) } }) } }));
    const view = b.build();
    expect(view).toMatchObject({ nodeNumber: 0x1234, region: "EU_868", preset: "LONG_FAST", hopLimit: 3, rebroadcastMode: "ALL" });
    expect(view?.channels).toHaveLength(1);
    expect(view?.channels[0]).toMatchObject({ name: "LongFast", role: "PRIMARY", hash: channelKey("LongFast", Uint8Array.of(1)).hash });
  });
});
