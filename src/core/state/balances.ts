import { TxError } from "./errors.js";
import type { Ledger } from "./ledger.js";

export function debit(l: Ledger, address: Uint8Array, amount: bigint): void {
  const a = l.account(address);
  if (a.balance < amount) throw new TxError("INSUFFICIENT_BALANCE", `balance ${a.balance} is below ${amount}`);
  l.putAccount(address, { ...a, balance: a.balance - amount });
}
