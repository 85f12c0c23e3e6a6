import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { encodeTx, decodeTxWithBytes } from "../../src/core/tx/codec.js";
import { blsProvePossession } from "../../src/core/crypto/bls.js";
import { auditSupply } from "../../src/core/state/audit.js";
import { BlockError, TxError } from "../../src/core/state/errors.js";
import { scheduledParamChanges } from "../../src/core/state/param-changes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { applyTx } from "../../src/core/state/transaction.js";
import { defaultParams } from "../../src/core/state/params.js";
import { signTx } from "../../src/core/tx/sign.js";
import { TxKind, VoteChoice } from "../../src/core/tx/types.js";
import { CHAIN_ID, COIN, genesisStore, nextBlock, testChain, testIdentity, transfer, tx } from "../fixtures/chain.js";

function setup(opts: Parameters<typeof testChain>[0] = {}) {
  const c = testChain(opts);
  return { ...c, chain: genesisStore(c.genesis) };
}

/** Apply one transaction at the next height without committing; returns the error code or "OK". */
function attempt(chain: ReturnType<typeof genesisStore>, t: ReturnType<typeof transfer>): string {
  const l = new Ledger(chain.store);
  try {
    applyTx(l, t, { chainId: CHAIN_ID, height: chain.parent.height + 1, slot: chain.parent.slot + 1, params: l.params() });
    return "OK";
  } catch (e) {
    if (e instanceof TxError) return e.code;
    throw e;
  }
}

describe("transfers", () => {
  it("move value, charge the fee, and pay fee plus reward to the proposer", () => {
    const { chain, users, validators } = setup();
    const [alice, bob] = users as [typeof users[0], typeof users[0]];
    const before = new Ledger(chain.store);
    const aliceBefore = before.account(alice.address).balance;
    const valBefore = before.account(validators[0]!.address).balance;
    nextBlock(chain, validators[0]!, [transfer(alice, 0, bob.address, 7n * COIN, { fee: 5_000n })]);
    const after = new Ledger(chain.store);
    expect(after.account(alice.address)).toMatchObject({ balance: aliceBefore - 7n * COIN - 5_000n, nonce: 1 });
    expect(after.account(bob.address).balance).toBe(1_000_007n * COIN);
    expect(after.account(validators[0]!.address).balance).toBe(valBefore + 5_000n + defaultParams().blockReward);
  });

  it("create the recipient's account, which must reveal its key before spending", () => {
    const { chain, users, validators } = setup();
    const fresh = testIdentity("fresh");
    nextBlock(chain, validators[0]!, [transfer(users[0]!, 0, fresh.address, 10n * COIN)]);
    expect(attempt(chain, transfer(fresh, 0, users[1]!.address, COIN))).toBe("PUBLIC_KEY_UNKNOWN");
    expect(attempt(chain, transfer(fresh, 0, users[1]!.address, COIN, { revealKey: true }))).toBe("OK");
    nextBlock(chain, validators[0]!, [transfer(fresh, 0, users[1]!.address, COIN, { revealKey: true })]);
    expect(toHex(new Ledger(chain.store).account(fresh.address).publicKey!)).toBe(toHex(fresh.ed25519.publicKey));
    expect(attempt(chain, transfer(fresh, 1, users[1]!.address, COIN, { revealKey: true }))).toBe("PUBLIC_KEY_ALREADY_KNOWN");
  });

  it("reject each invalid case with its own code", () => {
    const { chain, users } = setup();
    const [alice, bob] = users as [typeof users[0], typeof users[0]];
    expect(attempt(chain, transfer(alice, 1, bob.address, 1n))).toBe("NONCE_TOO_HIGH");
    expect(attempt(chain, transfer(alice, 0, bob.address, 1n, { fee: 1n }))).toBe("FEE_TOO_LOW");
    expect(attempt(chain, transfer(alice, 0, bob.address, 2_000_000n * COIN))).toBe("INSUFFICIENT_BALANCE");
    expect(attempt(chain, transfer(alice, 0, bob.address, 1n, { expiresAt: 0 }))).toBe("TX_EXPIRED");
    expect(attempt(chain, transfer(alice, 0, bob.address, 1n, { expiresAt: 1 }))).toBe("OK");
    const otherChain = signTx({ ...transfer(alice, 0, bob.address, 1n).tx }, "other-chain", alice.ed25519);
    expect(attempt(chain, otherChain)).toBe("BAD_SIGNATURE");
    const mallory = testIdentity("mallory");
    const wrongKey = decodeTxWithBytes(encodeTx({ ...transfer(mallory, 0, bob.address, 1n, { revealKey: true }).tx, sender: alice.address }));
    expect(attempt(chain, wrongKey)).toBe("ADDRESS_MISMATCH");
    const broke = testIdentity("broke");
    expect(attempt(chain, transfer(broke, 0, bob.address, 1n, { revealKey: true }))).toBe("INSUFFICIENT_BALANCE");
  });

  it("cannot be replayed", () => {
    const { chain, users, validators } = setup();
    const t = transfer(users[0]!, 0, users[1]!.address, COIN);
    nextBlock(chain, validators[0]!, [t]);
    expect(attempt(chain, t)).toBe("NONCE_TOO_LOW");
  });

  it("report an address collision when a different key claims a bound address", async () => {
    // Forge the collision in state: the address is bound to one key, another key hashing to it is
    // not findable, so bind the address to a different key directly.
    const { chain, users } = setup();
    const alice = users[0]!;
    const l = new Ledger(chain.store);
    l.putAccount(alice.address, { ...l.account(alice.address), publicKey: testIdentity("other").ed25519.publicKey });
    chain.store.commit(l.view.changes());
    expect(attempt(chain, transfer(alice, 0, users[1]!.address, 1n, { revealKey: true }))).toBe("ADDRESS_COLLISION");
  });
});

describe("messages", () => {
  it("cost only the fee and land in the block", () => {
    const { chain, users, validators } = setup();
    const m = tx(users[0]!, 0, { kind: TxKind.Message, to: users[1]!.address, priority: 1, payload: new TextEncoder().encode("water at the north well") });
    const produced = nextBlock(chain, validators[0]!, [m]);
    expect(produced.block.txs).toHaveLength(1);
    expect(new Ledger(chain.store).account(users[1]!.address).balance).toBe(1_000_000n * COIN);
  });
});

describe("staking", () => {
  it("registers a validator with a proof of possession, and rejects bad registrations", () => {
    const { chain, users, validators } = setup();
    const u = users[0]!;
    const pop = blsProvePossession(CHAIN_ID, u.bls);
    const reg = (nonce: number, over: Partial<{ selfBond: bigint; pop: Uint8Array; bls: Uint8Array }> = {}) =>
      tx(u, nonce, { kind: TxKind.ValidatorRegister, commissionBps: 500, selfBond: over.selfBond ?? 2_000n * COIN, blsPublicKey: over.bls ?? u.bls.publicKey, proofOfPossession: over.pop ?? pop }, { fee: 10_000n });
    expect(attempt(chain, reg(0, { selfBond: COIN }))).toBe("BOND_TOO_SMALL");
    expect(attempt(chain, reg(0, { pop: blsProvePossession(CHAIN_ID, users[1]!.bls) }))).toBe("BAD_PROOF_OF_POSSESSION");
    expect(attempt(chain, reg(0, { bls: validators[0]!.bls.publicKey, pop: blsProvePossession(CHAIN_ID, validators[0]!.bls) }))).toBe("BLS_KEY_IN_USE");
    nextBlock(chain, validators[0]!, [reg(0)]);
    const l = new Ledger(chain.store);
    expect(l.validator(u.address)?.selfBond).toBe(2_000n * COIN);
    expect(l.validatorSet().map(toHex)).not.toContain(toHex(u.address));
    // Queued: it joins the voting set at the next epoch start (test/unit/validator-epochs.test.ts).
    expect(l.pendingValidators().map(toHex)).toEqual([toHex(u.address)]);
    expect(attempt(chain, reg(1))).toBe("ALREADY_VALIDATOR");
  });

  it("enforces the validator-set cap", () => {
    const { chain, users } = setup({ params: { maxValidators: 1n } });
    const u = users[0]!;
    const t = tx(u, 0, { kind: TxKind.ValidatorRegister, commissionBps: 0, selfBond: 2_000n * COIN, blsPublicKey: u.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, u.bls) }, { fee: 10_000n });
    expect(attempt(chain, t)).toBe("VALIDATOR_SET_FULL");
  });

  it("delegates, pays delegators pro rata after commission, and releases stake after unbonding", () => {
    const { chain, users, validators } = setup({ params: { unbondingPeriod: 10n } });
    const v = validators[0]!;
    const d = users[0]!;
    expect(attempt(chain, tx(v, 0, { kind: TxKind.Delegate, validator: v.address, amount: COIN }))).toBe("SELF_DELEGATION");
    expect(attempt(chain, tx(d, 0, { kind: TxKind.Delegate, validator: users[1]!.address, amount: COIN }))).toBe("UNKNOWN_VALIDATOR");
    nextBlock(chain, v, [tx(d, 0, { kind: TxKind.Delegate, validator: v.address, amount: 10_000n * COIN })]);
    // Stake is now 10,000 self + 10,000 delegated; commission 10%.
    const before = new Ledger(chain.store).account(d.address).balance;
    nextBlock(chain, v, []);
    const reward = defaultParams().blockReward;
    expect(new Ledger(chain.store).account(d.address).balance - before).toBe((reward - reward / 10n) / 2n);

    expect(attempt(chain, tx(d, 1, { kind: TxKind.Undelegate, validator: v.address, amount: 20_000n * COIN }))).toBe("INSUFFICIENT_DELEGATION");
    nextBlock(chain, v, [tx(d, 1, { kind: TxKind.Undelegate, validator: v.address, amount: 10_000n * COIN })]);
    const releaseAt = chain.parent.height + 10;
    const held = new Ledger(chain.store).account(d.address).balance;
    while (chain.parent.height < releaseAt - 1) nextBlock(chain, v, []);
    expect(new Ledger(chain.store).account(d.address).balance).toBe(held);
    nextBlock(chain, v, []);
    expect(new Ledger(chain.store).account(d.address).balance).toBe(held + 10_000n * COIN);
  });

  it("bonds and unbonds self-stake within the minimum", () => {
    const { chain, validators } = setup();
    const v = validators[0]!;
    expect(attempt(chain, tx(v, 0, { kind: TxKind.Unbond, amount: 10_000n * COIN }))).toBe("BOND_TOO_SMALL");
    expect(attempt(chain, tx(v, 0, { kind: TxKind.Unbond, amount: 20_000n * COIN }))).toBe("INSUFFICIENT_BOND");
    nextBlock(chain, v, [tx(v, 0, { kind: TxKind.Bond, amount: 500n * COIN }), tx(v, 1, { kind: TxKind.Unbond, amount: 1_000n * COIN })]);
    expect(new Ledger(chain.store).validator(v.address)?.selfBond).toBe(9_500n * COIN);
    const outsider = testIdentity("user-1");
    expect(attempt(chain, tx(outsider, 0, { kind: TxKind.Bond, amount: COIN }))).toBe("NOT_VALIDATOR");
  });

  it("lets a validator leave; its record stays until the stake is released", () => {
    const { chain, validators } = setup({ validators: 2, params: { unbondingPeriod: 10n } });
    const [v0, v1] = validators as [typeof validators[0], typeof validators[0]];
    nextBlock(chain, v0, [tx(v1, 0, { kind: TxKind.ValidatorLeave })]);
    const l = new Ledger(chain.store);
    expect(l.validatorSet().map(toHex)).toEqual([toHex(v0.address)]);
    expect(l.validator(v1.address)?.leavingAt).toBe(chain.parent.height + 10);
    expect(attempt(chain, tx(v1, 1, { kind: TxKind.Bond, amount: COIN }))).toBe("VALIDATOR_INACTIVE");
    const balance = l.account(v1.address).balance;
    for (let i = 0; i < 10; i++) nextBlock(chain, v0, []);
    const after = new Ledger(chain.store);
    expect(after.validator(v1.address)).toBeNull();
    expect(after.account(v1.address).balance).toBe(balance + 10_000n * COIN);
    expect(after.blsKeyOwner(v1.bls.publicKey)).toBeNull();
  });
});

describe("blocks", () => {
  it("reject an invalid transaction, a bad state root and a wrong parent, changing nothing", async () => {
    const { applyBlock } = await import("../../src/core/state/block-transition.js");
    const { chain, users, validators } = setup();
    const root = toHex(chain.store.root);
    const good = nextBlock(chain, validators[0]!, []);
    // nextBlock committed; a fresh chain tests rejection on the same parent.
    const fresh = setup();
    expect(toHex(fresh.chain.store.root)).toBe(root);
    expect(() => applyBlock(fresh.chain.store, good.block, { ...fresh.chain.parent, height: 5 }, { chainId: CHAIN_ID })).toThrow(expect.objectContaining({ code: "HEIGHT_MISMATCH" }));
    expect(() => applyBlock(fresh.chain.store, good.block, { ...fresh.chain.parent, hash: new Uint8Array(32) }, { chainId: CHAIN_ID })).toThrow(expect.objectContaining({ code: "PARENT_MISMATCH" }));
    const badRoot = { ...good.block, header: { ...good.block.header, stateRoot: new Uint8Array(32) } };
    expect(() => applyBlock(fresh.chain.store, badRoot, fresh.chain.parent, { chainId: CHAIN_ID })).toThrow(expect.objectContaining({ code: "STATE_ROOT_MISMATCH" }));
    const withBadTx = { ...good.block, txs: [transfer(users[0]!, 5, users[1]!.address, 1n)] };
    expect(() => applyBlock(fresh.chain.store, withBadTx, fresh.chain.parent, { chainId: CHAIN_ID })).toThrow(expect.objectContaining({ code: "TX_ROOT_MISMATCH" }));
    const { txRootOf } = await import("../../src/core/block/block.js");
    const consistent = { ...withBadTx, header: { ...withBadTx.header, txRoot: txRootOf(withBadTx.txs) } };
    try {
      applyBlock(fresh.chain.store, consistent, fresh.chain.parent, { chainId: CHAIN_ID });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BlockError);
      expect((e as BlockError).code).toBe("INVALID_TX");
      expect((e as BlockError).txError?.code).toBe("NONCE_TOO_HIGH");
    }
    expect(toHex(fresh.chain.store.root)).toBe(root);
    expect(applyBlock(fresh.chain.store, good.block, fresh.chain.parent, { chainId: CHAIN_ID }).stateRoot).toEqual(good.block.header.stateRoot);
  });

  it("touch state in proportion to what they change, not to the size of the state", () => {
    const small = setup({ users: 2 });
    const large = setup({ users: 300 });
    const a = nextBlock(small.chain, small.validators[0]!, [transfer(small.users[0]!, 0, small.users[1]!.address, 1n)]);
    const b = nextBlock(large.chain, large.validators[0]!, [transfer(large.users[0]!, 0, large.users[1]!.address, 1n)]);
    expect(a.applied.changes.length).toBe(b.applied.changes.length);
    expect(large.chain.store.size).toBeGreaterThan(small.chain.store.size + 290);
  });
});

describe("governance", () => {
  it("passes a change once more than two thirds of stake approve, and enacts it at the next epoch's first block", () => {
    const { chain, validators } = setup({ validators: 3, params: { governanceVotingPeriod: 30n, epochLength: 5n } });
    const [v0, v1, v2] = validators as [typeof validators[0], typeof validators[0], typeof validators[0]];
    nextBlock(chain, v0, [tx(v0, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 25 })]);
    // The proposal's own window, not the chain's 30: it closes at its height plus 25.
    expect(new Ledger(chain.store).activeProposals()).toEqual([{ id: 1, endHeight: 1 + 25 }]);
    expect(attempt(chain, tx(v0, 1, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes }))).toBe("ALREADY_VOTED");
    expect(attempt(chain, tx(v1, 0, { kind: TxKind.GovVote, proposalId: 9, choice: VoteChoice.Yes }))).toBe("UNKNOWN_PROPOSAL");
    expect(attempt(chain, tx(v1, 0, { kind: TxKind.GovProposal, paramId: 200, value: 1n, votingWindow: 30 }))).toBe("UNKNOWN_PARAM");
    expect(attempt(chain, tx(v1, 0, { kind: TxKind.GovProposal, paramId: 5, value: 9999n, votingWindow: 30 }))).toBe("PARAM_OUT_OF_RANGE");
    expect(attempt(chain, tx(v1, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 4 }))).toBe("VOTING_WINDOW_OUT_OF_RANGE");
    expect(attempt(chain, tx(v1, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 31 }))).toBe("VOTING_WINDOW_OUT_OF_RANGE");
    expect(attempt(chain, tx(testIdentity("user-0"), 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes }))).toBe("NOT_VALIDATOR");
    // Two of three equal stakes is exactly two thirds: not more, so still open.
    nextBlock(chain, v0, [tx(v1, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes })]);
    expect(new Ledger(chain.store).proposal(1)).not.toBeNull();
    // The third "yes" at height 3 passes it at once; epoch 1 starts at height 5.
    nextBlock(chain, v0, [tx(v2, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes })]);
    expect(new Ledger(chain.store).proposal(1)).toBeNull();
    expect(scheduledParamChanges(new Ledger(chain.store))).toEqual([{ proposalId: 1, paramId: 1, value: 20n, effectiveHeight: 5 }]);
    expect(new Ledger(chain.store).params().minFeePerByte).toBe(10n);
    // Enacted at the end of height 4, so block 5 is the first built under it.
    nextBlock(chain, v0, []);
    expect(new Ledger(chain.store).params().minFeePerByte).toBe(20n);
    expect(scheduledParamChanges(new Ledger(chain.store))).toEqual([]);
  });

  it("enacts a change that passes on an epoch's last block at the very next block", () => {
    const { chain, validators } = setup({ params: { epochLength: 2n } });
    const v = validators[0]!;
    // Height 1 is the last of epoch 0: the lone validator's proposal passes there, effective at 2.
    nextBlock(chain, v, [tx(v, 0, { kind: TxKind.GovProposal, paramId: 2, value: 5n, votingWindow: 500 })]);
    expect(new Ledger(chain.store).params().blockReward).toBe(5n);
  });

  it("rejects a change that only two thirds approve", () => {
    const { chain, validators } = setup({ validators: 3, params: { governanceVotingPeriod: 2n } });
    const [v0, v1, v2] = validators as [typeof validators[0], typeof validators[0], typeof validators[0]];
    nextBlock(chain, v0, [tx(v0, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 2 })]);
    nextBlock(chain, v0, [tx(v1, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes }), tx(v2, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.No })]);
    nextBlock(chain, v0, []);
    expect(new Ledger(chain.store).params().minFeePerByte).toBe(10n);
    expect(new Ledger(chain.store).activeProposals()).toEqual([]);
  });

  it("caps open proposals", () => {
    const { chain, validators } = setup({ validators: 3, params: { maxActiveProposals: 1n } });
    const v = validators[0]!;
    nextBlock(chain, v, [tx(v, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 500 })]);
    expect(attempt(chain, tx(v, 1, { kind: TxKind.GovProposal, paramId: 2, value: 1n, votingWindow: 500 }))).toBe("TOO_MANY_PROPOSALS");
  });
});

describe("supply", () => {
  it("is conserved under random sequences of transactions (property)", () => {
    const ops = fc.array(fc.record({ from: fc.nat(3), to: fc.nat(4), kind: fc.nat(4), amount: fc.bigInt({ min: 1n, max: 3_000n * COIN }) }), { minLength: 1, maxLength: 25 });
    // The genesis is the same every run (fixed keys): built once, its proofs of possession made and
    // checked once; each run starts from a fresh store of it.
    const { genesis, users, validators } = testChain({ params: { unbondingPeriod: 10n } });
    fc.assert(fc.property(ops, fc.integer({ min: 1, max: 5 }), (list, perBlock) => {
      const chain = genesisStore(genesis);
      const v = validators[0]!;
      const nonces = new Map<number, number>();
      const pending: ReturnType<typeof transfer>[] = [];
      let expectedMint = 0n;
      for (const op of list) {
        const from = users[op.from]!;
        const nonce = nonces.get(op.from) ?? 0;
        const body =
          op.kind === 0 ? { kind: TxKind.Delegate as const, validator: v.address, amount: op.amount }
          : op.kind === 1 ? { kind: TxKind.Undelegate as const, validator: v.address, amount: op.amount }
          : { kind: TxKind.Transfer as const, to: (op.to < 4 ? users[op.to]! : testIdentity("sink")).address, amount: op.amount };
        const t = tx(from, nonce, body);
        const l = new Ledger(chain.store);
        try {
          applyTx(l, t, { chainId: CHAIN_ID, height: chain.parent.height + 1, slot: chain.parent.slot + 1, params: l.params() });
        } catch {
          continue;
        }
        nonces.set(op.from, nonce + 1);
        pending.push(t);
        if (pending.length >= perBlock) {
          nextBlock(chain, v, pending.splice(0));
          expectedMint += defaultParams().blockReward;
        }
      }
      nextBlock(chain, v, pending.splice(0));
      for (let i = 0; i < 11; i++) nextBlock(chain, v, []);
      expectedMint += 12n * defaultParams().blockReward;
      const audit = auditSupply(chain.store);
      expect(audit.held).toBe(audit.totalSupply);
      const genesisSupply = 4n * 1_000_000n * COIN + 110_000n * COIN;
      expect(audit.totalSupply).toBe(genesisSupply + expectedMint);
    }), { numRuns: 25 });
  });
});
