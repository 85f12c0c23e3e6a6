import { signerBitmap, writeCertificate } from "../core/block/certificate.js";
import { signVote, verifyAggregateVote } from "../core/block/vote.js";
import { Writer } from "../core/codec/writer.js";
import { blsAggregateSignatures, blsForgetResults } from "../core/crypto/bls.js";
import { sha256 } from "../core/crypto/hash.js";
import { identityFromSeed } from "../core/crypto/identity.js";
import { encodeFrame, MessageType } from "../mesh/frame.js";
import { voteCodec } from "../mesh/messages/relay.js";
import type { Measurement } from "./harness.js";

const CHAIN_ID = "meshchain-bench";

/** Certificate bytes and verification time for n validators all signing; the vote's size on air. */
export function consensusBenchmarks(): Measurement[] {
  const out: Measurement[] = [];
  const blockHash = sha256(Uint8Array.of(7));
  const slot = 1_000_000;
  const height = 100_000;
  for (const n of [7, 21, 64]) {
    const ids = Array.from({ length: n }, (_, i) => identityFromSeed(sha256(Uint8Array.of(i, 42))));
    const signatures = ids.map((id) => signVote(CHAIN_ID, slot, blockHash, id.bls));
    const certificate = { height, blockHash, signers: signerBitmap(ids.map((_, i) => i)), signature: blsAggregateSignatures(signatures) };
    const w = new Writer();
    writeCertificate(w, certificate);
    const keys = ids.map((id) => id.bls.publicKey);
    // First verification decodes every key; later ones reuse the decoded keys, as a running node does.
    // The result memo is emptied before each (a certificate made here is known good at once): these time
    // the pairing, as a node meeting a certificate for the first time pays it.
    blsForgetResults();
    let start = performance.now();
    const ok = verifyAggregateVote(CHAIN_ID, slot, blockHash, certificate.signature, keys);
    const cold = performance.now() - start;
    const runs = 5;
    let warmTotal = 0;
    for (let i = 0; i < runs; i++) {
      blsForgetResults();
      start = performance.now();
      verifyAggregateVote(CHAIN_ID, slot, blockHash, certificate.signature, keys);
      warmTotal += performance.now() - start;
    }
    const warm = warmTotal / runs;
    if (!ok) throw new Error("benchmark certificate does not verify");
    out.push({ name: `notarization certificate, ${n} validators`, value: w.length, unit: "bytes", note: `limit 231; at height ${height}` });
    out.push({ name: `certificate verification, ${n} validators`, value: warm, unit: "ms", note: `${cold.toFixed(0)} ms with key decoding` });
  }
  const vote = voteCodec.encode({ height: 100_000, blockHash, validatorIndex: 63, signature: new Uint8Array(48) });
  out.push({ name: "vote on air (frame header included)", value: encodeFrame({ type: MessageType.Vote, messageId: 1, fragment: null, payload: vote }).length, unit: "bytes", note: "limit 90" });
  return out;
}
