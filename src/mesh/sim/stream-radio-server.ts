import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { ApiPeer, StreamRadio } from "./stream-radio.js";

function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

function socketPeer(socket: Socket, kind: ApiPeer["kind"]): ApiPeer {
  return { kind, write: (b) => void (socket.destroyed ? undefined : socket.write(b)), close: () => socket.destroy() };
}

/**
 * The emulated radio's TCP API (port 4403 on a real radio; a free port here): one client at a time,
 * a new one closes the old as the firmware's ServerAPI does, and nobody is let in while it reboots.
 */
export class StreamRadioTcpServer {
  private server: Server | null = null;
  private current: Socket | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly radio: StreamRadio) {}

  /** Port 0 takes a free one; a restarted radio passes its old port to come back at the same address. */
  async start(host = "127.0.0.1", port = 0): Promise<string> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    this.port = await listen(server, host, port);
    return `tcp://${host}:${this.port}`;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    const old = this.current;
    if (old !== null) {
      // One client: the newcomer takes the socket.
      const oldPeer = (old as Socket & { peer?: ApiPeer }).peer;
      if (oldPeer !== undefined) this.radio.detach(oldPeer);
      old.destroy();
    }
    const peer = socketPeer(socket, "tcp");
    const input = this.radio.attach(peer);
    if (input === null) {
      socket.destroy();
      return;
    }
    (socket as Socket & { peer?: ApiPeer }).peer = peer;
    this.current = socket;
    socket.on("data", (b: Buffer) => input(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    socket.on("close", () => {
      this.radio.detach(peer);
      if (this.current === socket) this.current = null;
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The emulated radio behind a pseudo-terminal, as its USB serial port: `socat` makes the PTY (at
 * `path`, a symlink to /dev/pts/N) and carries its bytes to a private local socket. When the radio
 * reboots or stops, the PTY goes away as a USB device does, and comes back after the reboot.
 */
export class StreamRadioSerialPort {
  private server: Server | null = null;
  private socat: ChildProcess | null = null;
  private socket: Socket | null = null;
  private stopped = false;
  private port = 0;

  constructor(
    private readonly radio: StreamRadio,
    readonly path: string,
  ) {
    radio.onReboot(() => void this.replug());
  }

  async start(): Promise<string> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    this.port = await listen(server, "127.0.0.1");
    await this.plug();
    return `serial://${this.path}`;
  }

  private accept(socket: Socket): void {
    socket.on("error", () => undefined);
    const peer = socketPeer(socket, "serial");
    const input = this.radio.attach(peer);
    if (input === null) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.on("data", (b: Buffer) => input(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    socket.on("close", () => this.radio.detach(peer));
  }

  /** Starts socat and waits for the PTY link to exist. */
  private async plug(): Promise<void> {
    const child = spawn("socat", [`PTY,link=${this.path},raw,echo=0,wait-slave`, `TCP:127.0.0.1:${this.port}`], { stdio: "ignore" });
    this.socat = child;
    child.on("error", () => undefined);
    // socat ends when the client closes the PTY; a USB port stays, so a new one is made at once.
    child.on("exit", () => {
      if (this.socat === child && !this.stopped && !this.radio.rebooting) {
        this.socat = null;
        void this.plug().catch(() => undefined);
      }
    });
    for (let i = 0; i < 200 && !existsSync(this.path); i++) await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(this.path)) throw new Error(`socat did not create ${this.path} (is socat installed?)`);
  }

  private async unplug(): Promise<void> {
    const child = this.socat;
    this.socat = null;
    this.socket?.destroy();
    this.socket = null;
    if (child !== null && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
    }
  }

  private async replug(): Promise<void> {
    await this.unplug();
    while (!this.stopped && this.radio.rebooting) await new Promise((r) => setTimeout(r, 50));
    if (!this.stopped) await this.plug();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.unplug();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
