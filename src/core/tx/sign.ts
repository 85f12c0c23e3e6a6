import { concatBytes } from "../bytes.js";
import { cachedDomain, SigningKind } from "../crypto/domain.js";
import { type Ed25519KeyPair, ed25519Sign, ed25519Verify } from "../crypto/ed25519.js";
import { type DecodedTx, decodeTxWithBytes, encodeTx, encodeUnsignedTx } from "./codec.js";
import type { SignedTx, UnsignedTx } from "./types.js";

export function txSigningMessage(chainId: string, unsignedBytes: Uint8Array): Uint8Array {
  return concatBytes(cachedDomain(SigningKind.Transaction, chainId), unsignedBytes);
}

export function signTx(tx: UnsignedTx, chainId: string, key: Ed25519KeyPair): DecodedTx {
  const unsigned = encodeUnsignedTx(tx);
  const signature = ed25519Sign(txSigningMessage(chainId, unsigned), key);
  const signed: SignedTx = { ...tx, signature };
  return decodeTxWithBytes(encodeTx(signed));
}

export function verifyTxSignature(decoded: DecodedTx, chainId: string, publicKey: Uint8Array): boolean {
  const unsigned = decoded.bytes.subarray(0, decoded.unsignedLength);
  return ed25519Verify(decoded.tx.signature, txSigningMessage(chainId, unsigned), publicKey);
}
