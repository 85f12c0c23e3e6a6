import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { DecodeError, EncodeError } from "../../src/core/errors.js";
import { decodeTx, decodeTxWithBytes, encodeTx, encodeUnsignedTx } from "../../src/core/tx/codec.js";
import { MAX_TRANSFER_BYTES, MAX_VOTING_WINDOW } from "../../src/core/tx/limits.js";
import { signTx, verifyTxSignature } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { bytesOf, unsignedTxArb } from "../fixtures/arbitraries.js";
import { CHAIN_ID, COIN, testIdentity, transfer } from "../fixtures/chain.js";

describe("transaction encoding", () => {
  it("round-trips every kind, and re-encodes to the same bytes", () => {
    fc.assert(fc.property(unsignedTxArb, bytesOf(64), (unsigned, signature) => {
      let bytes: Uint8Array;
      try {
        bytes = encodeTx({ ...unsigned, signature });
      } catch (e) {
        // Oversize transfers are refused at encoding; everything else must encode.
        expect(e).toBeInstanceOf(EncodeError);
        expect(unsigned.body.kind).toBe(TxKind.Transfer);
        return;
      }
      const decoded = decodeTx(bytes);
      expect(decoded).toEqual({ ...unsigned, signature });
      expect(toHex(encodeTx(decoded))).toBe(toHex(bytes));
    }), { numRuns: 500 });
  });

  it("gives only typed errors for random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
      try {
        const tx = decodeTx(bytes);
        // Anything accepted must be canonical.
        expect(toHex(encodeTx(tx))).toBe(toHex(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }), { numRuns: 3000 });
  });

  it("gives only typed errors for mutated valid transactions", () => {
    const valid = transfer(testIdentity("a"), 3, testIdentity("b").address, 5n * COIN).bytes;
    fc.assert(fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const mutated = Uint8Array.from(valid);
      mutated[i] = v;
      try {
        decodeTx(mutated);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }), { numRuns: 2000 });
  });

  it("keeps a typical transfer within 100 bytes, signature included", () => {
    const t = transfer(testIdentity("a"), 41, testIdentity("b").address, 250n * COIN, { fee: 1_000n });
    expect(t.bytes.length).toBeLessThanOrEqual(MAX_TRANSFER_BYTES);
    // kind 1 | sender 8 | nonce 1 | fee 2 | to 8 | amount 4 (250,000,000 < 2^28) | signature 64
    expect(t.bytes.length).toBe(88);
  });

  it("rejects a transfer whose encoding exceeds 100 bytes", () => {
    const huge = { sender: new Uint8Array(8), nonce: 0xffffffff, fee: (1n << 64n) - 1n, expiresAt: 2 ** 40, publicKey: null, body: { kind: TxKind.Transfer as const, to: new Uint8Array(8), amount: (1n << 64n) - 1n } };
    expect(() => encodeTx({ ...huge, signature: new Uint8Array(64) })).toThrow(expect.objectContaining({ code: "LENGTH_TOO_LARGE" }));
    const bytes = new Uint8Array([...encodeUnsignedTx(huge), ...new Uint8Array(64)]);
    expect(() => decodeTx(bytes)).toThrow(expect.objectContaining({ code: "LENGTH_TOO_LARGE" }));
  });

  it("carries a proposal's voting window after its value, and refuses an empty or overlong one", () => {
    const proposal = (votingWindow: number) => ({ sender: new Uint8Array(8), nonce: 0, fee: 0n, expiresAt: null, publicKey: null, body: { kind: TxKind.GovProposal as const, paramId: 1, value: 12n, votingWindow } });
    const unsigned = encodeUnsignedTx(proposal(500));
    // kind | sender 8 | nonce | fee | parameter id | value | window varint (500 = 0xf4 0x03)
    expect(toHex(unsigned.subarray(11))).toBe("010cf403");
    expect(decodeTx(new Uint8Array([...unsigned, ...new Uint8Array(64)])).body).toEqual(proposal(500).body);
    for (const bad of [0, MAX_VOTING_WINDOW + 1]) expect(() => encodeUnsignedTx(proposal(bad))).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    const empty = Uint8Array.from([...unsigned.subarray(0, 13), 0x00, ...new Uint8Array(64)]);
    expect(() => decodeTx(empty)).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    const overlong = Uint8Array.from([...unsigned.subarray(0, 13), 0xc1, 0x84, 0x3d, ...new Uint8Array(64)]);
    expect(() => decodeTx(overlong)).toThrow(DecodeError);
  });

  it("rejects reserved flag bits, unknown kinds and empty amounts", () => {
    const good = transfer(testIdentity("a"), 0, testIdentity("b").address, 1n).bytes;
    const reserved = Uint8Array.from(good);
    reserved[0] = (reserved[0] as number) | 0x80;
    expect(() => decodeTx(reserved)).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    const unknown = Uint8Array.from(good);
    unknown[0] = 0x1f;
    expect(() => decodeTx(unknown)).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    expect(() => encodeTx({ sender: new Uint8Array(8), nonce: 0, fee: 0n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: new Uint8Array(8), amount: 0n }, signature: new Uint8Array(64) })).toThrow(EncodeError);
  });
});

describe("transaction signatures", () => {
  const alice = testIdentity("alice");

  it("verify under the signing chain id only", () => {
    const t = transfer(alice, 0, testIdentity("b").address, 10n);
    expect(verifyTxSignature(t, CHAIN_ID, alice.ed25519.publicKey)).toBe(true);
    expect(verifyTxSignature(t, "another-chain", alice.ed25519.publicKey)).toBe(false);
  });

  it("do not carry over to a changed field", () => {
    const t = transfer(alice, 0, testIdentity("b").address, 10n);
    const forged = decodeTxWithBytes(encodeTx({ ...t.tx, body: { kind: TxKind.Transfer, to: testIdentity("mallory").address, amount: 10n } }));
    expect(verifyTxSignature(forged, CHAIN_ID, alice.ed25519.publicKey)).toBe(false);
  });

  it("are over the signing domain, so a signature as another kind fails", () => {
    const t = signTx({ sender: alice.address, nonce: 0, fee: 1n, expiresAt: null, publicKey: null, body: { kind: TxKind.Bond, amount: 7n } }, CHAIN_ID, alice.ed25519);
    const asUnbond = decodeTxWithBytes(encodeTx({ ...t.tx, body: { kind: TxKind.Unbond, amount: 7n } }));
    expect(verifyTxSignature(asUnbond, CHAIN_ID, alice.ed25519.publicKey)).toBe(false);
  });
});
