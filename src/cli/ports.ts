import { createServer } from "node:net";
import { CliError } from "./errors.js";

/**
 * Fail now, before anything is written, if `host:port` cannot be listened on: a taken port is an
 * operator's mistake to fix (another node, mosquitto), never a reason to move somewhere else silently.
 * The real listener still reports a clash that happens in between.
 */
export async function assertCanListen(host: string, port: number, option: string): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError("PORT_IN_USE", `${option} ${port}: ${host}:${port} is already in use (another meshchain node? mosquitto?); stop it or choose another port`);
    if (code === "EACCES") throw new CliError("INVALID_ARGUMENT", `${option} ${port}: not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`);
    throw new CliError("INVALID_ARGUMENT", `${option}: cannot listen on ${host}:${port} (${(e as Error).message})`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
