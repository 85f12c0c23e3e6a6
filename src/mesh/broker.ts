import { timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { TransportError } from "./errors.js";
import { guardMqttPacketSize } from "./mqtt-size-guard.js";

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  /** Client connections cut for sending a packet over MAX_MQTT_PACKET_BYTES. */
  readonly stats: { oversizeRefused: number };
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** Listen address: loopback by default; 0.0.0.0 (or a LAN address) for a radio or other nodes. */
  readonly host?: string;
  readonly port?: number;
  /** When given, every client must log in as this user; anonymous clients are refused. */
  readonly auth?: { readonly username: string; readonly password: string };
}

function sameSecret(given: Uint8Array | undefined, expected: string): boolean {
  const want = Buffer.from(expected, "utf8");
  return given !== undefined && given.length === want.length && timingSafeEqual(given, want);
}

/**
 * An MQTT broker inside the node (aedes): `broker: embedded`. Enough for a small network or a radio
 * on the LAN; larger deployments run mosquitto beside the radio instead.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const auth = opts.auth;
  const broker = await Aedes.createBroker(
    auth === undefined ? {} : { authenticate: (_client, username, password, done) => done(null, username === auth.username && sameSecret(password, auth.password)) },
  );
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  const stats = { oversizeRefused: 0 };
  server.on("connection", (s) => {
    sockets.add(s);
    // Frames go out as soon as written (see MqttLink.guard): Nagle's wait for an ACK costs each
    // relayed request or answer up to 40 ms on loopback.
    s.setNoDelay(true);
    // Aedes buffers a whole packet before it looks at it: a client announcing more than any of our
    // messages needs is cut at its header instead.
    guardMqttPacketSize(s, () => stats.oversizeRefused++);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new TransportError("BROKER_UNREACHABLE", `embedded broker cannot listen on ${host}:${opts.port ?? 1883}: ${e.message}`)));
    server.listen(opts.port ?? 1883, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : (opts.port ?? 1883);
  return {
    // Clients of a wildcard listener reach it over loopback.
    stats,
    url: `mqtt://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
      }),
  };
}
