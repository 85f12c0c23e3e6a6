import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { addressFromPublicKey } from "../../src/core/crypto/address.js";
import { silentLogger } from "../../src/node/logger.js";
import { AUDIT_BEFORE_CONSENSUS_MAX_MS, ModeMachine, type ModeNetwork, type ModeRun, SYNC_BEFORE_CONSENSUS_GRACE_MS } from "../../src/node/mode-machine.js";
import { DEFAULT_PEER_OPTIONS, PeerManager, type StakeView } from "../../src/node/peers.js";
import type { SyncState } from "../../src/node/sync.js";
import { testIdentity } from "../fixtures/chain.js";

const TICK_MS = 1_000;
const FALL_BEHIND_BLOCKS = 32;
const key = (n: string) => testIdentity(n).ed25519.publicKey;

/**
 * A run whose services are recorded rather than built: the sync's state, the chain's heights and the
 * peers' claims are set by the test; the peer table is the real one, judging claims by stake.
 */
function rig(opts: { network?: boolean; ipPeers?: boolean; setSize?: number; votesNext?: boolean } = {}) {
  const clock = new ManualClock(0);
  const calls: string[] = [];
  const sync = { state: "idle" as SyncState };
  const chain = { tip: { height: 100 }, finalizedHeight: 100, signaturesCheckedHeight: 100 };
  // Two validators: "v1" holds 70 of the weight (over a third on its own), "v2" 30 (under); strangers none.
  const stake: StakeView = {
    weights: new Map([[toHex(addressFromPublicKey(key("v1"))), 70n], [toHex(addressFromPublicKey(key("v2"))), 30n]]),
    total: 100n,
  };
  const peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock, stake: () => stake });
  const listeners = new Set<() => void>();
  const network: ModeNetwork = {
    hasIpPeers: opts.ipPeers ?? true,
    peers,
    onPeerUpdate: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  let role = "follower";
  const run: ModeRun = {
    chain, network: opts.network === false ? null : network, tickMs: TICK_MS, fallBehindBlocks: FALL_BEHIND_BLOCKS,
    services: {
      startSync: () => (calls.push("startSync"), sync),
      stopSync: () => void calls.push("stopSync"),
      startEngine: () => void calls.push("startEngine"),
      stopEngine: () => void calls.push("stopEngine"),
      startProducer: () => void calls.push("startProducer"),
      stopProducer: () => void calls.push("stopProducer"),
      nextSetSize: () => opts.setSize ?? 2,
      votesNext: () => opts.votesNext ?? false,
      joined: () => void (role = "validator"),
    },
  };
  const mode = new ModeMachine({ clock, logger: silentLogger() });
  /** A peer's signed status arrives, as NodeNetwork reports it: the table learns it, then listeners hear. */
  const status = (name: string, node: number, finalizedHeight: number) => {
    peers.heard(node, key(name), { tipHeight: finalizedHeight + 1, finalizedHeight, signedAt: clock.now() });
    for (const l of [...listeners]) l();
  };
  /** Started as a validator, synced, one tick later in consensus. */
  const inConsensus = () => {
    mode.start(run, "consensus");
    sync.state = "synced";
    clock.advance(TICK_MS);
  };
  return { clock, calls, sync, chain, mode, run, status, listeners, inConsensus, role: () => role };
}

describe("the node's mode machine", () => {
  it("syncs, audits, then joins consensus", () => {
    const r = rig();
    r.mode.start(r.run, "consensus");
    expect(r.mode.state).toBe("syncing");
    expect(r.calls).toEqual(["startSync"]);
    r.sync.state = "syncing";
    r.clock.advance(10 * TICK_MS);
    expect(r.mode.state).toBe("syncing");
    // Caught up, but the proposer signatures of synced blocks are not all audited: not yet.
    r.sync.state = "synced";
    r.chain.tip.height = 400;
    r.chain.finalizedHeight = 400;
    r.chain.signaturesCheckedHeight = 32;
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("auditing");
    r.chain.signaturesCheckedHeight = 400;
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("consensus");
    expect(r.calls).toEqual(["startSync", "stopSync", "startEngine"]);
    expect(r.mode.fallbacks).toBe(0);
  });

  it("joins consensus without the audit once it has waited its longest", () => {
    const r = rig();
    r.mode.start(r.run, "consensus");
    r.sync.state = "synced";
    r.chain.signaturesCheckedHeight = 10;
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("auditing");
    r.clock.advance(AUDIT_BEFORE_CONSENSUS_MAX_MS);
    expect(r.mode.state).toBe("consensus");
  });

  it("goes on alone when no peer answers within the grace, and at once without IP peers", () => {
    const r = rig();
    r.mode.start(r.run, "consensus");
    r.clock.advance(SYNC_BEFORE_CONSENSUS_GRACE_MS - TICK_MS);
    expect(r.mode.state).toBe("syncing");
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("consensus");
    const radioOnly = rig({ ipPeers: false });
    radioOnly.mode.start(radioOnly.run, "consensus");
    expect(radioOnly.mode.state).toBe("consensus");
    expect(radioOnly.calls).toEqual(["startEngine"]);
    // Nothing to range-sync from, so nothing watches for falling behind.
    expect(radioOnly.listeners.size).toBe(0);
  });

  it("falls back to range sync when validators with over a third of the weight prove finality far ahead, then rejoins", () => {
    const r = rig();
    r.inConsensus();
    expect(r.mode.state).toBe("consensus");
    r.calls.length = 0;
    // Ahead, but within the allowance: not behind.
    r.status("v1", 1, 100 + FALL_BEHIND_BLOCKS);
    expect(r.mode.state).toBe("consensus");
    r.status("v1", 1, 100 + FALL_BEHIND_BLOCKS + 1);
    expect(r.mode.state).toBe("syncing");
    expect(r.mode.fallbacks).toBe(1);
    expect(r.calls).toEqual(["stopEngine", "startSync"]);
    // While it syncs, further claims change nothing (the watch was dropped with the engine).
    r.status("v1", 1, 500);
    expect(r.mode.fallbacks).toBe(1);
    r.sync.state = "syncing";
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("syncing");
    r.chain.tip.height = 500;
    r.chain.finalizedHeight = 500;
    r.chain.signaturesCheckedHeight = 500;
    r.sync.state = "synced";
    r.clock.advance(TICK_MS);
    expect(r.mode.state).toBe("consensus");
    expect(r.calls).toEqual(["stopEngine", "startSync", "stopSync", "startEngine"]);
    // Watched again: a second outage is a second fallback.
    r.status("v1", 1, 600);
    expect(r.mode.state).toBe("syncing");
    expect(r.mode.fallbacks).toBe(2);
  });

  it("is not moved by claims that less than a third of the weight vouches for", () => {
    const r = rig();
    r.inConsensus();
    // Unstaked peers, however many and however far ahead, carry no weight.
    for (let n = 0; n < 10; n++) r.status(`stranger-${n}`, 100 + n, 1_000_000);
    expect(r.mode.state).toBe("consensus");
    // A validator with 30 of 100 is under a third: its claim alone proves nothing.
    r.status("v2", 2, 1_000_000);
    expect(r.mode.state).toBe("consensus");
    // With v1 at our height, the height over a third vouches for is ours.
    r.status("v1", 1, 100);
    expect(r.mode.state).toBe("consensus");
    expect(r.mode.fallbacks).toBe(0);
    expect(r.calls).toEqual(["startSync", "stopSync", "startEngine"]);
  });

  it("hands a lone producer over to the engine when the voting set grows", () => {
    const lone = rig({ setSize: 1 });
    lone.mode.start(lone.run, "producing");
    expect(lone.mode.state).toBe("producing");
    expect(lone.calls).toEqual(["startSync", "startProducer"]);
    lone.mode.onCommitted();
    expect(lone.mode.state).toBe("producing");

    const r = rig({ setSize: 3 });
    r.mode.start(r.run, "producing");
    r.mode.onCommitted();
    expect(r.mode.state).toBe("joining");
    expect(r.role()).toBe("validator");
    expect(r.calls).toEqual(["startSync", "startProducer", "stopProducer", "stopSync"]);
    // Commits until the handover timer fires change nothing.
    r.mode.onCommitted();
    r.clock.advance(0);
    expect(r.mode.state).toBe("syncing");
  });

  it("starts a waiting validator voting at its epoch, and leaves other followers following", () => {
    const other = rig({ setSize: 3, votesNext: false });
    other.mode.start(other.run, "following");
    other.mode.onCommitted();
    expect(other.mode.state).toBe("following");
    expect(other.role()).toBe("follower");

    const mine = rig({ setSize: 3, votesNext: true, ipPeers: false });
    mine.mode.start(mine.run, "following");
    mine.mode.onCommitted();
    expect(mine.mode.state).toBe("joining");
    mine.clock.advance(0);
    expect(mine.mode.state).toBe("consensus");
    expect(mine.calls).toEqual(["startSync", "stopProducer", "stopSync", "startEngine"]);
  });

  it("halts a lone validator without a broker when the set grows, and stop clears every timer", () => {
    const r = rig({ network: false, setSize: 2 });
    r.mode.start(r.run, "producing");
    expect(r.calls).toEqual(["startProducer"]);
    r.mode.onCommitted();
    expect(r.mode.state).toBe("halted");
    expect(r.calls).toEqual(["startProducer", "stopProducer"]);

    const s = rig();
    s.mode.start(s.run, "consensus");
    s.mode.stop();
    expect(s.mode.state).toBe("stopped");
    expect(s.clock.pendingTimers).toBe(0);
    s.sync.state = "synced";
    s.clock.advance(10 * TICK_MS);
    expect(s.calls).toEqual(["startSync"]);
  });
});
