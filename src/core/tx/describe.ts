import { toHex } from "../bytes.js";
import { formatAddress } from "../crypto/address.js";
import { paramSpecById } from "../state/params.js";
import { type DecodedTx, txHash } from "./codec.js";
import { decodeMessagePayload } from "./message-payload.js";
import { FederationAction, MessagePriority, TxKind, VoteChoice } from "./types.js";

/** A transaction's kind as users type it (`meshchain tx <kind>`) and as the API names it. */
export const TX_KIND_NAMES: Readonly<Record<TxKind, string>> = {
  [TxKind.Transfer]: "transfer",
  [TxKind.Message]: "message",
  [TxKind.ValidatorRegister]: "register-validator",
  [TxKind.ValidatorLeave]: "leave",
  [TxKind.Bond]: "bond",
  [TxKind.Unbond]: "unbond",
  [TxKind.Delegate]: "delegate",
  [TxKind.Undelegate]: "undelegate",
  [TxKind.GovProposal]: "propose",
  [TxKind.GovVote]: "vote",
  [TxKind.Evidence]: "evidence",
  [TxKind.FederationProposal]: "federation-propose",
  [TxKind.Unjail]: "unjail",
};

export const priorityName = (p: MessagePriority): string => MessagePriority[p].toLowerCase();
export const choiceName = (c: VoteChoice): string => VoteChoice[c].toLowerCase();

/** What a message's payload says, for people: text, a sealed text, an acknowledgement, or hex. */
export function describePayload(payload: Uint8Array): Record<string, string> {
  const p = decodeMessagePayload(payload);
  switch (p.type) {
    case "text":
      return { payloadType: "text", text: p.text };
    case "sealed":
      return { payloadType: "sealed", sealedHex: toHex(p.sealed) };
    case "ack":
      return { payloadType: "ack", acknowledges: toHex(p.messageHash) };
    case "binary":
      return { payloadType: "binary", hex: toHex(p.bytes) };
  }
}

/** A transaction as JSON: amounts as decimal strings (they are bigints), bytes as hex, addresses as mc…. */
export function describeTx(decoded: DecodedTx): Record<string, unknown> {
  const { tx } = decoded;
  const body = tx.body;
  const common = {
    hash: toHex(txHash(decoded.bytes)), kind: TX_KIND_NAMES[body.kind], from: formatAddress(tx.sender), nonce: tx.nonce, fee: tx.fee.toString(),
    expiresAt: tx.expiresAt, revealsKey: tx.publicKey !== null, bytes: decoded.bytes.length,
  };
  switch (body.kind) {
    case TxKind.Transfer:
      return { ...common, to: formatAddress(body.to), amount: body.amount.toString() };
    case TxKind.Message:
      return { ...common, to: formatAddress(body.to), priority: priorityName(body.priority), ...describePayload(body.payload) };
    case TxKind.ValidatorRegister:
      return { ...common, commissionBps: body.commissionBps, selfBond: body.selfBond.toString(), blsPublicKey: toHex(body.blsPublicKey) };
    case TxKind.ValidatorLeave:
    case TxKind.Unjail:
      return common;
    case TxKind.Bond:
    case TxKind.Unbond:
      return { ...common, amount: body.amount.toString() };
    case TxKind.Delegate:
    case TxKind.Undelegate:
      return { ...common, validator: formatAddress(body.validator), amount: body.amount.toString() };
    case TxKind.GovProposal:
      return { ...common, parameter: paramSpecById(body.paramId)?.name ?? `#${body.paramId}`, value: body.value.toString(), votingWindow: body.votingWindow };
    case TxKind.GovVote:
      return { ...common, proposalId: body.proposalId, choice: choiceName(body.choice) };
    case TxKind.Evidence:
      return { ...common, evidenceType: body.evidence.type };
    case TxKind.FederationProposal:
      return { ...common, action: FederationAction[body.action].toLowerCase(), validator: formatAddress(body.validator) };
  }
}
