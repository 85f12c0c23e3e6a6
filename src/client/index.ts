// The MeshChain client library: drive a node's local API from another program (docs/api.md §Client).
export { ClientError, type ClientErrorCode } from "./errors.js";
export { type ChainInfo, type ClientOptions, MeshChainClient, type SubmitResult, type Subscription, type Topic, type TxStatus, type TxView } from "./rpc-client.js";
export { type PreparedTx, prepareTx, type Signer, type TxChoices } from "./wallet.js";
export { ProofError, type ProofCheckCode, type ProofVerdict, type Trust, trustFromValidatorSetJson, verifyDeliveryProof } from "./proof.js";
export { buildMessagePayload, checkMessageText, openMessageText, openSealedText } from "./messages.js";
export { TxKind, MessagePriority, VoteChoice } from "../core/tx/types.js";
