import { describe, expect, it } from "vitest";
import type { Block } from "../../src/core/block/block.js";
import { blockHash } from "../../src/core/block/header.js";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { TxKind } from "../../src/core/tx/types.js";
import { tx } from "../fixtures/chain.js";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;

describe("a proposal on a parent above finality", () => {
  it("offers a sender's transactions after the ones its parent carries, not the same ones again", () => {
    const sim = new ConsensusSim({ validators: 6, seed: 3 });
    const user = sim.users[0]!;
    const blocks: Block[] = [];
    sim.onSend = (_from, m) => {
      if (m.kind === "proposal") blocks.push(m.block);
    };
    sim.start();
    // More than one block's quota of one sender (perSenderPerBlock 8).
    for (let n = 0; n < 12; n++) sim.submit(tx(user, n, { kind: TxKind.Transfer, to: sim.users[1]!.address, amount: 1n }));
    sim.runUntil(() => sim.nodes.every((node) => new Ledger(node.engine.finalizedState).account(user.address).nonce === 12), 10 * MINUTE, 10_000);
    for (const node of sim.nodes) expect(new Ledger(node.engine.finalizedState).account(user.address).nonce).toBe(12);
    const carrying = (nonce: number) => blocks.find((b) => b.txs.some((t) => bytesEqual(t.tx.sender, user.address) && t.tx.nonce === nonce));
    const [first, last] = [carrying(0), carrying(11)];
    expect(first).toBeDefined();
    expect(last).toBeDefined();
    // The child of the first, proposed while the first was not final, carries the rest, within the sender's quota a block.
    // Counted from finality it offered the parent's own transactions again and took the rest only a block later.
    expect(toHex(last!.header.parentHash)).toBe(toHex(blockHash(first!.header)));
    expect(last!.txs.filter((t) => bytesEqual(t.tx.sender, user.address)).length).toBeLessThanOrEqual(8);
  });
});
