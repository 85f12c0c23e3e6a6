import { toHex } from "../core/bytes.js";
import { addressFromPublicKey } from "../core/crypto/address.js";
import type { ReceivedMessage } from "../mesh/endpoint.js";
import type { PeerInfo } from "./peers.js";

/** Node numbers remembered as heard directly; beyond this the oldest is forgotten (a peer table's worth). */
const DIRECT_NODES_KEPT = 512;

/**
 * Which nodes this radio heard directly (0 hops) lately, for choosing how far our vote turn frames
 * travel (consensus/engine/voting.ts, `turnReach`). A validator counts as heard directly when a frame
 * from a node number its signed hello introduced arrived at 0 hops within `windowMs`; each validator
 * is judged on its own, and one never heard so keeps our frames mesh-wide. Hellos go in rounds and one
 * lost at every radio (a collision at start) left a validator unbound for hours (devnet seed 2: six
 * of seven validators kept every turn frame mesh-wide), so a proposal heard at 0 hops also binds its
 * sender's node number to its proposer, when no hello did and the proposer is no one else's: the
 * validator answering a block request sends the block's compact proposal, of the current slot when
 * the block is (catch-up.ts onGetBlock), and such an answer heard first bound the answerer's node number
 * to another validator for good (devnet seed 1, session 28: node 4 bound node 0's number to node 4's
 * own address, from node 0's answer with node 4's block, and node 1's to a third validator; it lacked
 * both keys and kept its votes mesh-wide for two hours). Nothing here is trusted
 * beyond that choice: a frame's sender and hop count are unsigned, and a lie only stops our frames
 * one relay short of the liar's neighbours, which still get the quorum frame mesh-wide.
 */
export class DirectValidators {
  /** When each node number was last heard at 0 hops, oldest first. */
  private readonly heardAt = new Map<number, number>();
  /** Node numbers bound to a validator (address, hex) by a proposal they sent at 0 hops, oldest first. */
  private readonly proposers = new Map<number, string>();

  constructor(
    private readonly deps: {
      readonly now: () => number; readonly peer: (node: number) => PeerInfo | undefined; readonly windowMs: () => number;
      /** Every peer a hello introduced (their addresses are bound to their node numbers already). */
      readonly peers: () => Iterable<PeerInfo>;
      /** Our own address: a block of ours another radio sends is always an answer. */
      readonly self: Uint8Array;
    },
  ) {}

  /** A message arrived: note its sender when it came on air straight from that sender's radio. */
  note(m: ReceivedMessage): void {
    if (!m.meta.viaRadio || m.meta.hopsAway !== 0) return;
    this.heardAt.delete(m.meta.from);
    this.heardAt.set(m.meta.from, this.deps.now());
    if (this.heardAt.size > DIRECT_NODES_KEPT) this.heardAt.delete(this.heardAt.keys().next().value as number);
  }

  /**
   * A proposal of the current slot by `proposer` came at 0 hops from `node`: bind them, unless a hello
   * or an earlier proposal already bound that node (the first binding stands: an answer or a replay from
   * another radio must not move it; a wrong one only keeps our frames mesh-wide once it goes quiet), or
   * the proposer is us or a peer a hello introduced (then `node` answered for it, or lied). A proposer
   * may be bound under several numbers: refusing a second binding let one forged frame under a made-up
   * number keep a validator's real radio unbound (review, session 28).
   */
  bindProposer(m: ReceivedMessage, proposer: Uint8Array): void {
    if (!m.meta.viaRadio || m.meta.hopsAway !== 0 || this.deps.peer(m.meta.from) !== undefined || this.proposers.has(m.meta.from)) return;
    const address = toHex(proposer);
    if (address === toHex(this.deps.self)) return;
    for (const p of this.deps.peers()) if (toHex(addressFromPublicKey(p.publicKey)) === address) return;
    this.proposers.set(m.meta.from, address);
    if (this.proposers.size > DIRECT_NODES_KEPT) this.proposers.delete(this.proposers.keys().next().value as number);
  }

  /** Whether every one of these validators was heard directly within the window, through a node number its hello bound. */
  all(validators: readonly Uint8Array[]): boolean {
    const since = this.deps.now() - this.deps.windowMs();
    const direct = new Set<string>();
    for (const [node, at] of this.heardAt) {
      if (at < since) continue;
      const peer = this.deps.peer(node);
      const address = peer === undefined ? this.proposers.get(node) : toHex(addressFromPublicKey(peer.publicKey));
      if (address !== undefined) direct.add(address);
    }
    return validators.every((v) => direct.has(toHex(v)));
  }
}
