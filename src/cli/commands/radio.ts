import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { RadioLinkError } from "../../mesh/errors.js";
import { adminPacket, planSetup } from "../../mesh/meshtastic/radio-admin.js";
import { checkRadio } from "../../mesh/meshtastic/radio-check.js";
import { listSerialDevices, parseRadioAddress, type RadioAddress } from "../../mesh/meshtastic/stream-link.js";
import { openRadio, type OpenedRadio } from "../../mesh/meshtastic/stream-session.js";
import { systemClock } from "../../node/clock.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parsePskArg } from "../parse.js";
import { parseChannelArgs, parsePresetArg, parseRegionArg, parseStreamRadioArg } from "../radio-flags.js";
import { radioProblemLines, radioViewLines } from "../radio-format.js";
import { secretFrom } from "../secrets.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

const RADIO_HELP = "the radio: serial:///dev/ttyACM0, serial://auto (the one USB radio plugged in) or tcp://host:4403";
/** How long setup waits for the radio to come back after its reboot. */
const REBOOT_WAIT_MS = 90_000;
/** How long setup waits to see the reboot begin before it tries to reconnect anyway. */
const REBOOT_NOTICE_MS = 20_000;

interface CommonOptions { radio: string; json: boolean }
interface CheckOptions extends CommonOptions { channel: string; psk?: string; pskFile?: string; region?: string; preset?: string; via: string }
interface SetupOptions extends CommonOptions { channel?: string; psk?: string; pskFile?: string; region?: string; preset?: string; yes: boolean }

/**
 * The channel key, base64: `--psk` (visible in `ps`, so for throwaway keys), else `--psk-file`, else
 * MESHCHAIN_RADIO_PSK, the same sources `meshchain start` reads.
 */
function channelPsk(opts: { psk?: string; pskFile?: string }): string | undefined {
  if (opts.psk !== undefined && opts.pskFile !== undefined) throw new CliError("INVALID_ARGUMENT", "give the channel key once: --psk or --psk-file, not both");
  return opts.psk ?? secretFrom(opts.pskFile, "MESHCHAIN_RADIO_PSK", process.env, "channel key");
}

function address(opts: CommonOptions): RadioAddress {
  return parseRadioAddress(parseStreamRadioArg(opts.radio));
}

const writeLines = (lines: string[]): void => void process.stdout.write(`${lines.join("\n")}\n`);

async function withRadio<T>(opts: CommonOptions, use: (r: OpenedRadio) => Promise<T>): Promise<T> {
  const radio = await openRadio(address(opts), systemClock);
  try {
    return await use(radio);
  } finally {
    radio.session.close();
  }
}

/** Tries the handshake again until the radio answers (after its reboot) or the time is up. */
async function waitForRadio(where: RadioAddress, deadline: number): Promise<OpenedRadio> {
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      return await openRadio(where, systemClock, { handshakeTimeoutMs: 10_000 });
    } catch (e) {
      if (!(e instanceof RadioLinkError)) throw e;
      last = e;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  throw new RadioLinkError("RADIO_UNREACHABLE", `the radio did not come back within ${REBOOT_WAIT_MS / 1000} s after its reboot${last instanceof Error ? ` (${last.message})` : ""}`);
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) throw new CliError("INVALID_ARGUMENT", "not a terminal, so no one can confirm: add --yes to apply these changes");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerRadio(program: Command, run: Run): void {
  const radio = program.command("radio").description("the Meshtastic radio on the USB cable or network: what it reports, what would stop MeshChain, and setting it up");

  radio
    .command("list")
    .description("USB serial devices under /dev/serial/by-id (radios plugged into this computer)")
    .option("--json", "machine-readable output", false)
    .action((opts: { json: boolean }) =>
      run(opts.json, () => {
        const devices = listSerialDevices();
        if (opts.json) print({ devices }, true);
        else writeLines(devices.length === 0 ? ["no USB serial devices (is the radio plugged in? does the cable carry data?)"] : devices.map((d) => `serial://${d.byId}  (${d.device})`));
      }),
    );

  radio
    .command("info")
    .description("what the radio reports: node number, firmware, region, preset, channels, relaying")
    .option("--radio <where>", RADIO_HELP, "serial://auto")
    .option("--json", "machine-readable output", false)
    .action((opts: CommonOptions) =>
      run(opts.json, () =>
        withRadio(opts, async ({ view }) => {
          if (opts.json) print({ ...view }, true);
          else writeLines(radioViewLines(view));
        }),
      ),
    );

  radio
    .command("check")
    .description("list every radio setting that would stop MeshChain working, with its fix; exit status 1 if any")
    .option("--radio <where>", RADIO_HELP, "serial://auto")
    .option("--channel <name>", "the Meshtastic channel MeshChain uses", "MeshChain")
    .option("--psk <base64>", "that channel's key (default AQ==, Meshtastic's public key; shows in `ps`: prefer --psk-file)")
    .option("--psk-file <path>", "file holding that channel's key in base64 (else MESHCHAIN_RADIO_PSK)")
    .option("--region <region>", "the chain's region, if the radio must match it")
    .option("--preset <name>", "the chain's modem preset, if the radio must match it")
    .option("--via <path>", "how the node reaches this radio: stream (USB/TCP) or mqtt (its MQTT gateway)", "stream")
    .option("--json", "machine-readable output", false)
    .action((opts: CheckOptions) =>
      run(opts.json, async () => {
        if (opts.via !== "stream" && opts.via !== "mqtt") throw new CliError("INVALID_ARGUMENT", `--via "${opts.via}" is not stream or mqtt`);
        const channel = parseChannelArgs(opts.channel, channelPsk(opts) ?? "AQ==");
        const region = opts.region === undefined ? undefined : parseRegionArg(opts.region);
        const preset = opts.preset === undefined ? undefined : parsePresetArg(opts.preset);
        await withRadio(opts, async ({ view }) => {
          const problems = checkRadio(view, { channel, path: opts.via as "stream" | "mqtt", ...(region === undefined ? {} : { region }), ...(preset === undefined ? {} : { preset }) });
          if (opts.json) print({ ok: problems.length === 0, problems }, true);
          else writeLines(radioProblemLines(problems));
          if (problems.length > 0) process.exitCode = 1;
        });
      }),
    );

  radio
    .command("setup")
    .description("put MeshChain's channel (and region, preset) on the radio through admin messages; shows the changes and asks first")
    .option("--radio <where>", RADIO_HELP, "serial://auto")
    .option("--channel <name>", "the channel MeshChain uses (required)")
    .option("--psk-file <path>", "file holding its key in base64, 16 or 32 bytes for a private channel (else MESHCHAIN_RADIO_PSK)")
    .option("--psk <base64>", "its key on the command line (shows in `ps`: prefer --psk-file)")
    .option("--region <region>", "LoRa region to set")
    .option("--preset <name>", "modem preset to set")
    .option("--yes", "apply without asking", false)
    .option("--json", "machine-readable output", false)
    .action((opts: SetupOptions) =>
      run(opts.json, async () => {
        const pskText = channelPsk(opts);
        if (opts.channel === undefined || pskText === undefined) throw new CliError("INVALID_ARGUMENT", "radio setup needs --channel <name> and the channel key: --psk-file <path> (or MESHCHAIN_RADIO_PSK)");
        const channel = parseChannelArgs(opts.channel, pskText);
        const psk = parsePskArg(pskText);
        const region = opts.region === undefined ? undefined : parseRegionArg(opts.region);
        const preset = opts.preset === undefined ? undefined : parsePresetArg(opts.preset);
        const where = address(opts);
        if (opts.json && !opts.yes) throw new CliError("INVALID_ARGUMENT", "--json cannot ask for confirmation: add --yes");
        let rebooted: () => void = () => undefined;
        const rebootSeen = new Promise<void>((resolve) => (rebooted = resolve));
        const opened = await openRadio(where, systemClock, { onClosed: () => rebooted(), onMessage: (m) => m.payloadVariant.case === "rebooted" && rebooted() });
        let applied: readonly { setting: string; from: string; to: string }[] | false;
        try {
          const { session, view, raw } = opened;
          const plan = planSetup(view, raw, { channel, psk, ...(region === undefined ? {} : { region }), ...(preset === undefined ? {} : { preset }) });
          if (plan.changes.length === 0) {
            if (opts.json) print({ changes: [], applied: false }, true);
            else writeLines(["radio setup: the radio is already set up for MeshChain; nothing to change"]);
            return;
          }
          if (!opts.json) writeLines(["radio setup will change:", ...plan.changes.map((c) => `  ${c.setting}: ${c.from} -> ${c.to}`), "the radio reboots afterwards."]);
          if (!opts.yes && !(await confirm("apply? [y/N] "))) {
            writeLines(["nothing changed"]);
            return;
          }
          let id = 1 + Math.floor(Math.random() * 0x7fff_0000);
          for (const m of plan.messages) session.sendPacket(adminPacket(view.nodeNumber, id++, m));
          if (!opts.json) writeLines(["sent; waiting for the radio to reboot …"]);
          // The reboot shows as the line closing (USB and TCP) or a `rebooted` message (a UART bridge stays open).
          await Promise.race([rebootSeen, new Promise((r) => setTimeout(r, REBOOT_NOTICE_MS))]);
          applied = plan.changes;
        } finally {
          opened.session.close();
        }
        const back = await waitForRadio(where, Date.now() + REBOOT_WAIT_MS);
        try {
          const problems = checkRadio(back.view, { channel, path: "stream", ...(region === undefined ? {} : { region }), ...(preset === undefined ? {} : { preset }) });
          if (opts.json) print({ changes: applied, applied: true, problems }, true);
          else writeLines(["radio is back.", ...radioProblemLines(problems)]);
          if (problems.length > 0) process.exitCode = 1;
        } finally {
          back.session.close();
        }
      }),
    );
}
