import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { ReadModel } from "../../src/node/read-model.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { buildMessagePayload } from "../../src/client/messages.js";
import { MessagePriority, TxKind } from "../../src/core/tx/types.js";
import { CHAIN_ID, testChain, transfer, tx } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 3, users: 2 });
const [alice, bob] = chain.users as [typeof chain.users[0], typeof chain.users[0]];
const opened: ChainStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** A follower's store: blocks with their notarizations, but finality recorded only up to `recorded`. */
function followerStore(slotStep: number, recorded: number): { store: ChainStore; transferHash: string } {
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  opened.push(store);
  const t = transfer(alice, 0, bob.address, 1_000n, { revealKey: false });
  growChain(store, chain.validators, 5, { slotStep, txs: (h) => (h === 3 ? [t] : []) });
  store.markFinalized(recorded);
  return { store, transferHash: toHex(txHash(t.bytes)) };
}

describe("a follower's read model", () => {
  it("answers finality from the notarizations it holds, as validators judge, not only from its recorded finality", () => {
    const { store, transferHash } = followerStore(1, 1);
    const reads = new ReadModel({ store: () => store, pool: () => null, chainId: CHAIN_ID });
    expect(store.finalizedHeight).toBe(1);
    // Blocks 4 and 5 are in consecutive slots and notarized (5 by its stored notarization): 4 is final, and 3 with it.
    expect(reads.finalizedHeight()).toBe(4);
    expect(reads.transaction(Buffer.from(transferHash, "hex"))).toMatchObject({ status: "final", height: 3, final: true });
    expect(reads.block(5).final).toBe(false);
  });

  it("does not call a block final without its child notarized in the next slot", () => {
    const { store, transferHash } = followerStore(2, 1);
    const reads = new ReadModel({ store: () => store, pool: () => null, chainId: CHAIN_ID });
    expect(reads.finalizedHeight()).toBe(1);
    expect(reads.transaction(Buffer.from(transferHash, "hex"))).toMatchObject({ status: "included", height: 3, final: false });
  });

  it("builds a proof from a certificate carried by the child block, naming the real signers", () => {
    const { store, transferHash } = followerStore(1, 5);
    const reads = new ReadModel({ store: () => store, pool: () => null, chainId: CHAIN_ID });
    const proof = reads.deliveryProof(Buffer.from(transferHash, "hex"));
    expect(proof.header.height).toBe(3);
    expect(proof.certificate).toEqual(store.blockAt(4)?.header.certificate);
    expect(proof.votingSet.map((v) => toHex(v.address)).sort()).toEqual(chain.validators.map((v) => toHex(v.address)).sort());
  });
});

describe("a pruning follower's read model", () => {
  it("indexes the messages of the blocks it holds whole, past the headers it pruned", () => {
    const lone = testChain({ validators: 1, users: 2 });
    const [from, to] = lone.users as [typeof lone.users[0], typeof lone.users[0]];
    const store = ChainStore.open(join(dir(), "chain.db"), lone.genesis, { keepBodies: 2 });
    opened.push(store);
    const message = (nonce: number, text: string) => tx(from, nonce, { kind: TxKind.Message, to: to.address, priority: MessagePriority.Normal, payload: buildMessagePayload(text, null) });
    growChain(store, lone.validators, 8, { txs: (h) => (h === 2 ? [message(0, "old")] : h === 8 ? [message(1, "new")] : []) });
    store.markFinalized(8);
    expect(store.oldestBody).toBeGreaterThan(2);
    const reads = new ReadModel({ store: () => store, pool: () => null, chainId: CHAIN_ID });
    expect(reads.messagesFor({ to: to.address }, 10)).toMatchObject([{ text: "new", height: 8 }]);
  });
});
