import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncResponse, type SyncRequest } from "../../src/mesh/messages/sync.js";
import { silentLogger } from "../../src/node/logger.js";
import { DEFAULT_PEER_OPTIONS, PeerManager } from "../../src/node/peers.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS } from "../../src/node/sync.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, testChain, testIdentity } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const ME = 0x1000;
const chain = testChain({ validators: 3 });
const verifier = new BlsVerifier(CHAIN_ID);

describe("range sync: answer whose first block is not the height asked", () => {
  it("blames the peer and finishes from an honest one", async () => {
    const source = ChainStore.open(join(dir(), "src.db"), chain.genesis);
    growChain(source, chain.validators, 20, { slotStep: 1 });
    const clock = new ManualClock(1_000_000);
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    let answered7 = 0;
    const sync: ChainSync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, holdBlocks: 8, importSliceMs: 0 }, {
      clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME,
      send: (request: SyncRequest) => {
        // Peer 7 answers with the blocks one above those asked for, under the asked fromHeight.
        const asked = request.target === 7 ? { ...request, fromHeight: request.fromHeight + 1 } : request;
        if (request.target === 7) answered7++;
        const a = answerSyncRequest(source, asked, ME, 8_000);
        const answer: SyncResponse = { ...a, fromHeight: request.fromHeight };
        queueMicrotask(() => sync.onResponse(request.target, syncResponseCodec.decode(syncResponseCodec.encode(answer))));
      },
    });
    sync.start();
    peers.heard(7, testIdentity("peer-7").ed25519.publicKey, { tipHeight: 20, finalizedHeight: 20 });
    peers.heard(8, testIdentity("peer-8").ed25519.publicKey, { tipHeight: 19, finalizedHeight: 19 });
    sync.poke();
    for (let i = 0; i < 30; i++) {
      clock.advance(1_000);
      await new Promise((r) => setImmediate(r));
    }
    console.log("tip", store.tip.height, "answers from 7", answered7, "7 invalid:", peers.get(7)?.lastInvalidReason, "score7", peers.get(7)?.score);
    expect(peers.get(7)?.lastInvalidReason).not.toBeNull();
    expect(store.tip.height).toBeGreaterThanOrEqual(19);
  });
});
