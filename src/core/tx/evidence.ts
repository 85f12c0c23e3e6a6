import { Reader } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { readHeader, writeHeader } from "../block/header.js";
import { MAX_SLOT } from "../block/limits.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { BLS_SIGNATURE_LENGTH } from "../crypto/bls.js";
import { HASH_LENGTH } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";
import { type Evidence, EvidenceType, type SignedVote } from "./types.js";

function writeSignedVote(w: Writer, v: SignedVote): void {
  w.fixed(v.blockHash, HASH_LENGTH).fixed(v.signature, BLS_SIGNATURE_LENGTH);
}

function readSignedVote(r: Reader): SignedVote {
  return { blockHash: r.fixed(HASH_LENGTH), signature: r.fixed(BLS_SIGNATURE_LENGTH) };
}

export function writeEvidence(w: Writer, e: Evidence): void {
  w.u8(e.type);
  if (e.type === EvidenceType.DoubleVote) {
    w.fixed(e.validator, ADDRESS_LENGTH).varint(e.slot);
    writeSignedVote(w, e.first);
    writeSignedVote(w, e.second);
  } else {
    writeHeader(w, e.first);
    writeHeader(w, e.second);
  }
}

export function readEvidence(r: Reader): Evidence {
  const type = r.u8();
  switch (type) {
    case EvidenceType.DoubleVote: {
      const validator = r.fixed(ADDRESS_LENGTH);
      const slot = r.varint(MAX_SLOT);
      return { type, validator, slot, first: readSignedVote(r), second: readSignedVote(r) };
    }
    case EvidenceType.DoubleProposal:
      return { type, first: readHeader(r), second: readHeader(r) };
    default:
      throw new DecodeError("INVALID_VALUE", `unknown evidence type ${type}`);
  }
}
