import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncRequest, type SyncResponse } from "../../src/mesh/messages/sync.js";
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

describe("range sync: refused peer stays silent on the request sent behind its run", () => {
  it("asks another peer at once", async () => {
    const source = ChainStore.open(join(dir(), "src.db"), chain.genesis);
    growChain(source, chain.validators, 20, { slotStep: 1 });
    const clock = new ManualClock(1_000_000);
    const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    let askedQ: number | null = null;
    const tamper = (r: SyncResponse): SyncResponse => ({ ...r, blocks: r.blocks.map((b, i) => {
      if (r.fromHeight + i !== 8) return b;
      const bytes = Uint8Array.from(b.bytes); bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1; return { ...b, bytes };
    }) });
    const sync: ChainSync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, holdBlocks: 8, importSliceMs: 1e-6 }, {
      clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME,
      send: (request: SyncRequest) => {
        if (request.target === 8 && askedQ === null) askedQ = clock.now();
        if (request.target === 7 && request.fromHeight > 8) return; // silent after its bad run
        const a = answerSyncRequest(source, request, ME, 8_000);
        const answer = request.target === 7 ? tamper(a) : a;
        setImmediate(() => sync.onResponse(request.target, syncResponseCodec.decode(syncResponseCodec.encode(answer))));
      },
    });
    sync.start();
    peers.heard(7, testIdentity("peer-7").ed25519.publicKey, { tipHeight: 20, finalizedHeight: 20 });
    peers.heard(8, testIdentity("peer-8").ed25519.publicKey, { tipHeight: 19, finalizedHeight: 19 });
    sync.poke();
    let refusedAt: number | null = null;
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 50; j++) await new Promise((r) => setImmediate(r));
      if (refusedAt === null && peers.get(7)?.lastInvalidReason != null) refusedAt = clock.now();
      clock.advance(1_000);
    }
    console.log("refusedAt", refusedAt, "askedQ", askedQ, "delay ms", askedQ! - refusedAt!, "tip", store.tip.height, "score7", peers.get(7)?.score);
    expect(askedQ! - refusedAt!).toBeLessThan(2_000);
  });
});
