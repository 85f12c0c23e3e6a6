import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openSealed, SEAL_OVERHEAD, sealTo } from "../../src/core/crypto/seal.js";
import { scheduledChangesCodec } from "../../src/core/state/param-changes.js";
import { PARAM_SPECS } from "../../src/core/state/params.js";
import { decodeMessagePayload, encodeAckPayload, encodeSealedPayload, encodeTextPayload } from "../../src/core/tx/message-payload.js";
import { testIdentity } from "../fixtures/chain.js";

const alice = testIdentity("seal-alice");
const bob = testIdentity("seal-bob");
const ephemeral = (n: number) => new Uint8Array(32).fill(n);

describe("sealed texts (X25519 from Ed25519 keys, HKDF-SHA256, ChaCha20-Poly1305)", () => {
  it("open with the recipient's key only, and add exactly the documented overhead", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 78 }), fc.integer({ min: 1, max: 250 }), (text, e) => {
      const sealed = sealTo(alice.ed25519.publicKey, text, ephemeral(e));
      expect(sealed.length).toBe(text.length + SEAL_OVERHEAD);
      expect(openSealed(alice.ed25519.seed, sealed)).toEqual(text);
      expect(() => openSealed(bob.ed25519.seed, sealed)).toThrow(expect.objectContaining({ code: "NOT_FOR_THIS_KEY" }) as Error);
    }), { numRuns: 30 });
  });

  it("refuse any changed byte", () => {
    const sealed = sealTo(alice.ed25519.publicKey, encodeTextPayload("at noon"), ephemeral(7));
    for (let i = 0; i < sealed.length; i++) {
      const changed = Uint8Array.from(sealed);
      changed[i] = (changed[i] as number) ^ 0x01;
      expect(() => openSealed(alice.ed25519.seed, changed), `byte ${i}`).toThrow();
    }
    expect(() => openSealed(alice.ed25519.seed, sealed.subarray(0, SEAL_OVERHEAD - 1))).toThrow(expect.objectContaining({ code: "SEAL_MALFORMED" }) as Error);
  });
});

describe("message payloads", () => {
  it("decode back to what was encoded, and no UTF-8 text reads as a typed payload (property)", () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (text) => {
      expect(decodeMessagePayload(encodeTextPayload(text))).toEqual({ type: "text", text });
    }));
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (hash) => {
      expect(decodeMessagePayload(encodeAckPayload(hash))).toEqual({ type: "ack", messageHash: hash });
    }));
    fc.assert(fc.property(fc.uint8Array({ minLength: SEAL_OVERHEAD, maxLength: 120 }), (sealed) => {
      expect(decodeMessagePayload(encodeSealedPayload(sealed))).toEqual({ type: "sealed", sealed });
    }));
  });

  it("show malformed typed payloads as binary, never as an acknowledgement", () => {
    expect(decodeMessagePayload(Uint8Array.of(0xff, 0x01, 1, 2)).type).toBe("binary");
    expect(decodeMessagePayload(Uint8Array.of(0xff, 0x02, ...new Uint8Array(32))).type).toBe("binary");
    expect(decodeMessagePayload(Uint8Array.of(0xc3, 0x28)).type).toBe("binary");
    expect(() => encodeAckPayload(new Uint8Array(31))).toThrow();
  });
});

describe("scheduled parameter changes", () => {
  const change = fc.constantFrom(...PARAM_SPECS).chain((s) =>
    fc.record({ proposalId: fc.nat(0xffffffff), paramId: fc.constant(s.id), value: fc.bigInt({ min: s.min, max: s.max }), effectiveHeight: fc.nat(2 ** 40) }),
  );

  it("round-trip through their one encoding (property)", () => {
    fc.assert(fc.property(fc.array(change, { maxLength: 8 }), (list) => {
      expect(scheduledChangesCodec.decode(scheduledChangesCodec.encode(list))).toEqual(list);
    }));
  });

  it("refuse a change to an unknown parameter or out of its bounds", () => {
    const bytes = scheduledChangesCodec.encode([{ proposalId: 1, paramId: 1, value: 5n, effectiveHeight: 10 }]);
    const unknown = Uint8Array.from(bytes);
    unknown[2] = 200;
    expect(() => scheduledChangesCodec.decode(unknown)).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }) as Error);
    expect(() => scheduledChangesCodec.decode(scheduledChangesCodec.encode([{ proposalId: 1, paramId: 5, value: 9_999n, effectiveHeight: 10 }]))).toThrow();
  });
});
