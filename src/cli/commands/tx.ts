import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { formatAddress } from "../../core/crypto/address.js";
import { defaultParams } from "../../core/state/params.js";
import { minimumFee } from "../../core/state/transaction.js";
import { txHash } from "../../core/tx/codec.js";
import { MAX_NONCE, maxEncodedSize } from "../../core/tx/limits.js";
import { signTx } from "../../core/tx/sign.js";
import { TxKind } from "../../core/tx/types.js";
import { unlockKeyFile } from "../node-key.js";
import { CliError } from "../errors.js";
import { callRpc, DEFAULT_API_URL } from "../api-client.js";
import { print } from "../output.js";
import { parseAddressArg, parseChainId, parseUnits, parseWhole } from "../parse.js";

export const DEFAULT_CHAIN_ID = "meshchain-dev";

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
        const sent = opts.dryRun ? null : await callRpc(opts.api, "submitTransaction", { tx: toHex(signed.bytes) });
        print({
          sent: sent !== null,
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
