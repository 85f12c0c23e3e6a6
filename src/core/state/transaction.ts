import { bytesEqual, toHex } from "../bytes.js";
import { addressFromPublicKey } from "../crypto/address.js";
import type { DecodedTx } from "../tx/codec.js";
import { txHash } from "../tx/codec.js";
import { verifyTxSignature } from "../tx/sign.js";
import { TxKind } from "../tx/types.js";
import { debit } from "./balances.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import { applyEvidence } from "./evidence.js";
import { applyFederationProposal, applyFederationVote, isFederationProposal } from "./federation.js";
import { applyProposal, applyProposalVote } from "./governance.js";
import type { Ledger } from "./ledger.js";
import { applyBond, applyDelegate, applyLeave, applyUnjail, applyRegister, applyUnbond, applyUndelegate } from "./staking.js";

export interface TxOutcome {
  readonly fee: bigint;
  /** Units burned by slashing. */
  readonly burned: bigint;
}

export function minimumFee(encodedLength: number, minFeePerByte: bigint): bigint {
  return BigInt(encodedLength) * minFeePerByte;
}

/**
 * The sender's public key: the one bound to its account, or the one this transaction reveals,
 * which must hash to the sender's address and may be revealed only once.
 */
function senderKey(l: Ledger, decoded: DecodedTx): Uint8Array {
  const { tx } = decoded;
  const known = l.account(tx.sender).publicKey;
  if (tx.publicKey === null) {
    if (known === null) throw new TxError("PUBLIC_KEY_UNKNOWN", "the sender's first transaction must carry its public key");
    return known;
  }
  if (!bytesEqual(addressFromPublicKey(tx.publicKey), tx.sender)) throw new TxError("ADDRESS_MISMATCH", "public key does not hash to the sender address");
  if (known !== null) {
    throw bytesEqual(known, tx.publicKey)
      ? new TxError("PUBLIC_KEY_ALREADY_KNOWN", "public key already revealed; omit it")
      : new TxError("ADDRESS_COLLISION", "a different key already owns this address");
  }
  return tx.publicKey;
}

/**
 * Check and apply one transaction. Cheap checks run before the signature. On any error the ledger
 * is unchanged; on success the fee has left the sender and is returned for the block's proposer.
 */
export function applyTx(ledger: Ledger, decoded: DecodedTx, ctx: TxContext): TxOutcome {
  const { tx } = decoded;
  if (tx.expiresAt !== null && ctx.height > tx.expiresAt) throw new TxError("TX_EXPIRED", `expired at height ${tx.expiresAt}`);
  const l = ledger.child();
  const publicKey = senderKey(l, decoded);
  const account = l.account(tx.sender);
  if (tx.nonce < account.nonce) throw new TxError("NONCE_TOO_LOW", `nonce ${tx.nonce} already used; next is ${account.nonce}`);
  if (tx.nonce > account.nonce) throw new TxError("NONCE_TOO_HIGH", `nonce ${tx.nonce} is ahead; next is ${account.nonce}`);
  const minFee = minimumFee(decoded.bytes.length, ctx.params.minFeePerByte);
  if (tx.fee < minFee) throw new TxError("FEE_TOO_LOW", `fee ${tx.fee} is below the minimum ${minFee}`);
  if (account.balance < tx.fee) throw new TxError("INSUFFICIENT_BALANCE", `balance ${account.balance} does not cover the fee ${tx.fee}`);
  const alreadyVerified = ctx.verifiedSignatures?.has(toHex(txHash(decoded.bytes))) ?? false;
  if (!alreadyVerified && !verifyTxSignature(decoded, ctx.chainId, publicKey)) throw new TxError("BAD_SIGNATURE", "signature does not verify");

  l.putAccount(tx.sender, { balance: account.balance - tx.fee, nonce: account.nonce + 1, publicKey });
  let burned = 0n;
  const body = tx.body;
  switch (body.kind) {
    case TxKind.Transfer:
      debit(l, tx.sender, body.amount);
      l.credit(body.to, body.amount);
      break;
    case TxKind.Message:
      // The message itself lives in the block; its inclusion proof is the proof of delivery.
      break;
    case TxKind.ValidatorRegister:
      applyRegister(l, tx.sender, body, ctx);
      break;
    case TxKind.ValidatorLeave:
      applyLeave(l, tx.sender, ctx);
      break;
    case TxKind.Unjail:
      applyUnjail(l, tx.sender, ctx);
      break;
    case TxKind.Bond:
      applyBond(l, tx.sender, body);
      break;
    case TxKind.Unbond:
      applyUnbond(l, tx.sender, body, ctx);
      break;
    case TxKind.Delegate:
      applyDelegate(l, tx.sender, body, ctx);
      break;
    case TxKind.Undelegate:
      applyUndelegate(l, tx.sender, body, ctx);
      break;
    case TxKind.GovProposal:
      applyProposal(l, tx.sender, body, ctx);
      break;
    case TxKind.GovVote:
      // Proposal ids are shared: a vote goes to whichever kind of proposal holds the id.
      if (isFederationProposal(l, body.proposalId)) applyFederationVote(l, tx.sender, body);
      else applyProposalVote(l, tx.sender, body);
      break;
    case TxKind.FederationProposal:
      applyFederationProposal(l, tx.sender, body, ctx);
      break;
    case TxKind.Evidence:
      burned = applyEvidence(l, body.evidence, ctx);
      break;
  }
  ledger.absorb(l);
  return { fee: tx.fee, burned };
}
