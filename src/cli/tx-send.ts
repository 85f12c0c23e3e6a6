import type { Command } from "commander";
import { formatAddress } from "../core/crypto/address.js";
import { defaultParams } from "../core/state/params.js";
import { MAX_NONCE } from "../core/tx/limits.js";
import { TX_KIND_NAMES } from "../core/tx/describe.js";
import type { TxBody } from "../core/tx/types.js";
import type { Identity } from "../core/crypto/identity.js";
import { ClientError } from "../client/errors.js";
import type { MeshChainClient } from "../client/rpc-client.js";
import { prepareTx } from "../client/wallet.js";
import { DEFAULT_API_URL, DEFAULT_DATA_DIR, nodeClient } from "./api-client.js";
import { CliError } from "./errors.js";
import { unlockKeyFile } from "./node-key.js";
import { print } from "./output.js";
import { parseChainId, parseUnits, parseWhole } from "./parse.js";

/** The development chain's id: what an offline dry run signs for unless --chain-id says otherwise. */
export const DEFAULT_CHAIN_ID = "meshchain-dev";

export interface SendOptions {
  key: string;
  passphraseFile?: string;
  nonce?: string;
  fee?: string;
  chainId?: string;
  expiresAt?: string;
  revealKey?: boolean;
  dryRun: boolean;
  wait?: string;
  timeout: string;
  api: string;
  dataDir: string;
  json: boolean;
}

/** The options every `tx <kind>` (and msg send/ack, gov propose/vote) takes. */
export function addSendOptions(command: Command, keyHelp = "the sender's key file"): Command {
  return command
    .requiredOption("--key <file>", keyHelp)
    .option("--passphrase-file <file>", "file holding the key's passphrase (else MESHCHAIN_KEY_PASSPHRASE, else a prompt)")
    .option("--nonce <n>", "the sender's next nonce (default: read from the node, counting its waiting transactions)")
    .option("--fee <units>", "fee in base units (default: the node's minimum for this transaction's size)")
    .option("--chain-id <id>", "chain the signature is for (default: the node's; refused if it differs)")
    .option("--expires-at <height>", "last block height at which the transaction is valid")
    .option("--reveal-key", "carry the sender's public key (default: when the node does not know it yet)")
    .option("--dry-run", "sign and print the bytes and size, do not send", false)
    .option("--wait <until>", "wait until the transaction is `included` or `final`, and print the outcome")
    .option("--timeout <seconds>", "how long --wait waits", "120")
    .option("--api <url>", "the local API of the node to send through", DEFAULT_API_URL)
    .option("--data-dir <dir>", "that node's data directory, for its API token (api.token)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false);
}

/** The sender's identity from --key: a development key in the clear, or a sealed one (asks its passphrase). */
export function unlockSender(opts: { key: string; passphraseFile?: string }): Promise<Identity> {
  return unlockKeyFile(opts.key, { ...(opts.passphraseFile === undefined ? {} : { passphraseFile: opts.passphraseFile }), env: process.env, allowUnencrypted: true });
}

/**
 * Sign and send one transaction, print what became of it: accepted, queued (its nonce runs ahead:
 * held, exit 0), included, and with --wait its outcome. A refusal throws with the node's reason.
 */
export async function sendTx(opts: SendOptions, sender: Identity, body: TxBody | ((client: MeshChainClient | null) => Promise<TxBody>), shown: Record<string, unknown> = {}, oneFrame = false): Promise<void> {
  const wait = opts.wait;
  if (wait !== undefined && wait !== "included" && wait !== "final") throw new CliError("INVALID_ARGUMENT", `--wait takes included or final, not "${wait}"`);
  if (wait !== undefined && opts.dryRun) throw new CliError("INVALID_ARGUMENT", "--wait and --dry-run do not go together: a dry run sends nothing");
  const timeoutSeconds = parseWhole(opts.timeout, "--timeout", 86_400);
  const choices = {
    ...(opts.chainId === undefined ? {} : { chainId: parseChainId(opts.chainId) }),
    ...(opts.nonce === undefined ? {} : { nonce: parseWhole(opts.nonce, "--nonce", MAX_NONCE) }),
    ...(opts.fee === undefined ? {} : { fee: parseUnits(opts.fee, "--fee") }),
    ...(opts.revealKey === undefined ? {} : { revealKey: opts.revealKey }),
    expiresAt: opts.expiresAt === undefined ? null : parseWhole(opts.expiresAt, "--expires-at", 2 ** 48 - 1),
    oneFrame,
  };
  // A dry run with the nonce and fee given needs no node (the chain id defaults to the development chain's).
  const offline = opts.dryRun && choices.nonce !== undefined && choices.fee !== undefined;
  const client = offline ? null : nodeClient(opts.api, opts.dataDir);
  const txBody = typeof body === "function" ? await body(client) : body;
  const prepared = await prepareTx(client, sender, txBody, offline ? { chainId: DEFAULT_CHAIN_ID, revealKey: false, ...choices } : choices, defaultParams().minFeePerByte);
  const outcome = client === null || opts.dryRun ? null : await client.submit(prepared.hex);
  const waited = outcome === null || wait === undefined || client === null ? null : await client.waitFor(prepared.hash, wait, { timeoutMs: timeoutSeconds * 1000 });
  print({
    sent: outcome !== null,
    status: waited?.status ?? outcome?.status ?? "not sent (dry run)",
    ...(outcome?.status === "queued" ? { queuedBecause: outcome.reason } : {}),
    ...(outcome?.status === "included" ? { includedAt: outcome.height, final: outcome.final } : {}),
    ...(waited === null ? {} : { height: waited.height, final: waited.final }),
    kind: TX_KIND_NAMES[txBody.kind],
    chainId: prepared.chainId,
    hash: prepared.hash,
    from: formatAddress(sender.address),
    ...shown,
    nonce: prepared.nonce,
    fee: prepared.fee,
    minFee: prepared.minFee,
    feeCoversMinimum: prepared.fee >= prepared.minFee,
    expiresAt: choices.expiresAt,
    revealsKey: prepared.revealsKey,
    bytes: prepared.bytes,
    maxBytes: prepared.maxBytes,
    hex: prepared.hex,
  }, opts.json);
}

/** The node, for a step that must read from it (an offline dry run has none). */
export function requireNode(client: MeshChainClient | null, what: string): MeshChainClient {
  if (client === null) throw new ClientError("INVALID_PARAMS", `${what} needs the node: leave out --nonce/--fee or --dry-run`, "OFFLINE");
  return client;
}
