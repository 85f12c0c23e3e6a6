import { pino, type Logger } from "pino";
import { redactRecord, redactUrls } from "../core/redact.js";

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

export interface LoggerOptions {
  readonly level?: string;
  readonly human?: boolean;
  /** Where the lines go; stdout unless given (tests capture them here). */
  readonly destination?: { write(line: string): void };
}

/**
 * The node's logger. Every record passes through the redaction (core/redact.ts) on its way out, so no
 * call site can leak a broker password or a token: not the message, not a field, not a child's bindings.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const human = opts.human ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const sink = opts.destination ?? process.stdout;
  const destination = human ? { write: (line: string) => void sink.write(humanLine(line)) } : { write: (line: string) => void sink.write(line) };
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
    destination,
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
