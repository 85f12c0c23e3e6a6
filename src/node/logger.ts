import { pino, type Logger } from "pino";
import PinoPretty from "pino-pretty";

export type { Logger };

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** pretty: one readable line per event (a terminal); json: pino's JSON lines (journald, scripts); auto: pretty on a TTY. */
export const LOG_FORMATS = ["auto", "pretty", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where lines go; stdout unless a test captures them. */
  readonly destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The format `auto` resolves to for this destination. */
export function resolveLogFormat(format: LogFormat, destination: { isTTY?: boolean }): "pretty" | "json" {
  if (format !== "auto") return format;
  return destination.isTTY === true ? "pretty" : "json";
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? process.stdout;
  const format = resolveLogFormat(opts.format ?? "auto", destination);
  const options = { level: opts.level ?? "info", base: undefined };
  if (format === "json") return pino(options, destination);
  // The status line's record carries its figures under `status` for JSON readers; its message already says them.
  // A stream in this thread (not pino's worker transport): lines come out in order with the rest.
  const pretty = PinoPretty({ destination, colorize: destination.isTTY === true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,status", singleLine: true, sync: true });
  return pino(options, pretty);
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
