import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compareBytes } from "../../src/core/bytes.js";
import { signerIndices } from "../../src/core/block/certificate.js";
import { blsProvePossession } from "../../src/core/crypto/bls.js";
import { formatAddress } from "../../src/core/crypto/address.js";
import { deliveryProofToJson } from "../../src/core/proof/delivery-proof.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { votingSet } from "../../src/core/state/validators.js";
import { txHash } from "../../src/core/tx/codec.js";
import { MessagePriority, TxKind } from "../../src/core/tx/types.js";
import { buildMessagePayload } from "../../src/client/messages.js";
import { verifyDeliveryProof } from "../../src/client/proof.js";
import { ReadModel } from "../../src/node/read-model.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, COIN, testChain, tx } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const opened: { close(): void }[] = [];
afterEach(() => {
  for (const s of opened.splice(0).reverse()) s.close();
});

describe("a proof of delivery for a block signed by an older voting set", () => {
  for (const [era, loneFirst] of [["a certificate in the child block", false], ["a lone validator's own vote as its certificate", true]] as const) it(`names the set that signed the block, after a validator joined, and verifies offline against that set (${era})`, () => {
    const chain = testChain({ validators: 1, users: 8, params: { epochLength: 4n } });
    const founder = chain.validators[0]!;
    // A newcomer that sorts before the founder: today's set would put it where the founder signed.
    const newcomer = [...chain.users].sort((a, b) => compareBytes(a.address, b.address))[0]!;
    expect(compareBytes(newcomer.address, founder.address)).toBeLessThan(0);
    const [sender, recipient] = chain.users.filter((u) => u !== newcomer) as [typeof newcomer, typeof newcomer];
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    opened.push(store);
    const hello = tx(sender, 0, { kind: TxKind.Message, to: recipient.address, priority: MessagePriority.Normal, payload: buildMessagePayload("before the join", null) });
    const register = tx(newcomer, 0, { kind: TxKind.ValidatorRegister, commissionBps: 0, selfBond: 50_000n * COIN, blsPublicKey: newcomer.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, newcomer.bls) }, { fee: 20_000n });
    // The founder alone signs blocks 1–3; the newcomer registers at 2 and votes from block 4 (the epoch start).
    const txs = (h: number) => (h === 1 ? [hello] : h === 2 ? [register] : []);
    // Alone, the founder's blocks carry no certificate: its own signature is the quorum (the dev chain's case).
    if (loneFirst) growChain(store, [founder], 3, { txs });
    growChain(store, [founder, newcomer], loneFirst ? 5 : 8, { txs });
    expect(votingSet(new Ledger(store.state), 8).map((m) => formatAddress(m.address))).toEqual([newcomer, founder].map((v) => formatAddress(v.address)));

    const reads = new ReadModel({ store: () => store, pool: () => null, chainId: CHAIN_ID });
    opened.push(reads);
    const proof = reads.deliveryProof(txHash(hello.bytes));
    expect(proof.header.height).toBe(1);
    // The newcomer now holds most of the stake: today the founder alone is no quorum, yet it was then.
    expect(signerIndices(proof.certificate.signers).map((i) => formatAddress(proof.votingSet[i]!.address))).toEqual([formatAddress(founder.address)]);
    expect(proof.votingSet.map((v) => formatAddress(v.address))).toEqual([formatAddress(founder.address)]);

    const founderOnly = { kind: "validators" as const, chainId: CHAIN_ID, validators: [{ address: founder.address, blsPublicKey: founder.bls.publicKey, stake: 10_000n * COIN }] };
    const verdict = verifyDeliveryProof(deliveryProofToJson(proof), founderOnly);
    expect(verdict).toMatchObject({ valid: true, block: { height: 1 }, transaction: { text: "before the join" } });
    expect(verdict.trustedBy).toContain("1 validator(s) of your set");
    // The newcomer alone did not sign it: a user trusting only the newcomer is told so.
    const newcomerOnly = { ...founderOnly, validators: [{ address: newcomer.address, blsPublicKey: newcomer.bls.publicKey, stake: 1_000n * COIN }] };
    expect(() => verifyDeliveryProof(deliveryProofToJson(proof), newcomerOnly)).toThrow(expect.objectContaining({ code: "SIGNER_NOT_TRUSTED" }));
  });
});
