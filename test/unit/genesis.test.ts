import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { GenesisError, genesisChanges, genesisHash, parseGenesis, parseGenesisJson } from "../../src/core/genesis.js";
import { StateStore } from "../../src/core/state/store.js";
import { COIN, GENESIS_TIME, testIdentity } from "../fixtures/chain.js";

const validator = testIdentity("validator-0");
const user = testIdentity("user-0");
const doc = () => buildGenesisDocument({
  chainId: "meshchain-test",
  genesisTime: GENESIS_TIME,
  validators: [{ identity: validator, selfBond: 10_000n * COIN, commissionBps: 500 }],
  accounts: [{ identity: user, balance: 5n * COIN }],
}) as Record<string, unknown> & { accounts: Record<string, unknown>[]; validators: Record<string, unknown>[] };

function rejects(d: unknown, code: string, path: string): void {
  try {
    parseGenesis(d);
    expect.unreachable("genesis should have been rejected");
  } catch (e) {
    expect(e).toBeInstanceOf(GenesisError);
    expect((e as GenesisError).code).toBe(code);
    expect((e as GenesisError).path).toBe(path);
  }
}

describe("genesis", () => {
  it("loads a valid document and hashes it deterministically", () => {
    const g = parseGenesis(doc());
    expect(g.validators).toHaveLength(1);
    const s1 = new StateStore();
    s1.commit(genesisChanges(g));
    const s2 = new StateStore();
    s2.commit(genesisChanges(parseGenesisJson(JSON.stringify(doc(), null, 4))));
    expect(toHex(genesisHash(g, s1.root))).toBe(toHex(genesisHash(g, s2.root)));
  });

  it("names the field at fault", () => {
    rejects("nope", "INVALID_JSON", "$");
    rejects({ ...doc(), extra: 1 }, "UNKNOWN_FIELD", "$.extra");
    rejects({ ...doc(), chainId: "Bad Chain" }, "INVALID_FIELD", "$.chainId");
    rejects({ ...doc(), genesisTime: -1 }, "INVALID_FIELD", "$.genesisTime");
    rejects({ ...doc(), params: { noSuchParam: 1 } }, "UNKNOWN_FIELD", "$.params.noSuchParam");
    rejects({ ...doc(), params: { maxValidators: 100000 } }, "INVALID_FIELD", "$.params.maxValidators");
    const d1 = doc();
    d1.accounts[0]!.balance = "-5";
    rejects(d1, "INVALID_FIELD", "$.accounts[0].balance");
    const d2 = doc();
    d2.accounts.push({ ...d2.accounts[0]! });
    rejects(d2, "DUPLICATE_ACCOUNT", "$.accounts[1]");
    const d3 = doc();
    d3.accounts[0]!.address = "mc00000000000000000000";
    rejects(d3, "INVALID_FIELD", "$.accounts[0].address");
    const d4 = doc();
    d4.validators[0]!.proofOfPossession = d4.validators[0]!.proofOfPossession === "00".repeat(48) ? "11".repeat(48) : "00".repeat(48);
    rejects(d4, "BAD_PROOF_OF_POSSESSION", "$.validators[0].proofOfPossession");
    const d4b = doc();
    d4b.validators[0]!.proofOfPossession = "abcd";
    rejects(d4b, "INVALID_FIELD", "$.validators[0].proofOfPossession");
    const d5 = doc();
    d5.validators = [];
    rejects(d5, "NO_VALIDATORS", "$.validators");
    const d6 = doc();
    d6.validators.push({ ...d6.validators[0]! });
    rejects(d6, "DUPLICATE_VALIDATOR", "$.validators[1]");
    const d7 = doc();
    d7.accounts[0]!.balance = (1n << 63n).toString();
    rejects(d7, "SUPPLY_TOO_LARGE", "$");
    const d8 = doc();
    delete d8.validators[0]!.selfBond;
    rejects(d8, "MISSING_FIELD", "$.validators[0].selfBond");
  });

  it("rejects a proof of possession made for another chain", () => {
    const other = buildGenesisDocument({ chainId: "other-chain", genesisTime: 1, validators: [{ identity: validator, selfBond: 10_000n * COIN, commissionBps: 0 }], accounts: [] }) as { validators: unknown[] };
    rejects({ ...doc(), validators: other.validators }, "BAD_PROOF_OF_POSSESSION", "$.validators[0].proofOfPossession");
  });

  it("rejects invalid JSON text with a typed error", () => {
    expect(() => parseGenesisJson("{")).toThrow(expect.objectContaining({ code: "INVALID_JSON" }));
  });
});
