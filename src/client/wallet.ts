import { toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Ed25519KeyPair } from "../core/crypto/ed25519.js";
import { minimumFee } from "../core/state/transaction.js";
import { type DecodedTx, encodeUnsignedTx, txHash } from "../core/tx/codec.js";
import { maxEncodedSize } from "../core/tx/limits.js";
import { signTx } from "../core/tx/sign.js";
import type { TxBody, UnsignedTx } from "../core/tx/types.js";
import { ED25519_SIGNATURE_LENGTH } from "../core/crypto/ed25519.js";
import { HEADER_BYTES } from "../mesh/frame.js";
import { MESHTASTIC_MTU } from "../mesh/meshtastic/payload-limit.js";
import { ClientError } from "./errors.js";
import type { MeshChainClient } from "./rpc-client.js";

/** The signer: an address and its Ed25519 key (a node key file's identity will do). */
export interface Signer {
  readonly address: Uint8Array;
  readonly ed25519: Ed25519KeyPair;
}

/** What the user fixed; everything left out is read from the node. */
export interface TxChoices {
  readonly chainId?: string;
  readonly nonce?: number;
  readonly fee?: bigint;
  readonly expiresAt?: number | null;
  /** Carry the public key (an account's first transaction); read from the node when not given. */
  readonly revealKey?: boolean;
  /** Refuse (MESSAGE_TOO_LARGE) a transaction that would not fit one radio frame. */
  readonly oneFrame?: boolean;
}

export interface PreparedTx {
  readonly signed: DecodedTx;
  readonly hash: string;
  readonly hex: string;
  readonly chainId: string;
  readonly nonce: number;
  readonly fee: bigint;
  readonly minFee: bigint;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly revealsKey: boolean;
}

/** The fee the node asks for this transaction: its encoded size (the fee's own varint included) times the rate. */
function minimumFeeFor(unsigned: Omit<UnsignedTx, "fee">, rate: bigint): bigint {
  let fee = 0n;
  for (let i = 0; i < 4; i++) {
    const needed = minimumFee(encodedSize({ ...unsigned, fee }), rate);
    if (needed <= fee) return fee;
    fee = needed;
  }
  return fee;
}

const encodedSize = (tx: UnsignedTx): number => encodeUnsignedTx(tx).length + ED25519_SIGNATURE_LENGTH;

/** What one radio frame carries of a transaction: the Meshtastic payload less our frame header. */
export const ONE_FRAME_TX_BYTES = MESHTASTIC_MTU - HEADER_BYTES;

/**
 * Build and sign a transaction: chain id, nonce (counting the sender's transactions waiting in the
 * node's pool), key reveal and minimum fee come from the node unless the user gave them. A chain id
 * that is not the node's is refused here (WRONG_CHAIN), before a signature the node could only call bad.
 * Without a client nothing is read: the chain id, nonce and fee must be given; the key is not revealed
 * unless asked.
 */
export async function prepareTx(client: MeshChainClient | null, signer: Signer, body: TxBody, choices: TxChoices, offlineFeePerByte = 0n): Promise<PreparedTx> {
  if (client === null && (choices.chainId === undefined || choices.nonce === undefined || choices.fee === undefined)) {
    throw new ClientError("INVALID_PARAMS", "without a node, give the chain id, the nonce and the fee", "OFFLINE");
  }
  const info = client === null ? null : await client.chainInfo();
  if (info !== null && choices.chainId !== undefined && choices.chainId !== info.chainId) {
    throw new ClientError("WRONG_CHAIN", `--chain-id ${choices.chainId} is not this node's chain (${info.chainId}): a signature for it would be refused as BAD_SIGNATURE`, "WRONG_CHAIN");
  }
  const chainId = choices.chainId ?? (info as { chainId: string }).chainId;
  let nonce = choices.nonce;
  let revealKey = choices.revealKey;
  if (client !== null && (nonce === undefined || revealKey === undefined)) {
    // An account the chain has never seen sends its first transaction: nonce 0, key revealed (on a
    // chain without fees, such as a poa federation's, that is how a newcomer registers).
    const account = await client.account(formatAddress(signer.address)).catch((e: unknown) => {
      if (e instanceof ClientError && e.reason === "UNKNOWN_ACCOUNT") return null;
      throw e;
    });
    nonce ??= account === null ? 0 : (account.nextNonce as number);
    revealKey ??= account === null || account.publicKey === null;
  }
  // Offline (a dry run with everything given), the minimum shown is at the rate the caller assumes.
  const rate = info === null ? offlineFeePerByte : BigInt(info.minFeePerByte);
  const unsigned = { sender: signer.address, nonce: nonce as number, expiresAt: choices.expiresAt ?? null, publicKey: revealKey === true ? signer.ed25519.publicKey : null, body };
  const fee = choices.fee ?? minimumFeeFor(unsigned, rate);
  const size = encodedSize({ ...unsigned, fee });
  // A message travels as one frame or not at all: checked before anything is signed.
  if (choices.oneFrame === true && size > ONE_FRAME_TX_BYTES) {
    throw new ClientError("MESSAGE_TOO_LARGE", `this message would be ${size} bytes signed; one radio frame carries ${ONE_FRAME_TX_BYTES}: shorten the text by ${size - ONE_FRAME_TX_BYTES} bytes`);
  }
  const signed = signTx({ ...unsigned, fee }, chainId, signer.ed25519);
  const minFee = minimumFee(signed.bytes.length, rate);
  return {
    signed, hash: toHex(txHash(signed.bytes)), hex: toHex(signed.bytes), chainId, nonce: nonce as number, fee: signed.tx.fee, minFee,
    bytes: signed.bytes.length, maxBytes: maxEncodedSize(body.kind, revealKey === true), revealsKey: revealKey === true,
  };
}
