import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { fromHex } from "../../core/bytes.js";
import { formatAddress, parseAddress } from "../../core/crypto/address.js";
import { encodeAckPayload } from "../../core/tx/message-payload.js";
import { MessagePriority, TxKind } from "../../core/tx/types.js";
import { openSealedText } from "../../client/messages.js";
import { type Trust, trustFromValidatorSetJson, verifyDeliveryProof } from "../../client/proof.js";
import { nodeClient } from "../api-client.js";
import { CliError } from "../errors.js";
import { print } from "../output.js";
import { parseAddressArg, parseWhole } from "../parse.js";
import { addSendOptions, type SendOptions, sendTx, unlockSender } from "../tx-send.js";
import { addReadOptions, type ReadOptions } from "./chain.js";
import { sendMessage } from "./tx.js";

type Run = (json: boolean, action: () => void | Promise<void>) => void;

function txHashArg(hash: string): string {
  if (!/^[0-9a-f]{64}$/i.test(hash)) throw new CliError("INVALID_ARGUMENT", `"${hash}" is not a transaction hash (64 hex digits)`);
  return hash.toLowerCase();
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `${what} ${path} is not JSON: ${(e as Error).message}`);
  }
}

export function registerMsg(program: Command, run: Run): void {
  const msg = program.command("msg").description("on-chain messages with proof of delivery: send, inbox, proof, ack, status");
  addSendOptions(msg.command("send").description("send a short message (checked to fit one frame before signing)").argument("<text>", "the message"))
    .requiredOption("--to <address>", "recipient address (mc…)")
    .option("--priority <class>", "bulk, normal or urgent", "normal")
    .option("--encrypt", "seal the text to the recipient's key: only the recipient can read it (sender, recipient, size and time stay visible)", false)
    .action((text: string, opts: SendOptions & { to: string; priority: string; encrypt: boolean }) => run(opts.json, () => sendMessage(opts, text)));

  addReadOptions(msg.command("inbox").description("messages to an address, newest first (sealed ones opened with --key)"))
    .option("--key <file>", "the recipient's key file: its address, and the key that opens sealed messages")
    .option("--address <address>", "whose inbox (without --key)")
    .option("--from", "list messages this address sent instead", false)
    .option("--limit <n>", "at most this many", "20")
    .action((opts: ReadOptions & { key?: string; address?: string; from: boolean; limit: string }) =>
      run(opts.json, async () => {
        if ((opts.key === undefined) === (opts.address === undefined)) throw new CliError("INVALID_ARGUMENT", "give --key (your key file) or --address, one of them");
        const reader = opts.key === undefined ? null : await unlockSender({ key: opts.key });
        const address = reader !== null ? formatAddress(reader.address) : formatAddress(parseAddressArg(opts.address as string, "--address"));
        const limit = parseWhole(opts.limit, "--limit", 500);
        const { messages } = await nodeClient(opts.api, opts.dataDir).messages({ ...(opts.from ? { from: address } : { to: address }), limit });
        const shown = messages.map((m) => {
          if (m.payloadType !== "sealed" || reader === null) return m;
          const opened = openSealedText(fromHex(String(m.sealedHex)), reader.ed25519);
          return { ...m, text: opened.text, ...(opened.reason === undefined ? {} : { unreadable: opened.reason }) };
        });
        if (opts.json) return print({ address, messages: shown }, true);
        if (shown.length === 0) process.stdout.write(`no messages ${opts.from ? "from" : "to"} ${address}\n`);
        for (const m of shown) {
          const body = m.payloadType === "ack" ? `(acknowledges ${String(m.acknowledges)})` : m.text !== undefined && m.text !== null ? String(m.text) : `(${String(m.payloadType)}${m.unreadable === undefined ? "" : `: ${String(m.unreadable)}`})`;
          process.stdout.write(`${String(m.height).padStart(7)}  ${opts.from ? `to ${String(m.to)}` : `from ${String(m.from)}`}  ${String(m.status).padEnd(8)}  ${body}\n    ${String(m.hash)}\n`);
        }
      }),
    );

  addReadOptions(msg.command("proof").description("the proof of delivery of a message (JSON, for `meshchain proof verify`): message, Merkle path, header, certificate").argument("<hash>", "the message's transaction hash"))
    .action((hash: string, opts: ReadOptions) =>
      run(true, async () => {
        print(await nodeClient(opts.api, opts.dataDir).deliveryProof(txHashArg(hash)), true);
      }),
    );

  addReadOptions(msg.command("status").description("a message: included, final, and whether its recipient acknowledged it on chain").argument("<hash>", "the message's transaction hash"))
    .action((hash: string, opts: ReadOptions) => run(opts.json, async () => print(await nodeClient(opts.api, opts.dataDir).messageStatus(txHashArg(hash)), opts.json)));

  addSendOptions(msg.command("ack").description("acknowledge a message you received: a signed receipt on chain, back to its sender").argument("<hash>", "the message's transaction hash"), "the recipient's key file")
    .option("--priority <class>", "bulk, normal or urgent", "bulk")
    .action((hash: string, opts: SendOptions & { priority: string }) =>
      run(opts.json, async () => {
        const messageHash = txHashArg(hash);
        const sender = await unlockSender(opts);
        const priority = { bulk: MessagePriority.Bulk, normal: MessagePriority.Normal, urgent: MessagePriority.Urgent }[opts.priority];
        if (priority === undefined) throw new CliError("INVALID_ARGUMENT", `--priority takes bulk, normal or urgent, not "${opts.priority}"`);
        await sendTx(opts, sender, async (client) => {
          if (client === null) throw new CliError("INVALID_ARGUMENT", "msg ack reads the message from the node: leave out --dry-run's --nonce/--fee");
          const m = await client.messageStatus(messageHash);
          if (m.to !== formatAddress(sender.address)) throw new CliError("INVALID_ARGUMENT", `message ${messageHash} is to ${String(m.to)}, not to ${formatAddress(sender.address)}: only its recipient can acknowledge it`);
          return { kind: TxKind.Message, to: parseAddress(String(m.from)), priority, payload: encodeAckPayload(fromHex(messageHash)) };
        }, { acknowledges: messageHash }, true);
      }),
    );

  program.command("proof").description("check proofs offline").command("verify")
    .description("check a proof of delivery offline, against a validator set you trust (or one block hash you trust), and say what it proves")
    .argument("<file>", "the proof (from `msg proof`)")
    .option("--validators <file>", "the validator set you trust (`meshchain validators --out FILE` on a node you trust)")
    .option("--block-hash <hash>", "instead: the hash of the block you trust holds it")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { validators?: string; blockHash?: string; json: boolean }) =>
      run(opts.json, () => {
        if ((opts.validators === undefined) === (opts.blockHash === undefined)) throw new CliError("INVALID_ARGUMENT", "give --validators FILE or --block-hash HASH: what the proof is checked against");
        let trust: Trust;
        if (opts.blockHash !== undefined) {
          if (!/^[0-9a-f]{64}$/i.test(opts.blockHash)) throw new CliError("INVALID_ARGUMENT", "--block-hash must be 64 hex digits");
          trust = { kind: "block", blockHash: fromHex(opts.blockHash.toLowerCase()) };
        } else {
          trust = trustFromValidatorSetJson(readJsonFile(opts.validators as string, "the validator set"));
        }
        print({ ...verifyDeliveryProof(readJsonFile(file, "the proof"), trust) }, opts.json);
      }),
    );
}
