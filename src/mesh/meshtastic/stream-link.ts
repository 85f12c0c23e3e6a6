import { readdirSync, realpathSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { SerialPort } from "serialport";
import { RadioLinkError } from "../errors.js";
import { FRAME_START2 } from "./stream-framing.js";

/** The firmware's TCP API port (ServerAPI), also meshtasticd's. */
export const DEFAULT_TCP_PORT = 4403;
/** Serial API speed: the firmware's console runs at 115200 baud. */
export const SERIAL_BAUD = 115_200;
const BY_ID_DIR = "/dev/serial/by-id";

export type RadioAddress = { readonly kind: "tcp"; readonly host: string; readonly port: number } | { readonly kind: "serial"; readonly path: string };

/** A byte pipe to a radio, whatever carries it. */
export interface ByteLink {
  readonly description: string;
  write(bytes: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once, when the pipe is gone for any reason (the reason in words). */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

/**
 * `tcp://host[:port]`, `serial:///dev/ttyACM0`, or `serial://auto` (the one radio under
 * /dev/serial/by-id). Anything else is refused with what was expected.
 */
export function parseRadioAddress(url: string): RadioAddress {
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (tcp !== null) {
    const port = tcp[2] === undefined ? DEFAULT_TCP_PORT : Number(tcp[2]);
    if (port < 1 || port > 65535) throw new RadioLinkError("BAD_RADIO_URL", `port ${port} in "${url}" is not 1-65535`);
    return { kind: "tcp", host: (tcp[1] as string).replace(/^\[|\]$/g, ""), port };
  }
  const serial = /^serial:\/\/(\/[^\s]+|auto)$/.exec(url);
  if (serial !== null) return { kind: "serial", path: serial[1] as string };
  throw new RadioLinkError("BAD_RADIO_URL", `"${url}" is not a radio address: use serial:///dev/ttyACM0 (or serial://auto) for a USB cable, or tcp://host:4403 for a network radio or meshtasticd`);
}

export const formatRadioAddress = (a: RadioAddress): string => (a.kind === "tcp" ? `tcp://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}` : `serial://${a.path}`);

/** Serial devices under /dev/serial/by-id, with the device each points at. */
export function listSerialDevices(dir = BY_ID_DIR): { readonly byId: string; readonly device: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const byId = join(dir, name);
    let device = byId;
    try {
      device = realpathSync(byId);
    } catch {
      // A dangling link (device just unplugged): listed as it is.
    }
    return { byId, device };
  });
}

/** `auto` becomes the single radio plugged in; none or several is an error listing what to choose. */
export function resolveSerialPath(path: string, dir = BY_ID_DIR): string {
  if (path !== "auto") return path;
  const devices = listSerialDevices(dir);
  if (devices.length === 0) throw new RadioLinkError("NO_SERIAL_PORT", `no USB serial device under ${dir}: is the radio plugged in (and powered)? Name it with --radio serial:///dev/ttyACM0`);
  if (devices.length > 1) {
    throw new RadioLinkError("SEVERAL_SERIAL_PORTS", `several USB serial devices; choose one with --radio serial://<path>:\n${devices.map((d) => `  serial://${d.byId}  (${d.device})`).join("\n")}`);
  }
  return (devices[0] as { byId: string }).byId;
}

class SocketLink implements ByteLink {
  private closedWith: string | null = null;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly socket: Socket,
    readonly description: string,
  ) {
    socket.setNoDelay(true);
    let lastError: string | null = null;
    socket.on("error", (e) => (lastError = e.message));
    socket.on("end", () => (lastError ??= "the radio closed the connection"));
    socket.on("close", () => this.closed(lastError ?? "the connection closed"));
  }

  write(bytes: Uint8Array): void {
    if (this.closedWith === null) this.socket.write(bytes);
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.socket.on("data", (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedWith !== null) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private closed(reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    for (const l of this.closeListeners) l(reason);
  }
}

class SerialLink implements ByteLink {
  private closedWith: string | null = null;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly port: SerialPort,
    readonly description: string,
  ) {
    let lastError: string | null = null;
    port.on("error", (e: Error) => (lastError = e.message));
    port.on("close", (e: Error | null) => this.closed(e?.message ?? lastError ?? "the serial port closed (cable pulled or radio reset?)"));
  }

  write(bytes: Uint8Array): void {
    if (this.closedWith === null) this.port.write(Buffer.from(bytes));
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.port.on("data", (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedWith !== null) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  close(): void {
    if (this.port.isOpen) this.port.close(() => undefined);
    else this.closed("closed by us");
  }

  private closed(reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    for (const l of this.closeListeners) l(reason);
  }
}

/** What an operator can do about a serial port that will not open, by the system's reason. */
function serialHint(message: string): string {
  if (/no such file|ENOENT/i.test(message)) return " (no such device: is the radio plugged in with a data cable? meshchain radio list shows what is)";
  if (/permission denied|EACCES/i.test(message)) return " (permission denied: add this user to the dialout group, then log in again)";
  if (/lock|busy|EBUSY/i.test(message)) return " (in use: close the Meshtastic CLI or any other program using the port)";
  return "";
}

/** Opens the pipe once (no retry: the transport decides when to try again). */
export async function openByteLink(address: RadioAddress, timeoutMs = 5_000): Promise<ByteLink> {
  if (address.kind === "tcp") {
    const socket = connect({ host: address.host, port: address.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RadioLinkError("RADIO_UNREACHABLE", `no answer from ${formatRadioAddress(address)} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(new RadioLinkError("RADIO_UNREACHABLE", `cannot reach ${formatRadioAddress(address)}: ${e.message}`));
      });
    });
    return new SocketLink(socket, formatRadioAddress(address));
  }
  const path = resolveSerialPath(address.path);
  // Loaded only for a serial radio: its native binding is not needed by nodes on TCP or MQTT.
  const { SerialPort: Port } = await import("serialport");
  const port = new Port({ path, baudRate: SERIAL_BAUD, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((e) => (e === null ? resolve() : reject(new RadioLinkError("RADIO_UNREACHABLE", `cannot open ${path}: ${e.message.replace(/^Error: /, "")}${serialHint(e.message)}`)))),
  );
  const link = new SerialLink(port, `serial://${path}`);
  // A radio whose console is in text mode switches to the API when it sees frame start bytes.
  link.write(new Uint8Array(32).fill(FRAME_START2));
  return link;
}
