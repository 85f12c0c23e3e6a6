import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { toHex } from "../../src/core/bytes.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { syncResponseCodec, type SyncRequest, type SyncResponse } from "../../src/mesh/messages/sync.js";
import { silentLogger } from "../../src/node/logger.js";
import { DEFAULT_PEER_OPTIONS, PeerManager } from "../../src/node/peers.js";
import { StorageHealth } from "../../src/node/storage-health.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS, type SyncDeps, type SyncOptions } from "../../src/node/sync.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { StorageError } from "../../src/storage/errors.js";
import { CHAIN_ID, testChain, testIdentity } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const ME = 0x1000;
const chain = testChain({ validators: 3 });
const verifier = new BlsVerifier(CHAIN_ID);

/** A follower's sync service, its store and peers, with each peer answering from its own store (or a tampering function). */
function follower(peerStores: Map<number, { store: ChainStore; tamper?: (r: SyncResponse) => SyncResponse; silent?: boolean }>, options: Partial<SyncOptions> = {}, deps: Partial<Pick<SyncDeps, "transition">> = {}) {
  const clock = new ManualClock(1_000_000);
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
  const health = new StorageHealth({ clock, logger: silentLogger() });
  const requests: { peer: number; request: SyncRequest }[] = [];
  // Imports in one go unless a test asks for slices: each answer's effect is then seen at once.
  const sync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, batchBlocks: 4, importSliceMs: 0, ...options }, {
    clock, logger: silentLogger(), chainId: CHAIN_ID, store, verifier, peers, localNode: ME, health, ...deps,
    send: (request) => requests.push({ peer: request.target, request }),
  });
  sync.start();
  const announce = (node: number, finalizedHeight: number) => peers.heard(node, testIdentity(`peer-${node}`).ed25519.publicKey, { tipHeight: finalizedHeight, finalizedHeight });
  /** Deliver answers until nobody has anything left to say. */
  const run = () => {
    sync.poke();
    for (let i = 0; i < 200 && requests.length > 0; i++) {
      const { peer, request } = requests.shift()!;
      const p = peerStores.get(peer);
      if (p === undefined || p.silent === true) continue;
      const answer = answerSyncRequest(p.store, request, ME, 8_000);
      // Through the codec, as on the wire.
      sync.onResponse(peer, syncResponseCodec.decode(syncResponseCodec.encode(p.tamper?.(answer) ?? answer)));
    }
  };
  return { clock, store, peers, sync, announce, run, requests, health };
}

function sourceStore(blocks: number, slotStep: number): ChainStore {
  const store = ChainStore.open(join(dir(), "chain.db"), chain.genesis);
  growChain(store, chain.validators, blocks, { slotStep });
  return store;
}

describe("chain sync", () => {
  it("fetches a peer's chain in batches, checks every block, and proves finality itself", () => {
    const source = sourceStore(10, 1);
    const f = follower(new Map([[7, { store: source }]]));
    f.announce(7, 10);
    f.run();
    expect(f.store.tip.height).toBe(10);
    expect(toHex(f.store.tip.hash)).toBe(toHex(source.tip.hash));
    // Consecutive slots: block 9's child (10) is notarized in the next slot, so 9 is final.
    expect(f.store.finalizedHeight).toBe(9);
    expect(f.sync.state).toBe("synced");
    expect(f.sync.progress()).toMatchObject({ percent: 100, etaSeconds: 0, targetHeight: 10 });
    expect(f.peers.get(7)!.score).toBeGreaterThan(0);
    // The last block's notarization came with it, and is kept to serve others.
    expect(f.store.notarizationAt(10)).not.toBeNull();
  });

  it("refuses a tampered batch, keeps what checked out before it, and finishes from another peer", () => {
    const source = sourceStore(8, 1);
    const tamper = (r: SyncResponse): SyncResponse => ({
      ...r,
      blocks: r.blocks.map((b, i) => {
        // Block 8 ends the run gathered from this peer, above the block it proves final (7): checked on import.
        if (r.fromHeight + i !== 8) return b;
        const bytes = Uint8Array.from(b.bytes);
        // The proposer's signature sits at the end of the header, just before the transaction count.
        bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
        return { ...b, bytes };
      }),
    });
    const f = follower(new Map([[7, { store: source, tamper }], [8, { store: source }]]));
    f.announce(7, 9);
    f.announce(8, 8);
    f.run();
    expect(f.peers.get(7)!.lastInvalidReason).not.toBeNull();
    expect(f.peers.get(7)!.score).toBeLessThan(0);
    expect(f.store.tip.height).toBe(8);
    expect(toHex(f.store.tip.hash)).toBe(toHex(source.tip.hash));
  });

  it("audits the proposer signatures a finality proof left unchecked, then serves the blocks", () => {
    const source = sourceStore(10, 1);
    const f = follower(new Map([[7, { store: source }]]));
    f.announce(7, 10);
    f.run();
    expect(f.store.tip.height).toBe(10);
    // Blocks 1-3 and 5-7 were covered by finality proofs: not served until audited.
    expect(f.store.signaturesCheckedHeight).toBe(0);
    expect(answerSyncRequest(f.store, { target: 1, fromHeight: 1, maxBlocks: 4 }, 2, 8_000).blocks).toHaveLength(0);
    f.clock.advance(DEFAULT_SYNC_OPTIONS.tickMs);
    expect(f.store.signaturesCheckedHeight).toBe(10);
    expect(answerSyncRequest(f.store, { target: 1, fromHeight: 1, maxBlocks: 4 }, 2, 8_000).blocks).toHaveLength(4);
  });

  it("mends a covered block whose signature a peer swapped, with a good copy from another peer, before serving it", () => {
    const source = sourceStore(8, 1);
    const tamper = (r: SyncResponse): SyncResponse => ({
      ...r,
      blocks: r.blocks.map((b, i) => {
        if (r.fromHeight + i !== 2) return b;
        const bytes = Uint8Array.from(b.bytes);
        bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
        return { ...b, bytes };
      }),
    });
    const f = follower(new Map([[7, { store: source, tamper }], [8, { store: source }]]));
    f.announce(7, 8);
    f.run();
    // Block 2 lies below block 3, which the first batch proves final: imported on the proof.
    expect(f.store.tip.height).toBe(8);
    f.clock.advance(DEFAULT_SYNC_OPTIONS.tickMs);
    // The audit refused it; the peer that sent it offers the same swapped copy, which mends nothing.
    f.run();
    expect(f.store.signaturesCheckedHeight).toBe(1);
    expect(answerSyncRequest(f.store, { target: 1, fromHeight: 1, maxBlocks: 4 }, 2, 8_000).blocks).toHaveLength(1);
    f.announce(8, 8);
    f.run();
    f.clock.advance(DEFAULT_SYNC_OPTIONS.tickMs);
    expect(f.store.signaturesCheckedHeight).toBe(8);
    expect(toHex(f.store.blockBytesAt(2)!)).toBe(toHex(source.blockBytesAt(2)!));
  });

  it("gathers one peer's answers into one run, whose finality one pairing check proves", () => {
    const source = sourceStore(10, 1);
    const f = follower(new Map([[7, { store: source }]]));
    f.announce(7, 10);
    f.run();
    expect(f.store.tip.height).toBe(10);
    // Three answers of four blocks at most, one import: blocks 9 and 10's notarizations prove 9
    // final, and block 10's proposer signature is checked with them. Answer by answer it would be 12.
    expect(f.sync.importer.signatureChecks).toBe(3);
    expect(f.sync.importer.executions).toBe(10);
  });

  it("moves on from a peer that does not answer", () => {
    const source = sourceStore(4, 1);
    const f = follower(new Map([[7, { store: source, silent: true }], [8, { store: source }]]));
    f.announce(7, 6);
    f.announce(8, 4);
    f.run();
    expect(f.store.tip.height).toBe(0);
    expect(f.sync.state).toBe("syncing");
    // The tick after the timeout gives up on peer 7 and asks peer 8.
    f.clock.advance(DEFAULT_SYNC_OPTIONS.requestTimeoutMs + DEFAULT_SYNC_OPTIONS.tickMs);
    f.run();
    f.sync.stop();
    expect(f.store.tip.height).toBe(4);
    expect(f.peers.get(7)!.score).toBeLessThan(0);
    // Peer 7 still claims more than anyone serves: behind, not synced.
    expect(f.sync.targetHeight).toBe(6);
  });

  it("undoes blocks above finality for a peer's branch, but never a finalized block", () => {
    // Branch X: slots two apart, so nothing in it is final.
    const x = sourceStore(3, 2);
    const y = sourceStore(6, 1);
    const follow = follower(new Map([[7, { store: x }], [8, { store: y }]]));
    follow.announce(7, 3);
    follow.run();
    expect(toHex(follow.store.tip.hash)).toBe(toHex(x.tip.hash));
    expect(follow.store.finalizedHeight).toBe(0);
    // Branch Y from another peer, further along: the follower reorganises onto it.
    follow.announce(8, 6);
    follow.run();
    expect(toHex(follow.store.tip.hash)).toBe(toHex(y.tip.hash));
    expect(follow.store.finalizedHeight).toBe(5);
    // A peer whose chain leaves ours below our finality is refused, and our final blocks stay.
    const finalHash = toHex(follow.store.blockAt(5)!.header.parentHash);
    growChain(x, chain.validators, 7, { slotStep: 2 });
    follow.announce(7, 10);
    follow.run();
    expect(follow.peers.get(7)!.lastInvalidReason).toBe("CONFLICTS_WITH_FINALIZED");
    expect(follow.store.finalizedHeight).toBe(5);
    expect(toHex(follow.store.blockAt(5)!.header.parentHash)).toBe(finalHash);
  });

  it("takes a pruning peer's empty answer as pruned, not as a stall, and syncs from a peer that keeps bodies", () => {
    const pruned = ChainStore.open(join(dir(), "pruned.db"), chain.genesis, { keepBodies: 2 });
    growChain(pruned, chain.validators, 6);
    expect(pruned.oldestBody).toBe(5);
    const whole = sourceStore(6, 1);
    const f = follower(new Map([[7, { store: pruned }], [8, { store: whole }]]));
    f.announce(7, 6);
    f.run();
    expect(f.store.tip.height).toBe(0);
    expect(f.requests.length).toBe(0);
    expect(f.peers.get(7)!.score).toBe(0);
    expect(f.peers.get(7)!.lastInvalidReason).toBeNull();
    expect(f.sync.state).toBe("behind");
    f.announce(8, 6);
    f.run();
    expect(f.store.tip.height).toBe(6);
    expect(toHex(f.store.tip.hash)).toBe(toHex(pruned.tip.hash));
  });

  it("imports a run in slices, letting the event loop run between them, and asks for nothing meanwhile", async () => {
    const source = sourceStore(10, 1);
    // A slice shorter than any block's execution: the import pauses after every block.
    const f = follower(new Map([[7, { store: source }]]), { importSliceMs: 1e-6 });
    f.announce(7, 10);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    f.run();
    // All three answers arrived and the run was handed to the import, which paused before committing.
    expect(f.requests.length).toBe(0);
    expect(f.store.tip.height).toBe(0);
    f.clock.advance(DEFAULT_SYNC_OPTIONS.tickMs);
    expect(f.requests.length).toBe(0);
    await waitFor(() => f.store.tip.height === 10, 10_000, () => `height ${f.store.tip.height}`);
    clearInterval(counting);
    expect(turns).toBeGreaterThan(0);
    expect(toHex(f.store.tip.hash)).toBe(toHex(source.tip.hash));
    expect(f.sync.importer.executions).toBe(10);
    // Sliced or not, the same checks as the one-go import above.
    expect(f.sync.importer.signatureChecks).toBe(3);
    expect(f.sync.state).toBe("synced");
  });

  it("drops an import paused across a stop: nothing of it is committed", async () => {
    const source = sourceStore(10, 1);
    const f = follower(new Map([[7, { store: source }]]), { importSliceMs: 1e-6 });
    f.announce(7, 10);
    f.run();
    f.sync.stop();
    // Enough turns of the event loop for the import to have finished, had it gone on.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(f.store.tip.height).toBe(0);
    expect(f.sync.importer.committedBlocks).toBe(0);
  });

  // Whether the run was imported in one go or in slices, a throw is judged in one place: nobody's
  // peer is blamed, nothing is committed, and the service backs off in "error" rather than spin.
  for (const importSliceMs of [0, 1e-6]) {
    const how = importSliceMs === 0 ? "in one go" : "in slices";
    it(`backs off without blaming the peer when its own code throws while importing ${how}`, async () => {
      const source = sourceStore(6, 1);
      const broken = () => {
        throw new TypeError("a bug of ours");
      };
      const f = follower(new Map([[7, { store: source }]]), { importSliceMs }, { transition: broken });
      f.announce(7, 6);
      f.run();
      await waitFor(() => f.sync.state === "error", 10_000, () => `state ${f.sync.state}`);
      expect(f.store.tip.height).toBe(0);
      expect(f.peers.get(7)).toMatchObject({ score: 0, lastInvalidReason: null });
      // Backing off: no request until errorBackoffMs has passed.
      f.clock.advance(DEFAULT_SYNC_OPTIONS.tickMs);
      expect(f.requests).toEqual([]);
    });

    it(`reports a failed commit as the store's fault, not the peer's, and recovers after the back-off, importing ${how}`, async () => {
      const source = sourceStore(6, 1);
      const f = follower(new Map([[7, { store: source }]]), { importSliceMs });
      const commit = f.store.commitBatch.bind(f.store);
      let failures = 1;
      f.store.commitBatch = (...args) => {
        if (failures-- > 0) throw new StorageError("DISK_FULL", "the disk is full");
        return commit(...args);
      };
      f.announce(7, 6);
      f.run();
      await waitFor(() => f.sync.state === "error", 10_000, () => `state ${f.sync.state}`);
      expect(f.health.fault).toMatchObject({ store: "chain", code: "DISK_FULL" });
      expect(f.peers.get(7)).toMatchObject({ score: 0, lastInvalidReason: null });
      expect(f.store.tip.height).toBe(0);
      f.clock.advance(DEFAULT_SYNC_OPTIONS.errorBackoffMs + DEFAULT_SYNC_OPTIONS.tickMs);
      f.run();
      await waitFor(() => f.store.tip.height === 6, 10_000, () => `height ${f.store.tip.height}`);
      expect(f.health.fault).toBeNull();
    });
  }

  it("executes each synced block once", () => {
    const source = sourceStore(9, 1);
    const f = follower(new Map([[7, { store: source }]]));
    f.announce(7, 9);
    f.run();
    expect(f.store.tip.height).toBe(9);
    expect(f.sync.importer.executions).toBe(9);
    expect(f.sync.importer.committedBlocks).toBe(9);
  });
});
