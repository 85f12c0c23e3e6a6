import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fromHex, toHex, utf8 } from "../../core/bytes.js";
import { describeFrame, describeMeshtasticPayload } from "../../mesh/describe.js";
import { channelHash, channelKey, expandPsk } from "../../mesh/meshtastic/channel.js";
import { decodeEnvelope, encodeEnvelope, portName, PRIVATE_APP_PORT } from "../../mesh/meshtastic/envelope.js";
import { BROADCAST, formatNodeId, parseNodeId } from "../../mesh/meshtastic/node-number.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parsePskArg, parseWhole } from "../parse.js";

/** Hex if it looks like hex, else base64; anything else is an argument error. */
function parseBinary(text: string, what: string): Uint8Array {
  const t = text.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(t)) return fromHex(t);
  if (t.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t)) return new Uint8Array(Buffer.from(t, "base64"));
  throw new CliError("INVALID_ARGUMENT", `${what} must be hex or base64`);
}

function nodeArg(text: string, option: string): number {
  try {
    return parseNodeId(text);
  } catch {
    return parseWhole(text, option, 0xffffffff);
  }
}

function numberArg(text: string, option: string): number {
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  return parseWhole(text, option, 0xffffffff);
}

interface DecodeOptions { psk: string; port: string; json: boolean }
interface EncodeOptions {
  text?: string; frame?: string; from: string; to: string; id?: string; channel: string; psk: string;
  port?: string; hopLimit: string; gateway?: string; region: string; json: boolean;
}

export function registerMesh(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  const mesh = program.command("mesh").description("inspect and build Meshtastic packets (radio debugging)");
  mesh
    .command("decode")
    .description("decode a ServiceEnvelope (hex or base64, argument or stdin)")
    .argument("[envelope]", "the envelope; read from stdin when absent")
    .option("--psk <base64>", "channel key: AQ== (default key), 16 or 32 bytes", "AQ==")
    .option("--port <n>", "our private application port", String(PRIVATE_APP_PORT))
    .option("--json", "machine-readable output", false)
    .action((arg: string | undefined, opts: DecodeOptions) =>
      run(opts.json, () => {
        const input = arg ?? readFileSync(0, "utf8");
        const bytes = parseBinary(input, "the envelope");
        const psk = parsePskArg(opts.psk);
        const ourPort = parseWhole(opts.port, "--port", 511);
        // The key is the operator's; the channel name (for the hash check) is the envelope's own.
        const key = expandPsk(psk);
        const d = decodeEnvelope(bytes, { name: "", key, hash: -1 });
        const expectedHash = channelHash(d.channelId, key);
        const out: Record<string, unknown> = {
          channelId: d.channelId,
          gatewayId: d.gatewayId,
          from: d.from,
          fromId: formatNodeId(d.from),
          to: d.to,
          toId: formatNodeId(d.to),
          id: d.id,
          channel: d.channel,
          channelHashMatches: !d.wasEncrypted || d.channel === expectedHash,
          hopLimit: d.hopLimit,
          hopStart: d.hopStart,
          encrypted: d.wasEncrypted,
          portnum: d.data.portnum,
          portnumName: portName(d.data.portnum),
          bitfield: d.data.bitfield,
          wantResponse: d.data.wantResponse,
          payloadHex: toHex(d.data.payload),
          ...describeMeshtasticPayload(d.data.portnum, d.data.payload),
        };
        if (d.data.portnum === ourPort) out.frame = describeFrame(d.data.payload);
        print(out, opts.json);
      }),
    );
  mesh
    .command("encode")
    .description("build a ServiceEnvelope from a text or a MeshChain frame")
    .option("--text <text>", "a text message (port TEXT_MESSAGE_APP)")
    .option("--frame <hex>", "a MeshChain frame (our private port)")
    .option("--from <node>", "sender node id (!xxxxxxxx or a number)", "!00000004")
    .option("--to <node>", "destination node id", formatNodeId(BROADCAST))
    .option("--id <n>", "packet id (decimal or 0x…); random when absent")
    .option("--channel <name>", "channel name", "LongFast")
    .option("--psk <base64>", "channel key", "AQ==")
    .option("--port <n>", "port number (default: 1 for text, 256 for frames)")
    .option("--hop-limit <n>", "hop limit and hop start", "3")
    .option("--gateway <node>", "gateway id in the envelope (default: the sender)")
    .option("--region <region>", "region in the topic", "EU_868")
    .option("--json", "machine-readable output", false)
    .action((opts: EncodeOptions) =>
      run(opts.json, () => {
        if ((opts.text === undefined) === (opts.frame === undefined)) throw new CliError("INVALID_ARGUMENT", "give exactly one of --text and --frame");
        const payload = opts.text !== undefined ? utf8.encode(opts.text) : parseBinary(opts.frame ?? "", "--frame");
        const portnum = opts.port !== undefined ? parseWhole(opts.port, "--port", 511) : opts.text !== undefined ? 1 : PRIVATE_APP_PORT;
        const from = nodeArg(opts.from, "--from");
        const gateway = opts.gateway === undefined ? from : nodeArg(opts.gateway, "--gateway");
        const hopLimit = parseWhole(opts.hopLimit, "--hop-limit", 7);
        const id = opts.id === undefined ? 1 + Math.floor(Math.random() * 0xfffffffe) : numberArg(opts.id, "--id");
        let channel;
        try {
          channel = channelKey(opts.channel, parsePskArg(opts.psk));
        } catch (e) {
          throw new CliError("INVALID_ARGUMENT", (e as Error).message);
        }
        const envelope = encodeEnvelope({ from, to: nodeArg(opts.to, "--to"), id, hopLimit, hopStart: hopLimit }, { portnum, payload, bitfield: 1, wantResponse: false }, channel, gateway);
        print({
          topic: `msh/${opts.region}/2/e/${channel.name}/${formatNodeId(gateway)}`,
          id,
          channelHash: channel.hash,
          bytes: envelope.length,
          hex: toHex(envelope),
          base64: Buffer.from(envelope).toString("base64"),
        }, opts.json);
      }),
    );
}
