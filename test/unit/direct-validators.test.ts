import { describe, expect, it } from "vitest";
import { MessageType } from "../../src/mesh/frame.js";
import type { ReceivedMessage } from "../../src/mesh/endpoint.js";
import { DirectValidators } from "../../src/node/direct-validators.js";
import type { PeerInfo } from "../../src/node/peers.js";
import { testIdentity } from "../fixtures/chain.js";

const WINDOW = 900_000;
const [a, b, c] = ["validator-0", "validator-1", "validator-2"].map((n) => testIdentity(n));
const SELF = testIdentity("validator-self");

const peerInfo = (node: number, publicKey: Uint8Array): PeerInfo => ({
  node, publicKey, tipHeight: 0, finalizedHeight: 0, hopsAway: null, snr: null, firstSeen: 0, lastSeen: 0, score: 0, latencyMs: null, bannedUntil: null, lastInvalidReason: null, provenStrikes: 0, lastSignedAt: 0,
});
const frame = (from: number, hopsAway: number | null, viaRadio = true): ReceivedMessage => ({
  type: MessageType.VoteAggregate, payload: new Uint8Array(0), messageId: 1, meta: { from, hopsAway, snr: null, rssi: null, viaRadio },
});

function setup() {
  let now = 0;
  // Nodes 1 and 2 introduced by hellos as validators a and b; node 3 never sent one.
  const peers = new Map([[1, peerInfo(1, a!.ed25519.publicKey)], [2, peerInfo(2, b!.ed25519.publicKey)]]);
  const direct = new DirectValidators({ now: () => now, peer: (n) => peers.get(n), peers: () => peers.values(), self: SELF.address, windowMs: () => WINDOW });
  return { direct, at: (t: number) => (now = t) };
}

/** Who this radio heard at 0 hops lately (issue 20: vote turn frames at hop 0). */
describe("validators heard directly", () => {
  it("counts each validator heard at 0 hops within the window, through its hello's node number", () => {
    const { direct, at } = setup();
    direct.note(frame(1, 0));
    expect(direct.all([a!.address])).toBe(true);
    expect(direct.all([a!.address, b!.address])).toBe(false);
    direct.note(frame(2, 1));
    expect(direct.all([b!.address])).toBe(false);
    direct.note(frame(2, null));
    expect(direct.all([b!.address])).toBe(false);
    direct.note(frame(2, 0, false));
    expect(direct.all([b!.address])).toBe(false);
    at(100_000);
    direct.note(frame(2, 0));
    expect(direct.all([a!.address, b!.address])).toBe(true);
    at(WINDOW + 1);
    expect(direct.all([a!.address, b!.address])).toBe(false);
    expect(direct.all([b!.address])).toBe(true);
  });

  it("binds a node no hello introduced to the proposer of a proposal it sent at 0 hops, and never overrides a hello", () => {
    const { direct } = setup();
    direct.note(frame(3, 0));
    expect(direct.all([c!.address])).toBe(false);
    direct.bindProposer(frame(3, 1), c!.address);
    expect(direct.all([c!.address])).toBe(false);
    direct.bindProposer(frame(3, 0), c!.address);
    expect(direct.all([c!.address])).toBe(true);
    // Node 1's hello bound it to a: a proposal claiming c from it changes nothing.
    direct.bindProposer(frame(1, 0), c!.address);
    direct.note(frame(1, 0));
    expect(direct.all([a!.address])).toBe(true);
  });

  it("keeps the first proposer a node number was bound to: a later block that node sends (an answer) does not move it", () => {
    const { direct } = setup();
    // Node 3 (no hello) proposed as c at 0 hops; later it answers a request with a block a proposed.
    direct.bindProposer(frame(3, 0), c!.address);
    direct.note(frame(3, 0));
    direct.bindProposer(frame(3, 0), a!.address);
    direct.note(frame(3, 0));
    expect(direct.all([c!.address])).toBe(true);
    // a was never heard at all: it must not count as in direct range.
    expect(direct.all([a!.address])).toBe(false);
  });

  it("does not bind an answerer to us or to a proposer a hello introduced (an answer to a block request is a current-slot proposal)", () => {
    const { direct } = setup();
    // Node 3 answers a request with a's block of this slot (a's hello bound a to node 1), then with ours.
    direct.bindProposer(frame(3, 0), a!.address);
    direct.bindProposer(frame(3, 0), SELF.address);
    direct.note(frame(3, 0));
    expect(direct.all([a!.address])).toBe(false);
  });

  it("a proposer bound first under a made-up number still binds under its real one (review, session 28: one forged frame kept a validator unbound)", () => {
    const { direct } = setup();
    direct.bindProposer(frame(99, 0), c!.address);
    direct.bindProposer(frame(4, 0), c!.address);
    direct.note(frame(4, 0));
    expect(direct.all([c!.address])).toBe(true);
  });
});
