import { pino, type Logger } from "pino";

export type { Logger };

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** One readable line per record for a terminal; the JSON is left alone for journald and scripts. */
function humanLine(line: string): string {
  try {
    const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    const clock = new Date(Number(time)).toISOString().slice(11, 19);
    return `${clock} ${(LEVELS[Number(level)] ?? "LOG").padEnd(5)} ${String(msg)}${fields.length > 0 ? `  ${fields.join(" ")}` : ""}\n`;
  } catch {
    return line;
  }
}

export function createLogger(opts: { level?: string; human?: boolean } = {}): Logger {
  const human = opts.human ?? process.stdout.isTTY === true;
  const destination = human ? { write: (line: string) => void process.stdout.write(humanLine(line)) } : process.stdout;
  return pino({ level: opts.level ?? "info", base: undefined }, destination);
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
