import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../src/core/bytes.js";
import { signRandao, signVote, verifyAggregateVote, verifyRandao, verifyVote } from "../../src/core/block/vote.js";
import { addressFromPublicKey, formatAddress, parseAddress } from "../../src/core/crypto/address.js";
import { blsAggregateSignatures, blsProvePossession, blsVerifyPossession } from "../../src/core/crypto/bls.js";
import { ed25519FromSeed, ed25519Sign, ed25519Verify } from "../../src/core/crypto/ed25519.js";
import { sha256 as ourSha256 } from "../../src/core/crypto/hash.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { testIdentity } from "../fixtures/chain.js";

// RFC 8032 §7.1, tests 1-3.
const RFC8032 = [
  { seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", msg: "", sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
  { seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", msg: "72", sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
  { seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", msg: "af82", sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
];

describe("Ed25519 (OpenSSL path)", () => {
  it.each(RFC8032)("matches RFC 8032 vector $pub", (v) => {
    const key = ed25519FromSeed(fromHex(v.seed));
    expect(toHex(key.publicKey)).toBe(v.pub);
    expect(toHex(ed25519Sign(fromHex(v.msg), key))).toBe(v.sig);
    expect(ed25519Verify(fromHex(v.sig), fromHex(v.msg), fromHex(v.pub))).toBe(true);
    expect(toHex(ed25519.getPublicKey(fromHex(v.seed)))).toBe(v.pub);
    expect(ed25519.verify(fromHex(v.sig), fromHex(v.msg), fromHex(v.pub))).toBe(true);
  });

  it("agrees with @noble/curves on random keys and messages", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (seed, msg) => {
      const key = ed25519FromSeed(seed);
      const ours = ed25519Sign(msg, key);
      expect(toHex(ours)).toBe(toHex(ed25519.sign(msg, seed)));
      expect(ed25519.verify(ours, msg, key.publicKey)).toBe(true);
      expect(ed25519Verify(ed25519.sign(msg, seed), msg, key.publicKey)).toBe(true);
    }), { numRuns: 50 });
  });

  it("rejects tampered messages, signatures and keys", () => {
    const key = ed25519FromSeed(new Uint8Array(32).fill(1));
    const msg = Uint8Array.of(1, 2, 3);
    const sig = ed25519Sign(msg, key);
    expect(ed25519Verify(sig, Uint8Array.of(1, 2, 4), key.publicKey)).toBe(false);
    const badSig = Uint8Array.from(sig);
    badSig[10] = (badSig[10] as number) ^ 1;
    expect(ed25519Verify(badSig, msg, key.publicKey)).toBe(false);
    expect(ed25519Verify(sig, msg, new Uint8Array(32).fill(0xff))).toBe(false);
    expect(ed25519Verify(sig.slice(0, 63), msg, key.publicKey)).toBe(false);
  });
});

describe("SHA-256", () => {
  it("matches @noble/hashes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      expect(toHex(ourSha256(data))).toBe(toHex(nobleSha256(data)));
    }));
  });
});

describe("BLS votes", () => {
  const a = testIdentity("bls-a");
  const b = testIdentity("bls-b");
  const hash = ourSha256(Uint8Array.of(9));

  it("verifies a vote only for its chain, height, block and key", () => {
    const sig = signVote("chain-one", 5, hash, a.bls);
    expect(sig.length).toBe(48);
    expect(verifyVote("chain-one", 5, hash, sig, a.bls.publicKey)).toBe(true);
    expect(verifyVote("chain-two", 5, hash, sig, a.bls.publicKey)).toBe(false);
    expect(verifyVote("chain-one", 6, hash, sig, a.bls.publicKey)).toBe(false);
    expect(verifyVote("chain-one", 5, ourSha256(Uint8Array.of(8)), sig, a.bls.publicKey)).toBe(false);
    expect(verifyVote("chain-one", 5, hash, sig, b.bls.publicKey)).toBe(false);
  });

  it("separates randao reveals from votes", () => {
    const reveal = signRandao("chain-one", 5, a.bls);
    expect(verifyRandao("chain-one", 5, reveal, a.bls.publicKey)).toBe(true);
    expect(verifyRandao("chain-one", 6, reveal, a.bls.publicKey)).toBe(false);
    expect(verifyVote("chain-one", 5, hash, reveal, a.bls.publicKey)).toBe(false);
  });

  it("aggregates votes into one 48-byte signature", () => {
    const agg = blsAggregateSignatures([signVote("c1", 3, hash, a.bls), signVote("c1", 3, hash, b.bls)]);
    expect(agg.length).toBe(48);
    expect(verifyAggregateVote("c1", 3, hash, agg, [a.bls.publicKey, b.bls.publicKey])).toBe(true);
    expect(verifyAggregateVote("c1", 3, hash, agg, [a.bls.publicKey])).toBe(false);
  });

  it("checks proofs of possession per key and chain", () => {
    const pop = blsProvePossession("c1", a.bls);
    expect(blsVerifyPossession("c1", a.bls.publicKey, pop)).toBe(true);
    expect(blsVerifyPossession("c2", a.bls.publicKey, pop)).toBe(false);
    expect(blsVerifyPossession("c1", b.bls.publicKey, pop)).toBe(false);
    expect(blsVerifyPossession("c1", new Uint8Array(96), pop)).toBe(false);
  });
});

describe("addresses", () => {
  it("are 8 bytes and round-trip through text", () => {
    const id = testIdentity("addr");
    expect(id.address.length).toBe(8);
    const text = formatAddress(id.address);
    expect(text).toMatch(/^mc[0-9a-f]{20}$/);
    expect(toHex(parseAddress(text))).toBe(toHex(id.address));
    expect(toHex(parseAddress(text.toUpperCase().replace("MC", "mc")))).toBe(toHex(id.address));
  });

  it("catch every single-digit typo through the checksum", () => {
    const text = formatAddress(addressFromPublicKey(new Uint8Array(32).fill(3)));
    for (let i = 2; i < text.length; i++) {
      const digit = text[i] === "0" ? "1" : "0";
      const typo = text.slice(0, i) + digit + text.slice(i + 1);
      expect(() => parseAddress(typo)).toThrow(expect.objectContaining({ code: "BAD_CHECKSUM" }));
    }
    expect(() => parseAddress("mc123")).toThrow(expect.objectContaining({ code: "INVALID_ADDRESS" }));
  });
});
