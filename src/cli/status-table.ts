import { z } from "zod";
import { formatAge } from "../node/status-line.js";
import { CliError } from "./errors.js";

/**
 * The part of a node's /status the table shows. The answer is checked, not trusted: a node of
 * another version (or something else on that port) gets a clear error, not a table of "undefined".
 */
const statusSchema = z.object({
  chainId: z.string(),
  role: z.string(),
  address: z.string(),
  height: z.number(),
  finalizedHeight: z.number(),
  slot: z.number(),
  lastBlockAgeSeconds: z.number(),
  peers: z.number(),
  sync: z.object({ state: z.string(), percent: z.number(), etaSeconds: z.number().nullable(), targetHeight: z.number(), blocksPerSecond: z.number().nullable().optional() }),
  finality: z.object({ lagBlocks: z.number(), ageSeconds: z.number() }),
  validators: z.number(),
  // Optional: a node from before modes existed leaves it out.
  consensus: z.object({
    mode: z.string(), epoch: z.number(), nextEpochStart: z.number(), joining: z.array(z.string()),
    proposals: z.array(z.object({ id: z.number(), action: z.string(), validator: z.string(), yes: z.number(), endHeight: z.number() })),
  }).optional(),
  links: z.object({ ip: z.string().nullable(), radio: z.string().nullable() }),
  mempool: z.object({ transactions: z.number(), bytes: z.number() }),
  airtime: z.object({ lastHourSeconds: z.number(), budgetSecondsPerHour: z.number(), dutyCycle: z.number() }).nullable(),
  checkpoint: z.object({ height: z.number(), hash: z.string() }).nullable(),
  uptimeSeconds: z.number(),
  warnings: z.array(z.object({ code: z.string(), severity: z.string(), reason: z.string() })),
});

export type StatusView = z.infer<typeof statusSchema>;

export function parseStatus(body: unknown): StatusView {
  const parsed = statusSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError("NODE_API_UNAVAILABLE", `the node's /status is not what this meshchain reads (${issue === undefined ? "unknown shape" : `${issue.path.join(".")}: ${issue.message}`}); are the node and this command the same version?`);
  }
  return parsed.data;
}

function consensusRows(c: NonNullable<StatusView["consensus"]>): [string, string][] {
  const rows: [string, string][] = [["consensus", `${c.mode}, epoch ${c.epoch}, next epoch at height ${c.nextEpochStart}`]];
  if (c.joining.length > 0) rows.push(["joining", `${c.joining.join(", ")} at height ${c.nextEpochStart}`]);
  for (const p of c.proposals) rows.push(["proposal", `#${p.id} ${p.action} ${p.validator}: ${p.yes} yes, open until height ${p.endHeight}`]);
  return rows;
}

/** A short table that reads in one screen: what the node is, where it stands, and what is wrong and why. */
export function formatStatusTable(s: StatusView, width = 100): string {
  const sync =
    s.sync.state === "syncing"
      ? `syncing ${s.sync.percent}% of ${s.sync.targetHeight}${s.sync.blocksPerSecond == null ? "" : `, ${s.sync.blocksPerSecond} blocks/s`}${s.sync.etaSeconds === null ? "" : `, eta ${formatAge(s.sync.etaSeconds)}`}`
      : s.sync.state;
  const rows: [string, string][] = [
    ["role", `${s.role} ${s.address}`],
    ["chain", `${s.chainId}, ${s.validators} validator${s.validators === 1 ? "" : "s"}, slot ${s.slot}`],
    ...(s.consensus === undefined ? [] : consensusRows(s.consensus)),
    ["sync", sync],
    ["head", `${s.height} (${formatAge(s.lastBlockAgeSeconds)} ago)`],
    ["finalized", `${s.finalizedHeight} (${formatAge(s.finality.ageSeconds)} ago, ${s.finality.lagBlocks} behind head)`],
    ["peers", String(s.peers)],
    ["broker", s.links.ip ?? "none"],
    ["radio", s.links.radio ?? "none"],
  ];
  if (s.airtime !== null) {
    const a = s.airtime;
    rows.push(["airtime", `${a.lastHourSeconds.toFixed(1)} s of ${a.budgetSecondsPerHour} s budget this hour (${Math.round((a.lastHourSeconds / a.budgetSecondsPerHour) * 100)}%; duty cycle allows ${Math.round(a.dutyCycle * 3600)} s)`]);
  }
  rows.push(["mempool", `${s.mempool.transactions} txs, ${s.mempool.bytes} bytes`]);
  if (s.checkpoint !== null) rows.push(["checkpoint", `height ${s.checkpoint.height} ${s.checkpoint.hash}`]);
  rows.push(["uptime", formatAge(s.uptimeSeconds)]);
  rows.push(["warnings", s.warnings.length === 0 ? "none" : String(s.warnings.length)]);
  const keyWidth = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(keyWidth)}  ${v}`);
  for (const w of s.warnings) lines.push(...wrap(`${w.severity === "warn" ? "!" : "i"} ${w.code}: ${w.reason}`, width, "    "));
  return `${lines.join("\n")}\n`;
}

/** Break a long line at spaces, indenting continuations. */
function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(line);
  return out;
}
