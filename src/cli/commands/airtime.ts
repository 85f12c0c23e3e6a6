import type { Command } from "commander";
import { airtimeMs, dataMessageBytes, lowDataRateOptimise, MAX_LORA_FRAME_BYTES, RADIO_HEADER_BYTES } from "../../mesh/airtime/airtime.js";
import { controlRates } from "../../mesh/airtime/control-rates.js";
import { PRESET_NAMES, PRESETS, presetByName, type PresetName } from "../../mesh/airtime/presets.js";
import { HELD_TXS_AT_MOST, presetParams } from "../../consensus/preset-params.js";
import { MESHTASTIC_MTU } from "../../mesh/transports/meshtastic-mqtt.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseWhole } from "../parse.js";

const TABLE_SIZES = [16, 32, 50, 64, 100, 128, 150, 200, 231, 255];
const round = (ms: number) => Math.round(ms * 1000) / 1000;

interface AirtimeOptions {
  preset: string;
  bytes?: string;
  frameBytes?: string;
  recommend: boolean;
  validators: string;
  json: boolean;
}

/** `--recommend`: the chain parameters chosen for the preset and the validators, the figures behind them, and the control rates that follow. */
function recommendation(name: PresetName, validators: number): Record<string, unknown> {
  const r = presetParams(name, validators);
  const rates = controlRates(PRESETS[name], Number(r.params.slotMs));
  const minutes = (ms: number) => Math.round(ms / 6_000) / 10;
  return {
    preset: name,
    validators,
    slotMs: r.params.slotMs.toString(),
    maxBlockTxs: r.params.maxBlockTxs.toString(),
    shortIdBytes: r.params.shortIdBytes.toString(),
    shortIdCollisionPerFullBlock: `${(r.collisionChanceFullPool * 100).toFixed(2)}% with ${HELD_TXS_AT_MOST} transactions held`,
    carriesTxsPerMinute: Math.round(r.txsPerMinute * 100) / 100,
    fallbackRanks: r.params.fallbackRanks.toString(),
    finalityRule: r.params.finalityRule.toString(),
    roundAirtimeSeconds: Math.round(r.roundAirtimeMs / 100) / 10,
    roundShareOfSlot: `${Math.round((r.roundAirtimeMs / Number(r.params.slotMs)) * 100)}%`,
    validatorAirtimeSecondsPerHour: Math.round((r.validatorSlotAirtimeMs * 3_600_000) / Number(r.params.slotMs) / 1000),
    compactBlockFrameBytes: r.compactBlockFrameBytes,
    voteFrameBytes: r.voteFrameBytes,
    statusEveryMinutes: minutes(rates.statusIntervalMs),
    helloAtMostEveryMinutes: minutes(rates.helloMinIntervalMs),
    genesis: `meshchain genesis new --out draft.json --chain-id NAME --preset ${name} --validators ${validators}`,
  };
}

export function registerAirtime(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  program
    .command("airtime")
    .description("time on air of a LoRa frame for a Meshtastic modem preset")
    .option("--preset <name>", `modem preset (${PRESET_NAMES.join(", ")})`, "LONG_FAST")
    .option("--bytes <n>", "LoRa frame size, 16-byte radio header included (1-255)")
    .option("--frame-bytes <n>", `size of one of our frames (1-${MESHTASTIC_MTU}); adds the radio header and the Data wrapper`)
    .option("--recommend", "print the chain parameters recommended for the preset and --validators (slot, block size, finality rule) and why", false)
    .option("--validators <n>", "with --recommend: how many validators the chain will have", "7")
    .option("--json", "machine-readable output", false)
    .action((opts: AirtimeOptions) =>
      run(opts.json, () => {
        const name = presetByName(opts.preset);
        if (name === null) throw new CliError("INVALID_ARGUMENT", `--preset "${opts.preset}" is not one of ${PRESET_NAMES.join(", ")}`);
        if (opts.bytes !== undefined && opts.frameBytes !== undefined) throw new CliError("INVALID_ARGUMENT", "give --bytes or --frame-bytes, not both");
        if (opts.recommend) {
          if (opts.bytes !== undefined || opts.frameBytes !== undefined) throw new CliError("INVALID_ARGUMENT", "--recommend takes no frame size: drop --bytes/--frame-bytes");
          const validators = parseWhole(opts.validators, "--validators", 256);
          if (validators < 1) throw new CliError("INVALID_ARGUMENT", "--validators must be 1-256");
          print(recommendation(name, validators), opts.json);
          return;
        }
        const m = PRESETS[name];
        const modulation = {
          preset: name,
          spreadingFactor: m.spreadingFactor,
          bandwidthHz: m.bandwidthHz,
          codingRate: `4/${m.codingRateDenominator}`,
          preambleSymbols: m.preambleSymbols,
          lowDataRateOptimise: lowDataRateOptimise(m),
        };
        let bytes: number | null = null;
        if (opts.bytes !== undefined) {
          bytes = parseWhole(opts.bytes, "--bytes", MAX_LORA_FRAME_BYTES);
          if (bytes < 1) throw new CliError("INVALID_ARGUMENT", "--bytes must be 1-255");
        } else if (opts.frameBytes !== undefined) {
          const frame = parseWhole(opts.frameBytes, "--frame-bytes", MESHTASTIC_MTU);
          if (frame < 1) throw new CliError("INVALID_ARGUMENT", `--frame-bytes must be 1-${MESHTASTIC_MTU}`);
          bytes = RADIO_HEADER_BYTES + dataMessageBytes(frame);
        }
        if (bytes !== null) {
          print({ ...modulation, bytes, airtimeMs: round(airtimeMs(m, bytes)) }, opts.json);
          return;
        }
        const rows = TABLE_SIZES.map((b) => {
          const ms = airtimeMs(m, b);
          return { bytes: b, airtimeMs: round(ms), framesPerHourAt10Percent: Math.floor(360_000 / ms) };
        });
        if (opts.json) {
          print({ ...modulation, sizes: rows }, true);
          return;
        }
        print(modulation, false);
        process.stdout.write(`\n${"bytes".padStart(5)}  ${"airtime ms".padStart(10)}  frames/h at 10%\n`);
        for (const r of rows) process.stdout.write(`${String(r.bytes).padStart(5)}  ${r.airtimeMs.toFixed(1).padStart(10)}  ${String(r.framesPerHourAt10Percent).padStart(15)}\n`);
      }),
    );
}
