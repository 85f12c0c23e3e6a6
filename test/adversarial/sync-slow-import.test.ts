import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock, type Clock } from "../../src/core/clock.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncRequest } from "../../src/mesh/messages/sync.js";
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

describe("range sync: one-go import slower than the request timeout", () => {
  it("does not blame a peer that answered promptly", async () => {
    const source = ChainStore.open(join(dir(), "src.db"), chain.genesis);
    growChain(source, chain.validators, 20, { slotStep: 1 });
    const manual = new ManualClock(1_000_000);
    let offset = 0;
    const clock: Clock = { now: () => manual.now() + offset, setTimeout: (f, ms) => manual.setTimeout(f, ms), clearTimeout: (h) => manual.clearTimeout(h) };
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    const sync: ChainSync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, holdBlocks: 8, importSliceMs: 0 }, {
      clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME,
      // A slow machine: each block's execution takes 1.5 s of wall time (8 blocks: 12 s > the 10 s request timeout).
      transition: (...args) => { offset += 1_500; return applyBlock(...args); },
      send: (request: SyncRequest) => {
        const answer = answerSyncRequest(source, request, ME, 8_000);
        setImmediate(() => sync.onResponse(request.target, syncResponseCodec.decode(syncResponseCodec.encode(answer))));
      },
    });
    sync.start();
    peers.heard(7, testIdentity("peer-7").ed25519.publicKey, { tipHeight: 20, finalizedHeight: 20 });
    sync.poke();
    for (let i = 0; i < 20; i++) { await new Promise((r) => setImmediate(r)); }
    console.log("tip", store.tip.height, "score7", peers.get(7)?.score, "state", sync.state);
    expect(peers.get(7)!.score).toBeGreaterThanOrEqual(0);
  });
});
