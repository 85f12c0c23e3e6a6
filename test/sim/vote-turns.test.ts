import { describe, expect, it } from "vitest";
import { signerBitmap, signerIndices } from "../../src/core/block/certificate.js";
import { bytesEqual } from "../../src/core/bytes.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
// Long enough that a step of the vote window (7.5 s shared by six voters) outlasts the sim's delivery delays.
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };
const options = (seed: number) => ({ validators: 7, seed, params: { slotMs: BigInt(SLOT) }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });

interface SlotHeld { readonly proposer: Uint8Array; readonly held: boolean }

/**
 * Runs slots with a transfer each and, for every slot whose block at least four of the other nodes
 * held as their head near its end, whether node `watched` held it too by then; it stops once the
 * slots counted are `enough` for what the test asserts, or after `maxRounds` (a stalled chain
 * counts too few and fails the test's own bound).
 */
function slotsHeld(sim: ConsensusSim, slots: SlotClock, watched: number, maxRounds: number, enough: (counted: readonly SlotHeld[]) => boolean): SlotHeld[] {
  const out: SlotHeld[] = [];
  for (let i = 0; i < maxRounds && !enough(out); i++) {
    sim.submitTransfer();
    const slot = slots.slotAt(sim.clock.now());
    sim.run(slots.startOf(slot + 1) - 500 - sim.clock.now());
    const block = [...sim.proposals.values()].find((b) => b.header.slot === slot);
    const others = sim.nodes.filter((n) => n.index !== watched && n.engine.head().slot === slot).length;
    if (block !== undefined && others >= 4) out.push({ proposer: block.header.proposer, held: sim.nodes[watched]!.engine.head().slot === slot });
    sim.run(1_000);
  }
  return out;
}

/** Voters take turns, and those whose turn comes after a quorum frame stay silent (issue 20; engine/voting.ts). */
describe("vote turns on a radio channel", () => {
  it("a voter whose turn comes after one frame carried a quorum stays silent; the chain stays live and safe", () => {
    const sim = new ConsensusSim(options(41));
    sim.start();
    // Until finality passes height 10 (about seven virtual minutes); twelve minutes is the bound.
    sim.runWithTrafficUntil(() => sim.minFinalized() > 10, 12 * MINUTE, 20_000);
    const withheld = sim.nodes.reduce((a, n) => a + n.engine.stats.votesWithheld, 0);
    const voted = sim.nodes.reduce((a, n) => a + n.engine.stats.voted, 0);
    const proposed = sim.nodes.reduce((a, n) => a + n.engine.stats.proposed, 0);
    // Six voters a block, and the proposer's signature is a vote: four voters make the quorum of seven,
    // so on a lossless channel the last two of each slot stay silent.
    expect(withheld).toBeGreaterThanOrEqual(proposed);
    expect(sim.sentByKind.get("vote-aggregate") ?? 0).toBeLessThan(voted);
    expect(sim.minFinalized()).toBeGreaterThan(10);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);

  it("a voter that never hears another's aggregate speaks at every turn", () => {
    const sim = new ConsensusSim(options(42));
    const deaf = 1;
    sim.filter = (_from, to, m) => !(to === deaf && m.kind === "vote-aggregate");
    sim.start();
    // Until the deaf node has voted six times and another voter has withheld (eight minutes at most):
    // every vote it made counts against the silence this test rules out.
    sim.runWithTrafficUntil(() => sim.nodes[deaf]!.engine.stats.voted > 5 && sim.nodes.some((n) => n.engine.stats.votesWithheld > 0), 8 * MINUTE, 20_000);
    const node = sim.nodes[deaf]!.engine.stats;
    expect(node.voted).toBeGreaterThan(5);
    expect(node.votesWithheld).toBe(0);
    // Each vote went out, with the proposer's signature it held: one aggregate a vote at least.
    expect(node.aggregatesSent).toBeGreaterThanOrEqual(node.voted);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.votesWithheld, 0)).toBeGreaterThan(0);
    expect(sim.conflictingFinalized).toBe(0);
  }, 180_000);

  it("a node still short of a quorum in the middle of the slot gets it from a withheld voter within the slot", () => {
    const sim = new ConsensusSim(options(43));
    const slots = SlotClock.of(sim.genesis, sim.genesis.params);
    const late = 2;
    // Node 2 hears no aggregate in the first third of any slot: it misses every quorum frame, and its
    // mid-slot copy (its vote with the proposer's) is what tells the others it lacks the notarization.
    sim.filter = (_from, to, m) => !(to === late && m.kind === "vote-aggregate" && sim.clock.now() < slots.startOf(slots.slotAt(sim.clock.now())) + SLOT / 3);
    sim.start();
    // Slots node 2 proposed are left out here (it sends its header vote, not a turn's vote); the next test counts them.
    const others = (r: SlotHeld) => !bytesEqual(r.proposer, sim.nodes[late]!.identity.address);
    const counted = slotsHeld(sim, slots, late, 24, (held) => held.filter(others).length > 8).filter(others);
    const blocks = counted.length;
    const inSlot = counted.filter((r) => r.held).length;
    expect(blocks).toBeGreaterThan(8);
    // Without the answer, node 2 would learn each notarization only from the next slot's header.
    expect(inSlot).toBe(blocks);
    expect(sim.conflictingFinalized).toBe(0);
  }, 180_000);

  it("a node whose held votes are covered, or that proposed, still says it is short mid-slot and is answered", () => {
    const sim = new ConsensusSim(options(44));
    const slots = SlotClock.of(sim.genesis, sim.genesis.params);
    const short = 3;
    // Node 3 loses every frame that carries a quorum (five of seven) in the first third of the slot,
    // but hears the smaller aggregates before it: as an early voter it then holds only votes a heard
    // aggregate covers, and as the proposer it holds no vote of its own to send at a turn.
    sim.filter = (_from, to, m) =>
      !(to === short && m.kind === "vote-aggregate" && signerIndices(m.signers).length >= 5 && sim.clock.now() < slots.startOf(slots.slotAt(sim.clock.now())) + SLOT / 3);
    sim.start();
    const byShort = (r: SlotHeld) => bytesEqual(r.proposer, sim.nodes[short]!.identity.address);
    const counted = slotsHeld(sim, slots, short, 28, (held) => held.length > 10 && held.some(byShort));
    const blocks = counted.length;
    const inSlot = counted.filter((r) => r.held).length;
    const proposedByShort = counted.filter(byShort).length;
    expect(blocks).toBeGreaterThan(10);
    expect(proposedByShort).toBeGreaterThan(0);
    // Before the fix, an early voter covered by a heard aggregate, and the proposer, stayed silent short.
    expect(inSlot).toBe(blocks);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);

  it("an aggregate short of a quorum, or one that does not verify, silences no voter", () => {
    const sim = new ConsensusSim(options(45));
    // Every frame carrying a quorum is lost; each shorter one arrives with a forged twin that names
    // all seven signers over the same signature. No frame verifies with a quorum, so none silences.
    const all = signerBitmap([0, 1, 2, 3, 4, 5, 6]);
    sim.filter = (_from, to, m) => {
      if (m.kind !== "vote-aggregate") return true;
      if (signerIndices(m.signers).length >= 5) return false;
      sim.clock.setTimeout(() => sim.nodes[to]!.engine.receive({ ...m, signers: all }), 1);
      return true;
    };
    sim.start();
    sim.runWithTraffic(6 * MINUTE, 20_000);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.badAggregates, 0)).toBeGreaterThan(0);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.votesWithheld, 0)).toBe(0);
    expect(sim.conflictingFinalized).toBe(0);
  }, 180_000);
});
