import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { buildMessagePayload } from "../../src/client/messages.js";
import { encodeAckPayload } from "../../src/core/tx/message-payload.js";
import { MessagePriority, TxKind } from "../../src/core/tx/types.js";
import { ReadModel } from "../../src/node/read-model.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { MessageIndex } from "../../src/storage/message-index.js";
import { CHAIN_ID, testChain, tx } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const chain = testChain({ validators: 1, users: 2 });
const [alice, bob] = chain.users as [typeof chain.users[0], typeof chain.users[0]];
const opened: { close(): void }[] = [];
afterEach(() => {
  for (const s of opened.splice(0).reverse()) s.close();
});

const message = (from: typeof alice, nonce: number, to: typeof alice, text: string) =>
  tx(from, nonce, { kind: TxKind.Message, to: to.address, priority: MessagePriority.Normal, payload: buildMessagePayload(text, null) });

/** A store, and a read model over it whose reads of whole blocks are counted. */
function setup(base: string): { store: ChainStore; open: () => { reads: ReadModel; blockReads: () => number } } {
  const store = ChainStore.open(join(base, "chain.db"), chain.genesis);
  opened.push(store);
  const open = () => {
    let count = 0;
    const counted = new Proxy(store, {
      get(target, key) {
        if (key === "blockAt") return (h: number) => { count++; return target.blockAt(h); };
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const reads = new ReadModel({ store: () => counted, pool: () => null, chainId: CHAIN_ID, messageIndexPath: join(base, "messages.db") });
    opened.push(reads);
    return { reads, blockReads: () => count };
  };
  return { store, open };
}

describe("the message index on disk", () => {
  it("survives a restart without reading the blocks again, and indexes only what came since", () => {
    const base = dir();
    const { store, open } = setup(base);
    const hello = message(alice, 0, bob, "hello bob");
    growChain(store, chain.validators, 30, { txs: (h) => (h === 3 ? [hello] : h === 20 ? [message(bob, 0, alice, "hi alice")] : []) });
    const first = open();
    expect(first.reads.messagesFor({ to: bob.address }, 10)).toMatchObject([{ text: "hello bob", height: 3 }]);
    expect(first.blockReads()).toBeGreaterThanOrEqual(30);
    first.reads.close();

    const onDisk = new MessageIndex(join(base, "messages.db"), store.genesisHash);
    expect(onDisk.tip().height).toBe(30);
    expect(onDisk.count()).toBe(2);
    onDisk.close();

    growChain(store, chain.validators, 2, { txs: (h) => (h === 32 ? [message(alice, 1, bob, "again")] : []) });
    const second = open();
    expect(second.reads.messagesFor({ to: bob.address }, 10).map((m) => m.text)).toEqual(["again", "hello bob"]);
    // Blocks 31 and 32 to index, and the two messages read back: not the thirty before.
    expect(second.blockReads()).toBe(4);
    expect(second.reads.messagesFor({ from: bob.address }, 10).map((m) => m.text)).toEqual(["hi alice"]);
    expect(second.reads.messagesFor({ to: bob.address, from: alice.address }, 1).map((m) => m.text)).toEqual(["again"]);
  });

  it("forgets the messages of a reverted block and indexes its replacement", () => {
    const base = dir();
    const { store, open } = setup(base);
    growChain(store, chain.validators, 3, {});
    growChain(store, chain.validators, 1, { txs: () => [message(alice, 0, bob, "doomed")], final: false });
    const { reads } = open();
    expect(reads.messagesFor({ to: bob.address }, 10).map((m) => m.text)).toEqual(["doomed"]);
    store.revertTip();
    growChain(store, chain.validators, 2, { txs: (h) => (h === 5 ? [message(alice, 0, bob, "kept")] : []) });
    expect(reads.messagesFor({ to: bob.address }, 10)).toMatchObject([{ text: "kept", height: 5 }]);
  });

  it("finds a message's acknowledgement by the recipient, and not one sent by anyone else", () => {
    const base = dir();
    const { store, open } = setup(base);
    const hello = message(alice, 0, bob, "hello bob");
    const hash = txHash(hello.bytes);
    const ack = (from: typeof alice, nonce: number) => tx(from, nonce, { kind: TxKind.Message, to: alice.address, priority: MessagePriority.Normal, payload: encodeAckPayload(hash) });
    const forged = ack(chain.validators[0]!, 0);
    growChain(store, chain.validators, 3, { txs: (h) => (h === 1 ? [hello] : h === 2 ? [forged] : h === 3 ? [ack(bob, 0)] : []) });
    const { reads } = open();
    expect(reads.messageStatus(hash)).toMatchObject({ acknowledged: true, acks: [{ hash: toHex(txHash(ack(bob, 0).bytes)), height: 3 }] });
  });

  it("starts over when the data directory holds another chain", () => {
    const base = dir();
    const index = new MessageIndex(join(base, "messages.db"), new Uint8Array(32).fill(7));
    index.append([{ height: 1, position: 0, hash: new Uint8Array(32), sender: alice.address, recipient: bob.address, acknowledges: null }], { height: 1, hash: new Uint8Array(32) });
    index.close();
    const reopened = new MessageIndex(join(base, "messages.db"), new Uint8Array(32).fill(8));
    opened.push(reopened);
    expect(reopened.count()).toBe(0);
    expect(reopened.tip().height).toBe(0);
  });
});
