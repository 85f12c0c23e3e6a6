import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { DEFAULT_PEER_OPTIONS, PeerManager } from "../../src/node/peers.js";
import { SqlitePeerStore } from "../../src/storage/peer-store.js";
import { testIdentity } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();
const key = (n: string) => testIdentity(n).ed25519.publicKey;
const HOUR = 3_600_000;

describe("peer manager", () => {
  it("learns peers with their transport metadata and scores what they do", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    expect(peers.heard(1, key("a"), { tipHeight: 5, finalizedHeight: 3, hopsAway: 2, snr: -7.5 })).toBe(true);
    expect(peers.heard(1, key("a"), { tipHeight: 6, hopsAway: null })).toBe(false);
    const p = peers.get(1)!;
    expect([p.tipHeight, p.finalizedHeight, p.hopsAway, p.snr]).toEqual([6, 3, 2, -7.5]);
    peers.record(1, { kind: "valid" });
    peers.record(1, { kind: "timeout" });
    peers.record(1, { kind: "latency", ms: 1_000 });
    peers.record(1, { kind: "latency", ms: 2_000 });
    expect(peers.get(1)!.score).toBe(1 - 5);
    expect(peers.get(1)!.latencyMs).toBe(1_200);
  });

  it("bans a peer that keeps sending invalid data, for a while, and ignores unknown senders", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    peers.heard(7, key("bad"), { tipHeight: 1 });
    peers.record(7, { kind: "invalid", reason: "BAD_SIGNATURE" });
    peers.record(7, { kind: "invalid", reason: "BAD_SIGNATURE" });
    expect(peers.isBanned(7)).toBe(false);
    peers.record(7, { kind: "invalid", reason: "INVALID_TX" });
    expect(peers.isBanned(7)).toBe(true);
    expect(peers.get(7)!.lastInvalidReason).toBe("INVALID_TX");
    expect(peers.size).toBe(0);
    clock.advance(DEFAULT_PEER_OPTIONS.banMs);
    expect(peers.isBanned(7)).toBe(false);
    peers.record(99, { kind: "invalid", reason: "X" });
    expect(peers.get(99)).toBeUndefined();
  });

  it("forgets silent peers, picks sync peers by finality then score, and evicts the worst when full", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager({ ...DEFAULT_PEER_OPTIONS, maxPeers: 3 }, { clock });
    peers.heard(1, key("1"), { tipHeight: 10, finalizedHeight: 8 });
    peers.heard(2, key("2"), { tipHeight: 12, finalizedHeight: 9 });
    peers.heard(3, key("3"), { tipHeight: 12, finalizedHeight: 9 });
    peers.record(3, { kind: "valid" });
    expect(peers.syncPeers(2).map((p) => p.node)).toEqual([3, 2]);
    peers.record(1, { kind: "timeout" });
    peers.heard(4, key("4"), { tipHeight: 1 });
    expect(peers.get(1)).toBeUndefined();
    clock.advance(DEFAULT_PEER_OPTIONS.expiryMs - 1);
    peers.heard(2, key("2"), { tipHeight: 13 });
    clock.advance(2);
    expect(peers.expire()).toBe(2);
    expect(peers.list().map((p) => p.node)).toEqual([2]);
  });

  it("keeps peers and bans across restarts", () => {
    const path = join(dir(), "peers.db");
    const clock = new ManualClock(0);
    const store = new SqlitePeerStore(path);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, persistence: store });
    peers.heard(5, key("5"), { tipHeight: 3, snr: 4 });
    peers.heard(6, key("6"), { tipHeight: 3 });
    for (let i = 0; i < 3; i++) peers.record(6, { kind: "invalid", reason: "BAD_SIGNATURE" });
    store.close();
    clock.advance(HOUR / 2);
    const reopened = new SqlitePeerStore(path);
    const again = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, persistence: reopened });
    expect(again.get(5)?.snr).toBe(4);
    expect(again.get(5)?.publicKey).toEqual(key("5"));
    expect(again.isBanned(6)).toBe(true);
    reopened.close();
  });
});
