import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { blsProvePossession } from "../../src/core/crypto/bls.js";
import { type Identity } from "../../src/core/crypto/identity.js";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { BLS_SIGNATURE_LENGTH } from "../../src/core/crypto/bls.js";
import { GenesisError, genesisChanges, parseGenesis } from "../../src/core/genesis.js";
import { BlockError, TxError } from "../../src/core/state/errors.js";
import { federationProposal, openFederationProposals } from "../../src/core/state/federation.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { StateStore } from "../../src/core/state/store.js";
import { applyTx } from "../../src/core/state/transaction.js";
import { nextVotingSetSize, votesAfter, votingSet } from "../../src/core/state/validators.js";
import { decodeTx, encodeTx } from "../../src/core/tx/codec.js";
import { FederationAction, TxKind, VoteChoice } from "../../src/core/tx/types.js";
import { POA_MEMBER_WEIGHT, votingWeights } from "../../src/consensus/weights.js";
import { CHAIN_ID, COIN, GENESIS_TIME, genesisStore, nextBlock, testChain, testIdentity, tx } from "../fixtures/chain.js";

type Chain = ReturnType<typeof genesisStore>;

function attempt(chain: Chain, t: ReturnType<typeof tx>): string {
  const l = new Ledger(chain.store);
  try {
    applyTx(l, t, { chainId: CHAIN_ID, height: chain.parent.height + 1, slot: chain.parent.slot + 1, params: l.params() });
    return "OK";
  } catch (e) {
    if (e instanceof TxError) return e.code;
    throw e;
  }
}

const register = (who: Identity, nonce: number, selfBond: bigint) =>
  tx(who, nonce, { kind: TxKind.ValidatorRegister, commissionBps: 500, selfBond, blsPublicKey: who.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, who.bls) }, { fee: 10_000n });
const members = (chain: Chain): string[] => votingSet(new Ledger(chain.store), chain.parent.height).map((m) => toHex(m.address));
const hex = (who: Identity): string => toHex(who.address);

/** Empty blocks by `proposer` until the tip is at `height`. */
function advanceTo(chain: Chain, proposer: Identity, height: number): void {
  while (chain.parent.height < height) nextBlock(chain, proposer, []);
}

describe("dpop: a registered validator joins the voting set at the next epoch start", () => {
  const EPOCH = 5;

  it("waits in the queue, cannot propose meanwhile, and votes from the epoch's first block", () => {
    const { genesis, validators, users } = testChain({ params: { epochLength: BigInt(EPOCH) } });
    const chain = genesisStore(genesis);
    const [v0] = validators as [Identity];
    const newcomer = users[0]!;
    nextBlock(chain, v0, [register(newcomer, 0, 2_000n * COIN)]); // height 1
    expect(members(chain)).toEqual([hex(v0)]);
    expect(new Ledger(chain.store).pendingValidators().map(toHex)).toEqual([hex(newcomer)]);
    // Registered but not seated: a block it proposes is refused.
    expect(() => nextBlock(chain, newcomer, [])).toThrow(BlockError);
    try {
      nextBlock(chain, newcomer, []);
    } catch (e) {
      expect((e as BlockError).code).toBe("PROPOSER_NOT_VALIDATOR");
    }
    advanceTo(chain, v0, EPOCH - 2);
    expect(nextVotingSetSize(new Ledger(chain.store), chain.parent.height)).toBe(1);
    expect(votesAfter(new Ledger(chain.store), chain.parent.height, newcomer.address)).toBe(false);
    advanceTo(chain, v0, EPOCH - 1);
    // One block ahead, every node can tell the next block has two voters, and that the newcomer is one.
    expect(nextVotingSetSize(new Ledger(chain.store), chain.parent.height)).toBe(2);
    expect(votesAfter(new Ledger(chain.store), chain.parent.height, newcomer.address)).toBe(true);
    expect(members(chain)).toEqual([hex(v0)]);
    nextBlock(chain, v0, []); // height EPOCH: the epoch's first block
    expect(members(chain).sort()).toEqual([hex(v0), hex(newcomer)].sort());
    expect(new Ledger(chain.store).pendingValidators()).toEqual([]);
    // Now seated, it proposes.
    nextBlock(chain, newcomer, []);
    expect(chain.parent.height).toBe(EPOCH + 1);
  });

  it("a registration in an epoch's first block waits for the epoch after", () => {
    const { genesis, validators, users } = testChain({ params: { epochLength: BigInt(EPOCH) } });
    const chain = genesisStore(genesis);
    const v0 = validators[0]!;
    advanceTo(chain, v0, EPOCH - 1);
    nextBlock(chain, v0, [register(users[0]!, 0, 2_000n * COIN)]); // height EPOCH
    expect(members(chain)).toEqual([hex(v0)]);
    advanceTo(chain, v0, 2 * EPOCH - 1);
    expect(members(chain)).toEqual([hex(v0)]);
    nextBlock(chain, v0, []);
    expect(members(chain)).toContain(hex(users[0]!));
  });

  it("counts waiting validators against maxValidators, and one that leaves before its epoch never joins", () => {
    const { genesis, validators, users } = testChain({ params: { epochLength: BigInt(EPOCH), maxValidators: 2n, unbondingPeriod: 10n } });
    const chain = genesisStore(genesis);
    const v0 = validators[0]!;
    nextBlock(chain, v0, [register(users[0]!, 0, 2_000n * COIN)]);
    expect(attempt(chain, register(users[1]!, 0, 2_000n * COIN))).toBe("VALIDATOR_SET_FULL");
    nextBlock(chain, v0, [tx(users[0]!, 1, { kind: TxKind.ValidatorLeave })]);
    expect(new Ledger(chain.store).pendingValidators()).toEqual([]);
    advanceTo(chain, v0, EPOCH);
    expect(members(chain)).toEqual([hex(v0)]);
  });
});

describe("consensus mode in genesis", () => {
  const plan = (consensus: "dpop" | "poa" | undefined, selfBond: bigint) => buildGenesisDocument({
    chainId: CHAIN_ID, genesisTime: GENESIS_TIME, ...(consensus === undefined ? {} : { consensus }),
    validators: [{ identity: testIdentity("validator-0"), selfBond, commissionBps: 0 }], accounts: [],
  });
  const rootOf = (doc: Record<string, unknown>): string => {
    const s = new StateStore();
    s.commit(genesisChanges(parseGenesis(doc)));
    return toHex(s.root);
  };

  it("defaults to dpop, whose genesis state is the same as before modes existed", () => {
    expect(parseGenesis(plan(undefined, 10_000n * COIN)).consensus).toBe("dpop");
    expect(rootOf(plan("dpop", 10_000n * COIN))).toBe(rootOf(plan(undefined, 10_000n * COIN)));
  });

  it("commits poa to the state, so a poa chain and a dpop chain never share a genesis hash", () => {
    expect(rootOf(plan("poa", 0n))).not.toBe(rootOf(plan("dpop", 10_000n * COIN)));
    const s = new StateStore();
    s.commit(genesisChanges(parseGenesis(plan("poa", 0n))));
    expect(new Ledger(s).consensusMode()).toBe("poa");
  });

  it("rejects an unknown mode and a stake on a poa member, naming the field", () => {
    const bad = (doc: Record<string, unknown>) => {
      try {
        parseGenesis(doc);
      } catch (e) {
        return e instanceof GenesisError ? e.path : "not a GenesisError";
      }
      return "accepted";
    };
    expect(bad({ ...plan(undefined, 10_000n * COIN), consensus: "pos" })).toBe("$.consensus");
    expect(bad(plan("poa", 5n))).toBe("$.validators[0].selfBond");
    const { selfBond: _omitted, ...noBond } = (plan("poa", 0n).validators as Record<string, unknown>[])[0]!;
    expect(parseGenesis({ ...plan("poa", 0n), validators: [noBond] }).validators[0]!.selfBond).toBe(0n);
  });
});

describe("poa: equal weights, equal rewards, no staking, membership by the federation's vote", () => {
  const EPOCH = 4;
  const poaChain = (validators: number) => {
    const c = testChain({ validators, consensus: "poa", params: { epochLength: BigInt(EPOCH), governanceVotingPeriod: 20n, unbondingPeriod: 10n } });
    return { ...c, chain: genesisStore(c.genesis) };
  };

  it("weighs every member the same and refuses bonds and delegations", () => {
    const { chain, validators, users } = poaChain(3);
    const weights = votingWeights(new Ledger(chain.store), 0);
    expect(weights.map((w) => w.weight)).toEqual([POA_MEMBER_WEIGHT, POA_MEMBER_WEIGHT, POA_MEMBER_WEIGHT]);
    expect(attempt(chain, tx(validators[0]!, 0, { kind: TxKind.Bond, amount: COIN }))).toBe("STAKING_DISABLED");
    expect(attempt(chain, tx(users[0]!, 0, { kind: TxKind.Delegate, validator: validators[0]!.address, amount: COIN }))).toBe("STAKING_DISABLED");
    expect(attempt(chain, register(users[0]!, 0, 2_000n * COIN))).toBe("STAKING_DISABLED");
  });

  it("a registered candidate is not queued; two thirds of the members vote it in and it joins at the next epoch", () => {
    const { chain, validators, users } = poaChain(3);
    const [a, b, c] = validators as [Identity, Identity, Identity];
    const candidate = users[0]!;
    const add = (from: Identity, nonce: number, who: Identity) => tx(from, nonce, { kind: TxKind.FederationProposal, action: FederationAction.Add, validator: who.address });
    expect(attempt(chain, add(a, 0, candidate))).toBe("NOT_CANDIDATE");
    nextBlock(chain, a, [register(candidate, 0, 0n)]);
    expect(new Ledger(chain.store).pendingValidators()).toEqual([]);
    expect(attempt(chain, add(candidate, 1, candidate))).toBe("NOT_MEMBER");
    nextBlock(chain, a, [add(a, 0, candidate)]);
    const [open] = openFederationProposals(new Ledger(chain.store));
    expect(open).toBeDefined();
    expect(attempt(chain, add(b, 0, candidate))).toBe("ALREADY_PROPOSED");
    // One vote of three: not yet more than two thirds.
    nextBlock(chain, a, [tx(b, 0, { kind: TxKind.GovVote, proposalId: open!.id, choice: VoteChoice.Yes })]);
    expect(new Ledger(chain.store).pendingValidators()).toEqual([]);
    expect(attempt(chain, tx(b, 1, { kind: TxKind.GovVote, proposalId: open!.id, choice: VoteChoice.No }))).toBe("ALREADY_VOTED");
    nextBlock(chain, a, [tx(c, 0, { kind: TxKind.GovVote, proposalId: open!.id, choice: VoteChoice.Yes })]);
    // Passed: closed, and the candidate waits for the epoch start.
    expect(federationProposal(new Ledger(chain.store), open!.id)).toBeNull();
    expect(new Ledger(chain.store).pendingValidators().map(toHex)).toEqual([hex(candidate)]);
    expect(members(chain)).not.toContain(hex(candidate));
    advanceTo(chain, a, 2 * EPOCH);
    expect(members(chain)).toContain(hex(candidate));
    expect(votingWeights(new Ledger(chain.store), chain.parent.height).every((w) => w.weight === POA_MEMBER_WEIGHT)).toBe(true);
  });

  it("removes a member by vote at once, and a lapsed proposal changes nothing", () => {
    const { chain, validators } = poaChain(3);
    const [a, b, c] = validators as [Identity, Identity, Identity];
    const remove = (from: Identity, nonce: number, who: Identity) => tx(from, nonce, { kind: TxKind.FederationProposal, action: FederationAction.Remove, validator: who.address });
    nextBlock(chain, a, [remove(a, 0, c)]);
    const id = openFederationProposals(new Ledger(chain.store))[0]!.id;
    advanceTo(chain, a, 25);
    expect(openFederationProposals(new Ledger(chain.store))).toEqual([]);
    expect(members(chain)).toContain(hex(c));
    expect(attempt(chain, tx(b, 0, { kind: TxKind.GovVote, proposalId: id, choice: VoteChoice.Yes }))).toBe("UNKNOWN_PROPOSAL");
    nextBlock(chain, a, [remove(a, 1, c), tx(b, 0, { kind: TxKind.GovVote, proposalId: id + 1, choice: VoteChoice.Yes })]);
    expect(members(chain).sort()).toEqual([hex(a), hex(b)].sort());
    expect(new Ledger(chain.store).validator(c.address)?.leavingAt).toBeGreaterThan(0);
  });

  it("pays voters equally, whatever they hold", () => {
    const { chain, validators } = poaChain(3);
    const [a, b, c] = validators as [Identity, Identity, Identity];
    nextBlock(chain, a, []);
    const before = new Ledger(chain.store);
    const balance = (l: Ledger, who: Identity) => l.account(who.address).balance;
    const b0 = balance(before, b);
    const c0 = balance(before, c);
    // A certificate for block 1 signed by b and c (indices in the voting set); rewards follow it without checking signatures.
    const set = votingSet(before, 1).map((m) => toHex(m.address));
    const bitmap = signerBitmap([set.indexOf(hex(b)), set.indexOf(hex(c))].sort());
    const produced = produceBlock(chain.store, {
      chainId: CHAIN_ID, parent: chain.parent, slot: chain.parent.slot + 1, timestamp: chain.parent.timestamp + 10, candidates: [],
      certificate: { height: 1, blockHash: chain.parent.hash, signers: bitmap, signature: new Uint8Array(BLS_SIGNATURE_LENGTH) }, proposer: { address: a.address, bls: a.bls },
    });
    chain.store.commit(produced.applied.changes, produced.applied.tree);
    const after = new Ledger(chain.store);
    expect(balance(after, b) - b0).toBe(balance(after, c) - c0);
    expect(balance(after, b) - b0).toBeGreaterThan(0n);
  });

  it("parameter governance counts each member once, since members hold no stake", () => {
    const { chain, validators } = poaChain(3);
    const [a, b, c] = validators as [Identity, Identity, Identity];
    nextBlock(chain, a, [tx(a, 0, { kind: TxKind.GovProposal, paramId: 1, value: 20n, votingWindow: 20 })]);
    const id = new Ledger(chain.store).activeProposals()[0]!.id;
    // Two of three members is not more than two thirds; the third yes passes it.
    nextBlock(chain, a, [tx(b, 0, { kind: TxKind.GovVote, proposalId: id, choice: VoteChoice.Yes })]);
    expect(new Ledger(chain.store).proposal(id)).not.toBeNull();
    nextBlock(chain, a, [tx(c, 0, { kind: TxKind.GovVote, proposalId: id, choice: VoteChoice.Yes })]);
    expect(new Ledger(chain.store).proposal(id)).toBeNull();
    while (new Ledger(chain.store).meta().height < EPOCH - 1) nextBlock(chain, a, []);
    expect(new Ledger(chain.store).params().minFeePerByte).toBe(20n);
  });

  it("codes the federation proposal transaction canonically", () => {
    const t = tx(testIdentity("validator-0"), 3, { kind: TxKind.FederationProposal, action: FederationAction.Remove, validator: testIdentity("x").address });
    expect(encodeTx(decodeTx(t.bytes))).toEqual(t.bytes);
    const bad = Uint8Array.from(t.bytes);
    // kind+flags, sender 8, nonce, fee varint (2 bytes): the action byte follows.
    const actionAt = 1 + 8 + 1 + 2;
    expect(bad[actionAt]).toBe(FederationAction.Remove);
    bad[actionAt] = 7;
    expect(() => decodeTx(bad)).toThrow(/unknown federation action/);
  });
});
