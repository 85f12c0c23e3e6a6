import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock, type Clock } from "../../src/core/clock.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncRequest, type SyncResponse } from "../../src/mesh/messages/sync.js";
import { silentLogger } from "../../src/node/logger.js";
import { DEFAULT_PEER_OPTIONS, PeerManager } from "../../src/node/peers.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS, type SyncOptions } from "../../src/node/sync.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, testChain, testIdentity } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

/*
 * What a range-sync peer can cost us, from the review of a pipelined sync (session 26) that got each
 * of these wrong: an answer at the wrong height must be blamed, a refused peer must not hold others
 * off, and our own slow import must not be charged to a peer that answered on time.
 */

const dir = tempDirsPerTest();
const ME = 0x1000;
const chain = testChain({ validators: 3 });
const verifier = new BlsVerifier(CHAIN_ID);

interface Setup {
  readonly clock: Clock;
  readonly options: Partial<SyncOptions>;
  /** Answers a request: the honest answer from a 20-block chain, for the test to change or drop. */
  readonly answer: (request: SyncRequest, honest: SyncResponse, source: ChainStore) => SyncResponse | null;
  readonly transition?: typeof applyBlock;
}

function syncWith(setup: Setup): { sync: ChainSync; store: ChainStore; peers: PeerManager } {
  const source = ChainStore.open(join(dir(), "src.db"), chain.genesis);
  growChain(source, chain.validators, 20, { slotStep: 1 });
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock: setup.clock });
  const sync: ChainSync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, holdBlocks: 8, ...setup.options }, {
    clock: setup.clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME,
    ...(setup.transition ? { transition: setup.transition } : {}),
    send: (request: SyncRequest) => {
      const answer = setup.answer(request, answerSyncRequest(source, request, ME, 8_000), source);
      if (answer === null) return;
      setImmediate(() => sync.onResponse(request.target, syncResponseCodec.decode(syncResponseCodec.encode(answer))));
    },
  });
  sync.start();
  peers.heard(7, testIdentity("peer-7").ed25519.publicKey, { tipHeight: 20, finalizedHeight: 20 });
  return { sync, store, peers };
}

const turn = () => new Promise((r) => setImmediate(r));

describe("range sync: what a peer's answers can cost us", () => {
  it("blames a peer whose answer starts above the height asked, and finishes from an honest one", async () => {
    const clock = new ManualClock(1_000_000);
    const { sync, store, peers } = syncWith({
      clock,
      options: { importSliceMs: 0 },
      // Peer 7 sends the blocks one above those asked for, labelled with the height asked.
      answer: (request, honest, source) => {
        if (request.target !== 7) return honest;
        const shifted = answerSyncRequest(source, { ...request, fromHeight: request.fromHeight + 1 }, ME, 8_000);
        return { ...shifted, fromHeight: request.fromHeight };
      },
    });
    peers.heard(8, testIdentity("peer-8").ed25519.publicKey, { tipHeight: 19, finalizedHeight: 19 });
    sync.poke();
    for (let i = 0; i < 30; i++) {
      clock.advance(1_000);
      await turn();
    }
    expect(peers.get(7)?.lastInvalidReason).not.toBeNull();
    expect(store.tip.height).toBeGreaterThanOrEqual(19);
  });

  it("asks another peer at once after refusing a run, whatever the refused peer does next", async () => {
    const clock = new ManualClock(1_000_000);
    let askedOther: number | null = null;
    const { sync, peers } = syncWith({
      clock,
      options: { importSliceMs: 1e-6 },
      answer: (request, honest) => {
        if (request.target === 8 && askedOther === null) askedOther = clock.now();
        if (request.target !== 7) return honest;
        if (request.fromHeight > 8) return null; // silent after its bad run
        // Block 8 of its answer is corrupted: the run is refused.
        return { ...honest, blocks: honest.blocks.map((b, i) => {
          if (honest.fromHeight + i !== 8) return b;
          const bytes = Uint8Array.from(b.bytes);
          bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
          return { ...b, bytes };
        }) };
      },
    });
    peers.heard(8, testIdentity("peer-8").ed25519.publicKey, { tipHeight: 19, finalizedHeight: 19 });
    sync.poke();
    let refusedAt: number | null = null;
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 50; j++) await turn();
      if (refusedAt === null && peers.get(7)?.lastInvalidReason != null) refusedAt = clock.now();
      clock.advance(1_000);
    }
    expect(refusedAt).not.toBeNull();
    expect(askedOther).not.toBeNull();
    expect(askedOther! - refusedAt!).toBeLessThan(2_000);
  });

  it("does not charge a peer that answered promptly for our own slow one-go import", async () => {
    const manual = new ManualClock(1_000_000);
    let offset = 0;
    const clock: Clock = { now: () => manual.now() + offset, setTimeout: (f, ms) => manual.setTimeout(f, ms), clearTimeout: (h) => manual.clearTimeout(h) };
    const { sync, peers } = syncWith({
      clock,
      options: { importSliceMs: 0 },
      // A slow machine: each block's execution takes 1.5 s of wall time (8 blocks: 12 s, over the 10 s request timeout).
      transition: (...args) => {
        offset += 1_500;
        return applyBlock(...args);
      },
      answer: (_request, honest) => honest,
    });
    sync.poke();
    for (let i = 0; i < 20; i++) await turn();
    expect(peers.get(7)!.score).toBeGreaterThanOrEqual(0);
  });
});
