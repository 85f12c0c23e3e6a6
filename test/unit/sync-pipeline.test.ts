import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { toHex } from "../../src/core/bytes.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncResponse } from "../../src/mesh/messages/sync.js";
import { silentLogger } from "../../src/node/logger.js";
import { DEFAULT_PEER_OPTIONS, PeerManager } from "../../src/node/peers.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS } from "../../src/node/sync.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, testChain, testIdentity } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

/*
 * Range sync asks for the next run while it imports the current one (docs/benchmarks.md, "Pipelined
 * range sync"): answers arrive while the run is checked. Runs of 8 blocks in answers of 4 here, and an
 * import that pauses after every block, so the answers for the next run come in during the import.
 */

const dir = tempDirsPerTest();
const ME = 0x1000;
const chain = testChain({ validators: 3 });
const verifier = new BlsVerifier(CHAIN_ID);
const HOLD = 8;

type Peer = { store: ChainStore; tamper?: (r: SyncResponse) => SyncResponse };

/** A follower whose peers answer on a later turn of the event loop, as a network would; each request notes the tip it was sent at. */
function follower(peerStores: Map<number, Peer>) {
  const clock = new ManualClock(1_000_000);
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
  const sent: { fromHeight: number; tip: number }[] = [];
  const sync: ChainSync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, holdBlocks: HOLD, importSliceMs: 1e-6 }, {
    clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME,
    send: (request) => {
      sent.push({ fromHeight: request.fromHeight, tip: store.tip.height });
      const p = peerStores.get(request.target);
      if (p === undefined) return;
      setImmediate(() => {
        const answer = answerSyncRequest(p.store, request, ME, 8_000);
        sync.onResponse(request.target, syncResponseCodec.decode(syncResponseCodec.encode(p.tamper?.(answer) ?? answer)));
      });
    },
  });
  sync.start();
  const announce = (node: number, finalizedHeight: number) => peers.heard(node, testIdentity(`peer-${node}`).ed25519.publicKey, { tipHeight: finalizedHeight, finalizedHeight });
  return { store, peers, sync, announce, sent };
}

function sourceStore(blocks: number): ChainStore {
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  growChain(store, chain.validators, blocks, { slotStep: 1 });
  return store;
}

describe("pipelined range sync", () => {
  it("asks for the next run while it imports one, and executes and commits each block once", async () => {
    const source = sourceStore(20);
    const f = follower(new Map([[7, { store: source }]]));
    f.announce(7, 20);
    f.sync.poke();
    await waitFor(() => f.store.tip.height === 20, 20_000, () => `height ${f.store.tip.height}`);
    expect(toHex(f.store.tip.hash)).toBe(toHex(source.tip.hash));
    // Asked beyond a whole run past the tip: only while that run was being imported.
    expect(f.sent.some((s) => s.fromHeight > s.tip + HOLD)).toBe(true);
    expect(f.sync.importer.executions).toBe(20);
    expect(f.sync.importer.committedBlocks).toBe(20);
    expect(f.sync.state).toBe("synced");
  });

  it("drops what it gathered behind a run that is refused, and finishes from another peer without undoing a block", async () => {
    const source = sourceStore(20);
    const tamper = (r: SyncResponse): SyncResponse => ({
      ...r,
      blocks: r.blocks.map((b, i) => {
        // Block 8 ends the first run, above the block its proof makes final (7): its signature is checked on import.
        if (r.fromHeight + i !== 8) return b;
        const bytes = Uint8Array.from(b.bytes);
        bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
        return { ...b, bytes };
      }),
    });
    const f = follower(new Map([[7, { store: source, tamper }], [8, { store: source }]]));
    f.announce(7, 20);
    f.sync.poke();
    await waitFor(() => f.peers.get(7)?.lastInvalidReason != null, 20_000, () => `height ${f.store.tip.height}`);
    f.announce(8, 20);
    f.sync.poke();
    await waitFor(() => f.store.tip.height === 20, 20_000, () => `height ${f.store.tip.height}`);
    expect(toHex(f.store.tip.hash)).toBe(toHex(source.tip.hash));
    // Blocks 1-7 from peer 7, 8-20 from peer 8. Had the answers gathered behind the refused run been
    // imported on our tip (7), they would not link: block 7 (above finality) undone, and the sync stuck
    // on those answers (seen: the wait for height 20 times out at 6).
    expect(f.sync.importer.committedBlocks).toBe(20);
    expect(f.sync.importer.executions).toBe(21);
    expect(f.peers.get(8)!.lastInvalidReason).toBeNull();
  });
});
