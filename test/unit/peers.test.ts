import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { toHex } from "../../src/core/bytes.js";
import { addressFromPublicKey } from "../../src/core/crypto/address.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
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
    expect(peers.heard(1, key("a"), { tipHeight: 5, finalizedHeight: 3, hopsAway: 2, snr: -7.5 })).toBe("joined");
    expect(peers.heard(1, key("a"), { tipHeight: 6, hopsAway: null })).toBe("updated");
    const p = peers.get(1)!;
    expect([p.tipHeight, p.finalizedHeight, p.hopsAway, p.snr]).toEqual([6, 3, 2, -7.5]);
    peers.record(1, { kind: "valid" });
    peers.record(1, { kind: "timeout" });
    peers.record(1, { kind: "latency", ms: 1_000 });
    peers.record(1, { kind: "latency", ms: 2_000 });
    expect(peers.get(1)!.score).toBe(1 - 5);
    expect(peers.get(1)!.latencyMs).toBe(1_200);
  });

  it("bans only for invalid data the peer signed itself, and ignores unknown senders", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    peers.heard(7, key("bad"), { tipHeight: 1 });
    // Unproven complaints (anyone can publish under node 7) lower its standing, never ban it.
    for (let i = 0; i < 20; i++) peers.record(7, { kind: "invalid", reason: "MALFORMED" });
    for (let i = 0; i < 20; i++) peers.record(7, { kind: "timeout" });
    expect(peers.isBanned(7)).toBe(false);
    expect(peers.get(7)!.score).toBe(-100);
    peers.record(7, { kind: "invalid", reason: "BAD_SIGNATURE", proven: true });
    peers.record(7, { kind: "invalid", reason: "BAD_SIGNATURE", proven: true });
    expect(peers.isBanned(7)).toBe(false);
    peers.record(7, { kind: "invalid", reason: "INVALID_TX", proven: true });
    expect(peers.isBanned(7)).toBe(true);
    expect(peers.bansByReason.get("INVALID_TX")).toBe(1);
    expect(peers.size).toBe(0);
    clock.advance(DEFAULT_PEER_OPTIONS.banMs);
    expect(peers.isBanned(7)).toBe(false);
    peers.record(99, { kind: "invalid", reason: "X", proven: true });
    expect(peers.get(99)).toBeUndefined();
  });

  it("binds a node number to one key, refuses replays, and lets a number's owner displace a squatter", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock });
    const owner = key("owner");
    const ownNumber = nodeNumberFromPublicKey(owner);
    peers.heard(5, key("a"), { tipHeight: 3, finalizedHeight: 2, signedAt: 100 });
    // Another key naming node 5: refused, whatever it claims.
    expect(peers.heard(5, key("intruder"), { tipHeight: 9, finalizedHeight: 1e12, signedAt: 200 })).toBe("key-mismatch");
    expect(peers.get(5)!.finalizedHeight).toBe(2);
    // An older statement of the same key, published again: a replay.
    expect(peers.heard(5, key("a"), { tipHeight: 15, finalizedHeight: 14, signedAt: 150 })).toBe("updated");
    expect(peers.heard(5, key("a"), { tipHeight: 3, finalizedHeight: 2, signedAt: 100 })).toBe("replayed");
    expect(peers.get(5)!.finalizedHeight).toBe(14);
    // A squatter on the number derived from someone else's key gives way to that key, not the reverse.
    expect(peers.heard(ownNumber, key("squatter"), { tipHeight: 1, signedAt: 1 })).toBe("joined");
    expect(peers.heard(ownNumber, owner, { tipHeight: 2, signedAt: 1 })).toBe("joined");
    expect(peers.heard(ownNumber, key("squatter"), { tipHeight: 3, signedAt: 2 })).toBe("key-mismatch");
    expect(peers.get(ownNumber)!.publicKey).toEqual(owner);
  });

  it("gives a radio's own node number to a staked key over a fresh one that squatted it", () => {
    const clock = new ManualClock(0);
    const weights = new Map([[toHex(addressFromPublicKey(key("validator"))), 1n]]);
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, stake: () => ({ weights, total: 1n }) });
    const radioNumber = 0x0a0b0c0d;
    expect(peers.heard(radioNumber, key("squatter"), { tipHeight: 1e12, finalizedHeight: 1e12, signedAt: 1 })).toBe("joined");
    expect(peers.heard(radioNumber, key("validator"), { tipHeight: 5, finalizedHeight: 4, signedAt: 1 })).toBe("joined");
    expect(peers.heard(radioNumber, key("squatter"), { tipHeight: 1e12, signedAt: 2 })).toBe("key-mismatch");
    expect(peers.get(radioNumber)!.finalizedHeight).toBe(4);
  });

  it("believes a claimed finality only when validators with over a third of the weight claim it", () => {
    const clock = new ManualClock(0);
    const weights = new Map([["v1", 25n], ["v2", 25n], ["v3", 25n], ["v4", 25n]].map(([n, w]) => [toHex(addressFromPublicKey(key(n as string))), w as bigint]));
    const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, stake: () => ({ weights, total: 100n }) });
    for (let i = 0; i < 20; i++) peers.heard(100 + i, key(`fresh${i}`), { tipHeight: 1e12, finalizedHeight: 1e12 });
    expect(peers.provenFinalizedHeight()).toBe(0);
    peers.heard(1, key("v2"), { tipHeight: 12, finalizedHeight: 10 });
    expect(peers.provenFinalizedHeight()).toBe(0);
    peers.heard(2, key("v3"), { tipHeight: 9, finalizedHeight: 8 });
    expect(peers.provenFinalizedHeight()).toBe(8);
    peers.heard(3, key("v1"), { tipHeight: 12, finalizedHeight: 11 });
    expect(peers.provenFinalizedHeight()).toBe(10);
    // Staked peers first when choosing whom to sync from: twenty fresh keys cannot push them back.
    expect(peers.syncPeers(3).map((p) => p.node)).toEqual([3, 1, 2]);
  });

  it("keeps staked peers when a flood of fresh keys fills the table", () => {
    const clock = new ManualClock(0);
    const weights = new Map([[toHex(addressFromPublicKey(key("v"))), 1n]]);
    const peers = new PeerManager({ ...DEFAULT_PEER_OPTIONS, maxPeers: 4 }, { clock, stake: () => ({ weights, total: 1n }) });
    peers.heard(1, key("v"), { tipHeight: 1 });
    for (let i = 0; i < 50; i++) peers.heard(100 + i, key(`fresh${i}`), { tipHeight: 1 });
    expect(peers.list()).toHaveLength(4);
    expect(peers.get(1)?.publicKey).toEqual(key("v"));
  });

  it("forgets silent peers, picks sync peers by finality then score, and evicts the worst when full", () => {
    const clock = new ManualClock(0);
    const peers = new PeerManager({ ...DEFAULT_PEER_OPTIONS, maxPeers: 3 }, { clock });
    peers.heard(1, key("1"), { tipHeight: 10, finalizedHeight: 8 });
    peers.heard(2, key("2"), { tipHeight: 12, finalizedHeight: 9 });
    peers.heard(3, key("3"), { tipHeight: 12, finalizedHeight: 9 });
    peers.record(3, { kind: "valid" });
    expect(peers.syncPeers(2).map((p) => p.node)).toEqual([3, 2]);
    expect(peers.provenFinalizedHeight()).toBe(9);
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
    peers.heard(5, key("5"), { tipHeight: 4, signedAt: 50 });
    for (let i = 0; i < 3; i++) peers.record(6, { kind: "invalid", reason: "BAD_SIGNATURE", proven: true });
    store.close();
    clock.advance(HOUR / 2);
    const reopened = new SqlitePeerStore(path);
    const again = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, persistence: reopened });
    expect(again.get(5)?.snr).toBe(4);
    expect(again.get(5)?.publicKey).toEqual(key("5"));
    expect(again.isBanned(6)).toBe(true);
    // The replay guard survives the restart too.
    expect(again.heard(5, key("5"), { tipHeight: 3, signedAt: 49 })).toBe("replayed");
    reopened.close();
  });
});
