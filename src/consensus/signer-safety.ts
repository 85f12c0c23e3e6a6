import { checkApproval, checkPrecommit, nextLock, precommitRecord, type SignedRecord, type SignerSafety } from "../core/chain/signer-safety.js";

export { checkApproval, checkPrecommit, legacyLock, precommitRecord, nextLock, type SignedRecord, type SignerSafety, SignerSafetyError } from "../core/chain/signer-safety.js";

/** For simulations: the same rule, held in memory (a simulated restart keeps the object). */
export class MemorySignerSafety implements SignerSafety {
  /** `record`: a record to start from (a simulated restart onto an older one). */
  constructor(private record: SignedRecord | null = null) {}

  approve(slot: number, blockHash: Uint8Array, parentSlot: number): void {
    if (checkApproval(this.record, slot, blockHash, parentSlot) === "new") this.record = { slot, blockHash: Uint8Array.from(blockHash), lock: nextLock(this.record, parentSlot) };
  }

  approvePrecommit(slot: number, blockHash: Uint8Array): void {
    if (checkPrecommit(this.record, slot, blockHash) === "new") this.record = precommitRecord(this.record, slot, blockHash);
  }

  last(): SignedRecord | null {
    return this.record;
  }
}
