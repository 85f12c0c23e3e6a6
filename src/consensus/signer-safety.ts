import { checkApproval, type SignerSafety } from "../core/chain/signer-safety.js";

export { checkApproval, type SignerSafety, SignerSafetyError } from "../core/chain/signer-safety.js";

/** For simulations: the same rule, held in memory (a simulated restart keeps the object). */
export class MemorySignerSafety implements SignerSafety {
  private record: { slot: number; blockHash: Uint8Array } | null = null;

  approve(slot: number, blockHash: Uint8Array): void {
    if (checkApproval(this.record, slot, blockHash) === "new") this.record = { slot, blockHash: Uint8Array.from(blockHash) };
  }

  last() {
    return this.record;
  }
}
