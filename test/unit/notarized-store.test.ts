import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blockHash } from "../../src/core/block/header.js";
import { MemoryNotarizedBlocks, type NotarizedBlockStore } from "../../src/core/chain/notarized-blocks.js";
import { SqliteNotarizedBlocks } from "../../src/storage/notarized-store.js";
import { genesisStore, nextBlock, testChain } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

function threeBlocks() {
  const chain = testChain({ validators: 1 });
  const c = genesisStore(chain.genesis);
  return [1, 2, 3].map(() => nextBlock(c, chain.validators[0]!, []).block);
}

describe.each([
  ["in memory", (): NotarizedBlockStore => new MemoryNotarizedBlocks()],
  ["in SQLite", (): NotarizedBlockStore => new SqliteNotarizedBlocks(join(dir(), "notarized.db"))],
])("the kept notarized blocks (%s)", (_, open) => {
  it("returns what was kept lowest first, takes a certificate that arrives later, and forgets what finality reached", () => {
    const [b1, b2, b3] = threeBlocks() as [ReturnType<typeof threeBlocks>[0], ReturnType<typeof threeBlocks>[0], ReturnType<typeof threeBlocks>[0]];
    const store = open();
    const certificate = { height: 2, blockHash: blockHash(b2.header), signers: Uint8Array.of(1), signature: new Uint8Array(48).fill(7) };
    store.keep([{ block: b3, certificate: null }, { block: b1, certificate: null }]);
    store.keep([{ block: b2, certificate }]);
    expect(store.all().map((k) => k.block.header.height)).toEqual([1, 2, 3]);
    expect(store.all()[1]!.certificate).toEqual(certificate);
    // A later write of the same block without a certificate keeps the one held.
    store.keep([{ block: b2, certificate: null }]);
    expect(store.all()[1]!.certificate).toEqual(certificate);
    store.pruneTo(1);
    expect(store.all().map((k) => k.block.header.height)).toEqual([2, 3]);
  });
});

describe("the kept notarized blocks in SQLite", () => {
  it("are there after the file is reopened, and a later write without the certificate keeps it", () => {
    const path = join(dir(), "notarized.db");
    const [b1] = threeBlocks();
    const certificate = { height: 1, blockHash: blockHash(b1!.header), signers: Uint8Array.of(1), signature: new Uint8Array(48).fill(3) };
    const first = new SqliteNotarizedBlocks(path);
    first.keep([{ block: b1!, certificate }]);
    first.keep([{ block: b1!, certificate: null }]);
    first.close();
    const again = new SqliteNotarizedBlocks(path);
    expect(again.all()).toEqual([{ block: b1, certificate }]);
    again.close();
  });
});
