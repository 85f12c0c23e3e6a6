import { pino, type Logger } from "pino";
import PinoPretty from "pino-pretty";
import { redactRecord, redactUrls } from "../core/redact.js";

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
  readonly destination?: { write(line: string): unknown; isTTY?: boolean };
}

/** The format `auto` resolves to for this destination. */
export function resolveLogFormat(format: LogFormat, destination: { isTTY?: boolean }): "pretty" | "json" {
  if (format !== "auto") return format;
  return destination.isTTY === true ? "pretty" : "json";
}

/**
 * The node's logger. Every record passes through the redaction (core/redact.ts) on its way out, so no
 * call site can leak a broker password or a token: not the message, not a field, not a child's bindings.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? process.stdout;
  const format = resolveLogFormat(opts.format ?? "auto", destination);
  // The status line's record carries its figures under `status` for JSON readers; its message already says them.
  // A stream in this thread (not pino's worker transport): lines come out in order with the rest.
  const sink = format === "json" ? destination : PinoPretty({ destination: destination as NodeJS.WritableStream, colorize: destination.isTTY === true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname,status", singleLine: true, sync: true });
  const logger = pino(
    {
      level: opts.level ?? "info",
      base: undefined,
      formatters: {
        log: (record) => redactRecord(record) as Record<string, unknown>,
        bindings: (bindings) => redactRecord(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          // An Error logged alone: its message is also the line's message, so both are redacted.
          const head = first instanceof Error ? [{ err: redactRecord(first) }, ...(rest.length === 0 ? [first.message] : [])] : [first];
          const cleaned = [...head, ...rest].map((a) => (typeof a === "string" ? redactUrls(a) : a));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      // Child bindings are serialized once, when the child is made, past the formatters above.
      onChild: redactChildBindings,
    },
    sink as { write(line: string): void },
  );
  redactChildBindings(logger);
  return logger;
}

function redactChildBindings(logger: Logger): void {
  const child = logger.child.bind(logger);
  logger.child = ((bindings, options) => child(redactRecord(bindings) as typeof bindings, options)) as typeof logger.child;
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
