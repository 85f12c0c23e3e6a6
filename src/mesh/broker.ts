import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { TransportError } from "./errors.js";

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * An MQTT broker inside the node (aedes), for development and tests: `broker: embedded`.
 * Production deployments run mosquitto beside the radio instead.
 */
export async function startEmbeddedBroker(opts: { host?: string; port?: number } = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new TransportError("BROKER_UNREACHABLE", `embedded broker cannot listen on ${host}:${opts.port ?? 1883}: ${e.message}`)));
    server.listen(opts.port ?? 1883, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : (opts.port ?? 1883);
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
      }),
  };
}
