import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import { defaultParams } from "../../core/state/params.js";
import { minimumFee } from "../../core/state/transaction.js";
import { txHash } from "../../core/tx/codec.js";
import { MAX_NONCE, maxEncodedSize } from "../../core/tx/limits.js";
import { signTx } from "../../core/tx/sign.js";
import { TxKind } from "../../core/tx/types.js";
import type { SubmitOutcome } from "../../node/node.js";
import { unlockKeyFile } from "../node-key.js";
import { CliError } from "../errors.js";
import { apiTarget, callRpc, DEFAULT_API_URL, DEFAULT_DATA_DIR } from "../api-client.js";
import { print } from "../output.js";
import { parseAddressArg, parseChainId, parseUnits, parseWhole } from "../parse.js";

export const DEFAULT_CHAIN_ID = "meshchain-dev";

/** The node's answer to a submit, checked: a node that answers something else is not believed. */
function submitOutcome(result: unknown): SubmitOutcome {
  const r = result as Partial<Record<string, unknown>> | null;
  const status = r?.status;
  if (r === null || typeof r.hash !== "string" || (status !== "accepted" && status !== "queued" && status !== "included")) {
    throw new CliError("NODE_API_UNAVAILABLE", `the node's answer to submitTransaction is not one this CLI knows: ${JSON.stringify(result)}`);
  }
  return r as unknown as SubmitOutcome;
}

interface TransferOptions {
  key: string;
  to: string;
  amount: string;
  fee: string;
  nonce: string;
  expiresAt?: string;
  revealKey: boolean;
  chainId: string;
  dryRun: boolean;
  api: string;
  dataDir: string;
  json: boolean;
}

export function registerTx(program: Command, run: (json: boolean, action: () => void | Promise<void>) => void): void {
  const tx = program.command("tx").description("build and sign transactions");
  tx.command("transfer")
    .description("sign a transfer; with --dry-run, print it without sending")
    .requiredOption("--key <file>", "sender's key file")
    .requiredOption("--to <address>", "recipient address (mc…)")
    .requiredOption("--amount <units>", "amount in base units (1 MESH = 1,000,000 units)")
    .requiredOption("--fee <units>", "fee in base units")
    .requiredOption("--nonce <n>", "the sender's next nonce")
    .option("--expires-at <height>", "last block height at which the transaction is valid")
    .option("--reveal-key", "carry the sender's public key (needed on an account's first transaction)", false)
    .option("--chain-id <id>", "chain the signature is valid for", DEFAULT_CHAIN_ID)
    .option("--dry-run", "sign and print, do not send", false)
    .option("--api <url>", "the local API of the node to send through", DEFAULT_API_URL)
    .option("--data-dir <dir>", "that node's data directory, for its API token (api.token)", DEFAULT_DATA_DIR)
    .option("--json", "machine-readable output", false)
    .action((opts: TransferOptions) =>
      run(opts.json, async () => {
        const chainId = parseChainId(opts.chainId);
        const to = parseAddressArg(opts.to, "--to");
        const amount = parseUnits(opts.amount, "--amount");
        if (amount === 0n) throw new CliError("INVALID_ARGUMENT", "--amount must be positive");
        const fee = parseUnits(opts.fee, "--fee");
        const nonce = parseWhole(opts.nonce, "--nonce", MAX_NONCE);
        const expiresAt = opts.expiresAt === undefined ? null : parseWhole(opts.expiresAt, "--expires-at", 2 ** 48 - 1);
        // An account key may be a development key in the clear; a sealed one asks for its passphrase.
        const id = await unlockKeyFile(opts.key, { env: process.env, allowUnencrypted: true });
        const signed = signTx(
          { sender: id.address, nonce, fee, expiresAt, publicKey: opts.revealKey ? id.ed25519.publicKey : null, body: { kind: TxKind.Transfer, to, amount } },
          chainId,
          id.ed25519,
        );
        const minFee = minimumFee(signed.bytes.length, defaultParams().minFeePerByte);
        // The target is checked before signing is worth anything; the token only matters when sending.
        const target = opts.dryRun ? null : apiTarget(opts.api, opts.dataDir);
        const outcome = target === null ? null : submitOutcome(await callRpc(target, "submitTransaction", { tx: toHex(signed.bytes) }));
        print({
          sent: outcome !== null,
          status: outcome?.status ?? "not sent (dry run)",
          ...(outcome?.status === "queued" ? { queuedBecause: outcome.reason } : {}),
          ...(outcome?.status === "included" ? { includedAt: outcome.height, final: outcome.final } : {}),
          kind: "transfer",
          chainId,
          hash: toHex(txHash(signed.bytes)),
          from: formatAddress(id.address),
          to: formatAddress(to),
          amount,
          fee,
          nonce,
          expiresAt,
          revealsKey: opts.revealKey,
          bytes: signed.bytes.length,
          maxBytes: maxEncodedSize(TxKind.Transfer, opts.revealKey),
          minFee,
          feeCoversMinimum: fee >= minFee,
          hex: toHex(signed.bytes),
        }, opts.json);
      }),
    );
}
