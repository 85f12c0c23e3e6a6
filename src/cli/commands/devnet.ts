import type { Command } from "commander";
import { PRESET_NAMES, presetByName } from "../../mesh/airtime/presets.js";
import { runSimDevnet } from "../../node/devnet.js";
import { runMqttDevnet } from "../../node/mqtt-devnet.js";
import { parseDuration } from "../../node/duration.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseWhole } from "../parse.js";

interface DevnetCliOptions {
  nodes: string; validators: string; preset: string; loss: string; duration: string; txRate: string; seed: string;
  kill: boolean; lateJoin: string; transport: string; broker?: string; radioLink?: string; slot?: string; json: boolean;
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
    .option("--slot <time>", "slot length (default: the chain's, 30s)")
    .option("--kill", "crash and restart random nodes every 20 virtual minutes", false)
    .option("--late-join <n>", "this many nodes start a third of the way in, with empty stores", "0")
    .option("--transport <kind>", "sim (the LoRa simulator, virtual time) or mqtt (real time: full nodes through a broker and emulated radios)", "sim")
    .option("--broker <url>", "with --transport mqtt: the broker to use (default: an embedded one)")
    .option("--radio-link <kind>", "real time, full nodes each with an emulated radio reached over: stream (its stream API on TCP, as by USB) or mqtt-gateway (same as --transport mqtt)")
    .option("--json", "machine-readable output", false)
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
        const durationMs = parseDuration(opts.duration);
        const slotMs = opts.slot === undefined ? undefined : parseDuration(opts.slot);
        const txPerMinute = Number(opts.txRate);
        if (!(txPerMinute >= 0)) throw new CliError("INVALID_ARGUMENT", "--tx-rate must be a non-negative number");
        const common = {
          nodes, validators, preset, loss, durationMs, txPerMinute, seed: parseWhole(opts.seed, "--seed", 2 ** 31), kill: opts.kill, lateJoin,
          ...(slotMs === undefined ? {} : { params: { slotMs: BigInt(slotMs) } }),
        };
        const realTime = opts.radioLink === undefined ? "--transport mqtt" : `--radio-link ${opts.radioLink}`;
        if (opts.transport === "mqtt" && validators < 2) throw new CliError("INVALID_ARGUMENT", `${realTime} needs at least two validators`);
        if (opts.transport === "mqtt" && lateJoin > 0) throw new CliError("INVALID_ARGUMENT", "--late-join is a simulator option");
        const realTimeOptions = { ...common, ...(opts.broker === undefined ? {} : { broker: opts.broker }), ...(opts.radioLink === "stream" ? { radioLink: "stream" as const } : {}) };
        const report = opts.transport === "mqtt" ? await runMqttDevnet(realTimeOptions) : await runSimDevnet(common);
        const { nodes: _perNode, ...summary } = report;
        print(summary, opts.json);
      }),
    );
}
