import { describe, expect, it } from "vitest";
import { blockHash, type BlockHeader } from "../../src/core/block/header.js";
import { signVote } from "../../src/core/block/vote.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { auditSupply } from "../../src/core/state/audit.js";
import { TxError } from "../../src/core/state/errors.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { applyTx } from "../../src/core/state/transaction.js";
import { registeredValidators, votingSet } from "../../src/core/state/validators.js";
import { formatAddress } from "../../src/core/crypto/address.js";
import { type Evidence, EvidenceType, TxKind } from "../../src/core/tx/types.js";
import { CHAIN_ID, COIN, genesisStore, nextBlock, testChain, tx } from "../fixtures/chain.js";

function setup(params: Record<string, bigint> = {}) {
  const c = testChain({ validators: 2, params: { unbondingPeriod: 20n, jailPeriod: 5n, slashFractionBps: 1_000n, evidenceMaxAgeSlots: 20n, ...params } });
  const chain = genesisStore(c.genesis);
  const [v0, v1] = c.validators as [typeof c.validators[0], typeof c.validators[0]];
  // Give the offender a delegator and some stake in unbonding, then build a few blocks.
  nextBlock(chain, v0, [tx(c.users[0]!, 0, { kind: TxKind.Delegate, validator: v1.address, amount: 1_000n * COIN })]);
  nextBlock(chain, v0, [tx(v1, 0, { kind: TxKind.Unbond, amount: 500n * COIN })]);
  nextBlock(chain, v0, []);
  return { ...c, chain, v0, v1 };
}

function attemptTx(chain: ReturnType<typeof setup>["chain"], signed: ReturnType<typeof tx>): string {
  const l = new Ledger(chain.store);
  try {
    applyTx(l, signed, { chainId: CHAIN_ID, height: chain.parent.height + 1, slot: chain.parent.slot + 1, params: l.params() });
    return "OK";
  } catch (e) {
    if (e instanceof TxError) return e.code;
    throw e;
  }
}

function submit(chain: ReturnType<typeof setup>["chain"], from: ReturnType<typeof setup>["v0"], nonce: number, evidence: Evidence): string {
  const l = new Ledger(chain.store);
  try {
    applyTx(l, tx(from, nonce, { kind: TxKind.Evidence, evidence }, { fee: 20_000n }), { chainId: CHAIN_ID, height: chain.parent.height + 1, slot: chain.parent.slot + 1, params: l.params() });
    return "OK";
  } catch (e) {
    if (e instanceof TxError) return e.code;
    throw e;
  }
}

const doubleVote = (signer: ReturnType<typeof setup>["v1"], slot: number, a = 1, b = 2): Extract<Evidence, { type: EvidenceType.DoubleVote }> => {
  const ha = sha256(Uint8Array.of(a));
  const hb = sha256(Uint8Array.of(b));
  return {
    type: EvidenceType.DoubleVote, validator: signer.address, slot,
    first: { blockHash: ha, signature: signVote(CHAIN_ID, slot, ha, signer.bls) },
    second: { blockHash: hb, signature: signVote(CHAIN_ID, slot, hb, signer.bls) },
  };
};

describe("equivocation evidence", () => {
  it("slashes self-bond, delegations and unbonding stake pro rata, burns it, and jails", () => {
    const { chain, v0, v1 } = setup();
    const before = new Ledger(chain.store);
    const val = before.validator(v1.address)!;
    const supply = before.meta().totalSupply;
    nextBlock(chain, v0, [tx(v0, 0, { kind: TxKind.Evidence, evidence: doubleVote(v1, 2) }, { fee: 20_000n })]);
    const after = new Ledger(chain.store);
    const slashedVal = after.validator(v1.address)!;
    expect(slashedVal.selfBond).toBe(val.selfBond - val.selfBond / 10n);
    expect(slashedVal.delegations[0]!.amount).toBe(900n * COIN);
    expect(slashedVal.jailedUntil).toBe(chain.parent.height + 5);
    expect(slashedVal.lastInfractionSlot).toBe(2);
    const burned = val.selfBond / 10n + 100n * COIN + 50n * COIN;
    expect(after.meta().totalSupply).toBe(supply - burned + 1n * COIN);
    const audit = auditSupply(chain.store);
    expect(audit.held).toBe(audit.totalSupply);
    // Jailed: cannot propose.
    expect(() => nextBlock(chain, v1, [])).toThrow(expect.objectContaining({ code: "PROPOSER_NOT_VALIDATOR" }));
  });

  it("keeps a jailed validator out until it sends unjail after jailedUntil, then seats it at the next epoch start", () => {
    const { chain, v0, v1, users } = setup({ epochLength: 12n, minSelfBond: 8_600n * COIN });
    nextBlock(chain, v0, [tx(v0, 0, { kind: TxKind.Evidence, evidence: doubleVote(v1, 2) }, { fee: 20_000n })]);
    const jailedUntil = new Ledger(chain.store).validator(v1.address)!.jailedUntil;
    const members = () => votingSet(new Ledger(chain.store), chain.parent.height).map((m) => formatAddress(m.address));
    const unjail = (from: typeof v0, nonce: number) => attemptTx(chain, tx(from, nonce, { kind: TxKind.Unjail }, { fee: 20_000n }));
    expect(members()).toEqual([formatAddress(v0.address)]);
    // Jailed validators keep their record in a list of their own, so their delegators still find them.
    expect(new Ledger(chain.store).jailedValidators().map(formatAddress)).toEqual([formatAddress(v1.address)]);
    expect(registeredValidators(new Ledger(chain.store)).map(formatAddress)).toContain(formatAddress(v1.address));
    expect(unjail(v1, 1)).toBe("STILL_JAILED");
    expect(unjail(v0, 1)).toBe("NOT_JAILED");
    expect(unjail(users[1]!, 0)).toBe("NOT_VALIDATOR");
    while (chain.parent.height + 1 < jailedUntil) nextBlock(chain, v0, []);
    // The jail period is over, and nothing changed by itself: still out.
    nextBlock(chain, v0, []);
    expect(members()).toEqual([formatAddress(v0.address)]);
    // Slashed from 9,500 to 8,550 MESH, below this chain's 8,600 minimum: it must bond the difference first.
    expect(unjail(v1, 1)).toBe("BOND_TOO_SMALL");
    nextBlock(chain, v0, [tx(v1, 1, { kind: TxKind.Bond, amount: 50n * COIN }, { fee: 20_000n })]);
    nextBlock(chain, v0, [tx(v1, 2, { kind: TxKind.Unjail }, { fee: 20_000n })]);
    const after = new Ledger(chain.store);
    expect(after.validator(v1.address)!.jailedUntil).toBe(0);
    expect(after.pendingValidators().map(formatAddress)).toEqual([formatAddress(v1.address)]);
    expect(after.jailedValidators()).toEqual([]);
    expect(members()).toEqual([formatAddress(v0.address)]);
    while ((chain.parent.height + 1) % 12 !== 0) nextBlock(chain, v0, []);
    nextBlock(chain, v0, []);
    expect(members().sort()).toEqual([formatAddress(v0.address), formatAddress(v1.address)].sort());
    expect(unjail(v1, 3)).toBe("NOT_JAILED");
  });

  it("accepts conflicting signed proposals for one slot", () => {
    const { chain, v0, v1 } = setup();
    const base: BlockHeader = {
      version: 1, height: 2, slot: 2, timestamp: 1, parentHash: new Uint8Array(32), txRoot: new Uint8Array(32), stateRoot: new Uint8Array(32),
      proposer: v1.address, randaoReveal: new Uint8Array(48), certificate: null, signature: new Uint8Array(48),
    };
    const sign = (h: BlockHeader): BlockHeader => ({ ...h, signature: signVote(CHAIN_ID, h.slot, blockHash(h), v1.bls) });
    const first = sign(base);
    const second = sign({ ...base, txRoot: sha256(Uint8Array.of(1)) });
    expect(submit(chain, v0, 0, { type: EvidenceType.DoubleProposal, first, second })).toBe("OK");
    expect(submit(chain, v0, 0, { type: EvidenceType.DoubleProposal, first, second: sign({ ...second, slot: 3 }) })).toBe("EVIDENCE_INVALID");
    expect(submit(chain, v0, 0, { type: EvidenceType.DoubleProposal, first, second: first })).toBe("EVIDENCE_INVALID");
    expect(submit(chain, v0, 0, { type: EvidenceType.DoubleProposal, first, second: { ...second, signature: first.signature } })).toBe("EVIDENCE_INVALID");
  });

  it("rejects non-conflicts, forged signatures, duplicates and stale evidence", () => {
    const { chain, v0, v1 } = setup();
    expect(submit(chain, v0, 0, doubleVote(v1, 2, 1, 1))).toBe("EVIDENCE_INVALID");
    const forged = doubleVote(v0, 2);
    expect(submit(chain, v0, 0, { ...forged, validator: v1.address })).toBe("EVIDENCE_INVALID");
    expect(submit(chain, v0, 0, doubleVote(v1, 99))).toBe("EVIDENCE_INVALID");
    nextBlock(chain, v0, [tx(v0, 0, { kind: TxKind.Evidence, evidence: doubleVote(v1, 2) }, { fee: 20_000n })]);
    expect(submit(chain, v0, 1, doubleVote(v1, 2, 3, 4))).toBe("EVIDENCE_DUPLICATE");
    for (let i = 0; i < 21; i++) nextBlock(chain, v0, []);
    expect(submit(chain, v0, 1, doubleVote(v1, 3))).toBe("EVIDENCE_TOO_OLD");
  });
});
