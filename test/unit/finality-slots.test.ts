import { describe, expect, it } from "vitest";
import { Writer } from "../../src/core/codec/writer.js";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { parseGenesis } from "../../src/core/genesis.js";
import { TxError } from "../../src/core/state/errors.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { decodeParams, defaultParams, encodeParams, PARAM_SPECS, paramSpecByName } from "../../src/core/state/params.js";
import { applyTx } from "../../src/core/state/transaction.js";
import { TxKind } from "../../src/core/tx/types.js";
import { FinalityTracker, finalizesRun } from "../../src/consensus/finality.js";
import { CHAIN_ID, GENESIS_TIME, genesisStore, testChain, testIdentity, tx } from "../fixtures/chain.js";

/** The parameters as a build from before `finalitySlots` encoded them: the first 23, in id order. */
function encodedBeforeFinalitySlots(): Uint8Array {
  const p = defaultParams();
  // Later parameters (finalityRule) at their absentValue are left out of every encoding anyway.
  const old = PARAM_SPECS.filter((s) => s.id < paramSpecByName("finalitySlots")!.id);
  const w = new Writer().varint(old.length);
  for (const s of old) w.u8(s.id).varbig(p[s.name]);
  return w.finish();
}

describe("the finality rule as a chain parameter", () => {
  it("reads a state from before the parameter as Streamlet's three-slot rule, and encodes that back byte for byte", () => {
    const old = encodedBeforeFinalitySlots();
    const params = decodeParams(old);
    expect(params.finalitySlots).toBe(3n);
    expect(encodeParams(params)).toEqual(old);
  });

  it("encodes the two-slot rule as one more entry, and refuses an entry that spells out the value its absence means", () => {
    const two = encodeParams(defaultParams());
    expect(decodeParams(two).finalitySlots).toBe(2n);
    expect(two.length).toBeGreaterThan(encodedBeforeFinalitySlots().length);
    const upToIt = PARAM_SPECS.filter((s) => s.id <= paramSpecByName("finalitySlots")!.id);
    const spelled = new Writer().varint(upToIt.length);
    for (const s of upToIt) spelled.u8(s.id).varbig(s.name === "finalitySlots" ? 3n : defaultParams()[s.name]);
    expect(() => decodeParams(spelled.finish())).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });

  it("gives a genesis document without it the three-slot rule and the genesis hash it always had; new documents get the two-slot rule", () => {
    const validator = testIdentity("validator-0");
    const doc = buildGenesisDocument({ chainId: CHAIN_ID, genesisTime: GENESIS_TIME, validators: [{ identity: validator, selfBond: 10_000_000_000n, commissionBps: 1_000 }], accounts: [] });
    expect(parseGenesis(doc).params.finalitySlots).toBe(2n);
    const params = { ...(doc.params as Record<string, string>) };
    delete params.finalitySlots;
    const legacy = parseGenesis({ ...doc, params });
    expect(legacy.params.finalitySlots).toBe(3n);
    // Its state holds the parameters byte for byte as an older build wrote them: the same state root, the same genesis hash.
    expect(encodeParams(legacy.params)).toEqual(encodedBeforeFinalitySlots());
  });

  it("is fixed at genesis: a governance proposal to change it is refused with its own code", () => {
    const chain = testChain({ validators: 1 });
    const { store, parent } = genesisStore(chain.genesis);
    const l = new Ledger(store);
    const spec = paramSpecByName("finalitySlots")!;
    const attempt = () => applyTx(l, tx(chain.validators[0]!, 0, { kind: TxKind.GovProposal, paramId: spec.id, value: 3n, votingWindow: 100 }), { chainId: CHAIN_ID, height: parent.height + 1, slot: parent.slot + 1, params: l.params() });
    expect(attempt).toThrow(TxError);
    expect(attempt).toThrow(expect.objectContaining({ code: "PARAM_GENESIS_ONLY" }));
  });

  it("under the three-slot rule, makes final the middle of three notarized blocks in consecutive slots", () => {
    expect(finalizesRun([{ height: 3, slot: 7 }, { height: 4, slot: 8 }, { height: 5, slot: 9 }], 3)).toBe(true);
    expect(finalizesRun([{ height: 4, slot: 8 }, { height: 5, slot: 9 }], 3)).toBe(false);
    const t = new FinalityTracker(3);
    expect(t.next({ height: 1, slot: 1 }, false)).toBeNull();
    expect(t.next({ height: 2, slot: 2 }, false)).toBeNull();
    expect(t.next({ height: 3, slot: 3 }, false)).toBe(2);
    expect(t.next({ height: 4, slot: 5 }, false)).toBeNull();
    expect(t.next({ height: 5, slot: 6 }, false)).toBeNull();
    expect(t.fork().next({ height: 6, slot: 7 }, false)).toBe(5);
  });
});
