import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { DevnetSample } from "../../devnet/common.js";
import { devnetReportHtml } from "../../devnet/report-html.js";
import { formatAge } from "../../node/status-line.js";
import { PRESET_NAMES, presetByName } from "../../mesh/airtime/presets.js";
import { runSimDevnet } from "../../devnet/sim.js";
import { runMqttDevnet } from "../../devnet/mqtt.js";
import { parseDuration } from "../../node/duration.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseWhole } from "../parse.js";

interface DevnetCliOptions {
  nodes: string; validators: string; preset: string; loss: string; duration: string; txRate: string; seed: string;
  kill: boolean; lateJoin: string; routers: string; transport: string; broker?: string; radioLink?: string; slot?: string; finalityRule: string; json: boolean; report?: string; quiet: boolean;
}

/** One progress line on stderr (stdout keeps the report alone, for scripts). */
function progressLine(s: DevnetSample, durationSeconds: number, virtual: boolean): string {
  const airtime = Object.values(s.airtimeSeconds).reduce((a, b) => a + b, 0);
  return `devnet ${formatAge(s.seconds)} of ${formatAge(durationSeconds)}${virtual ? " (virtual)" : ""}: finalized ${s.finalizedHeight}, head ${s.headHeight}, txs final ${s.txsFinal}/${s.txsSubmitted}, airtime ${airtime.toFixed(0)} s\n`;
}

export function registerDevnet(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("devnet")
    .description("run N full nodes on this machine over the LoRa simulator (virtual time) or through MQTT and emulated radios (real time), and report")
    .option("--nodes <n>", "full nodes", "10")
    .option("--validators <n>", "validators among them", "7")
    .option("--preset <name>", `modem preset (${PRESET_NAMES.join(", ")})`, "LONG_FAST")
    .option("--loss <fraction>", "loss on every radio link, 0-1", "0.1")
    .option("--duration <time>", "virtual time, like 90s, 30m, 2h", "2h")
    .option("--tx-rate <n>", "transfers per minute, at random nodes", "3")
    .option("--seed <n>", "random seed", "1")
    .option("--slot <time>", "slot length (default: chosen for the preset and the validators, as meshchain airtime --recommend prints)")
    .option("--finality-rule <rule>", "the genesis finality rule: two-slot (a block final once its child in the next slot is notarized) or precommit (also final in its own slot by precommits, docs/consensus.md; what a genesis made for a preset gets)", "precommit")
    .option("--kill", "crash and restart random nodes every 20 virtual minutes", false)
    .option("--late-join <n>", "this many nodes start a third of the way in, with empty stores", "0")
    .option("--routers <n>", "this many radios, those nearest the middle, take Meshtastic's ROUTER role (they relay first); the rest are CLIENT", "0")
    .option("--transport <kind>", "sim (the LoRa simulator, virtual time) or mqtt (real time: full nodes through a broker and emulated radios)", "sim")
    .option("--broker <url>", "with --transport mqtt: the broker to use (default: an embedded one)")
    .option("--radio-link <kind>", "real time, full nodes each with an emulated radio reached over: stream (its stream API on TCP, as by USB) or mqtt-gateway (same as --transport mqtt)")
    .option("--json", "machine-readable output", false)
    .option("--report <file>", "also write the full report with its timeline: .html (a page with plots) or .json")
    .option("--quiet", "no progress lines on stderr while it runs", false)
    .action((opts: DevnetCliOptions) =>
      run(opts.json, async () => {
        if (opts.transport !== "sim" && opts.transport !== "mqtt") throw new CliError("INVALID_ARGUMENT", `--transport ${opts.transport}: sim or mqtt`);
        if (opts.radioLink !== undefined && opts.radioLink !== "stream" && opts.radioLink !== "mqtt-gateway") throw new CliError("INVALID_ARGUMENT", `--radio-link ${opts.radioLink}: stream or mqtt-gateway`);
        if (opts.radioLink === "stream" && opts.broker !== undefined) throw new CliError("INVALID_ARGUMENT", "--radio-link stream needs no broker: drop --broker");
        if (opts.radioLink !== undefined) opts.transport = "mqtt";
        if (opts.broker !== undefined && (opts.transport !== "mqtt" || !/^mqtts?:\/\/[^\s]+$/.test(opts.broker))) throw new CliError("INVALID_ARGUMENT", "--broker takes an mqtt:// URL, with --transport mqtt");
        const preset = presetByName(opts.preset);
        if (preset === null) throw new CliError("INVALID_ARGUMENT", `--preset "${opts.preset}" is unknown`);
        const loss = Number(opts.loss);
        if (!(loss >= 0 && loss <= 1)) throw new CliError("INVALID_ARGUMENT", "--loss must be a fraction from 0 to 1");
        const nodes = parseWhole(opts.nodes, "--nodes", 64);
        const validators = parseWhole(opts.validators, "--validators", 64);
        if (nodes < 1 || validators < 1 || validators > nodes) throw new CliError("INVALID_ARGUMENT", "need 1 ≤ validators ≤ nodes");
        const lateJoin = parseWhole(opts.lateJoin, "--late-join", 64);
        if (lateJoin >= nodes) throw new CliError("INVALID_ARGUMENT", "--late-join must leave at least one node to start with");
        const routers = parseWhole(opts.routers, "--routers", 64);
        if (routers > nodes) throw new CliError("INVALID_ARGUMENT", "--routers cannot exceed --nodes");
        const durationMs = parseDuration(opts.duration);
        const slotMs = opts.slot === undefined ? undefined : parseDuration(opts.slot);
        if (opts.finalityRule !== "two-slot" && opts.finalityRule !== "precommit") throw new CliError("INVALID_ARGUMENT", `--finality-rule ${opts.finalityRule}: two-slot or precommit`);
        const params = { ...(slotMs === undefined ? {} : { slotMs: BigInt(slotMs) }), finalityRule: opts.finalityRule === "precommit" ? 1n : 0n };
        const txPerMinute = Number(opts.txRate);
        if (!(txPerMinute >= 0)) throw new CliError("INVALID_ARGUMENT", "--tx-rate must be a non-negative number");
        if (opts.report !== undefined && !/\.(html|json)$/.test(opts.report)) throw new CliError("INVALID_ARGUMENT", `--report ${opts.report}: name a .html or .json file`);
        const virtual = opts.transport === "sim";
        const common = {
          ...(opts.quiet ? {} : { onProgress: (s: DevnetSample) => void process.stderr.write(progressLine(s, durationMs / 1000, virtual)) }),
          nodes, validators, preset, loss, durationMs, txPerMinute, seed: parseWhole(opts.seed, "--seed", 2 ** 31), kill: opts.kill, lateJoin, routers,
          params,
        };
        const realTime = opts.radioLink === undefined ? "--transport mqtt" : `--radio-link ${opts.radioLink}`;
        if (opts.transport === "mqtt" && validators < 2) throw new CliError("INVALID_ARGUMENT", `${realTime} needs at least two validators`);
        if (opts.transport === "mqtt" && lateJoin > 0) throw new CliError("INVALID_ARGUMENT", "--late-join is a simulator option");
        if (opts.transport === "mqtt" && routers > 0) throw new CliError("INVALID_ARGUMENT", "--routers is a simulator option");
        const realTimeOptions = { ...common, ...(opts.broker === undefined ? {} : { broker: opts.broker }), ...(opts.radioLink === "stream" ? { radioLink: "stream" as const } : {}) };
        const report = opts.transport === "mqtt" ? await runMqttDevnet(realTimeOptions) : await runSimDevnet(common);
        if (opts.report !== undefined) {
          const title = `MeshChain devnet: ${nodes} nodes, ${validators} validators, ${opts.preset}, loss ${loss}, ${opts.duration}, ${opts.transport}, seed ${opts.seed}`;
          try {
            writeFileSync(opts.report, opts.report.endsWith(".html") ? devnetReportHtml(report, title) : `${JSON.stringify(report, null, 2)}\n`);
          } catch (e) {
            throw new CliError("INVALID_ARGUMENT", `--report ${opts.report}: cannot write (${(e as Error).message})`);
          }
        }
        const { nodes: _perNode, timeline: _timeline, finalityLatenciesSeconds: _latencies, ...summary } = report;
        print(summary, opts.json);
      }),
    );
}
