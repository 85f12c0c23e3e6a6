import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { signTx } from "../../src/core/tx/sign.js";
import { TxKind } from "../../src/core/tx/types.js";
import { devnetChain } from "../../src/devnet/common.js";
import { runSimDevnet } from "../../src/devnet/sim.js";
import type { MeshChainNode } from "../../src/node/node.js";

/** A bound on waiting, not a speed assertion: each node is a whole MeshChainNode on a shared machine. */
const DEVNET_TIMEOUT_MS = 300_000;
/** The devnet's genesis time (sim.ts), so that our transfers are signed for its chain. */
const GENESIS_TIME = 1_767_225_600;
/** The kill comes at 20 minutes, right after that minute's sample; the node is back at 23. */
const RUN = { nodes: 3, validators: 3, preset: "MEDIUM_FAST", loss: 0.05, durationMs: 24 * 60_000, txPerMinute: 2, seed: 3, kill: true, params: { slotMs: 30_000n, fallbackRanks: 0n } } as const;

/*
 * "Nothing a user was told was accepted is ever lost." At the sample just before the kill, each
 * running node accepts a transfer from its own key (no devnet user sends from it, so no nonce of
 * theirs is taken), and one of them is killed in that same virtual instant. Whatever got the transfer
 * out (its first flood, the pool it kept on disk and proposes from once back, or its announcing it
 * again after the restart: with the restart's announcement switched off this seed still passes), every
 * node must have it final at the end. An end-to-end guarantee, not a test of one mechanism.
 */
describe("a transfer accepted by a node that then crashes", () => {
  it("is final at every node after the restart", async () => {
    const { ids, genesis } = devnetChain(RUN, GENESIS_TIME);
    const accepted = new Map<number, string>();
    let killed = -1;
    let finalAtEnd: boolean[][] = [];
    let samples = 0;
    const inspect = (nodes: readonly (MeshChainNode | null)[]) => {
      samples++;
      // The 20th sample is the one at 20 minutes, taken before that instant's kill.
      if (samples === 20) {
        nodes.forEach((node, i) => {
          if (node === null) return;
          const from = ids[i]!;
          const to = ids[(i + 1) % ids.length]!;
          const tx = signTx({ sender: from.address, nonce: node.nextNonce(from.address), fee: 1_000n, expiresAt: null, publicKey: null, body: { kind: TxKind.Transfer, to: to.address, amount: 7n } }, genesis.chainId, from.ed25519);
          expect(node.submitTransaction(tx.bytes).status).toBe("accepted");
          accepted.set(i, toHex(txHash(tx.bytes)));
        });
      }
      if (killed < 0) killed = nodes.findIndex((n) => n === null);
      finalAtEnd = nodes.map((node) => [...accepted.values()].map((hash) => node !== null && node.finalizedTxHeight(Buffer.from(hash, "hex")) !== null));
    };
    const report = await runSimDevnet({ ...RUN, inspect });
    expect(report.restarts).toBe(1);
    expect(accepted.size).toBe(3);
    expect(accepted.has(killed)).toBe(true);
    // The last sample comes after the drain, with every node up.
    expect(finalAtEnd).toHaveLength(3);
    expect(finalAtEnd.every((row) => row.length === 3 && row.every(Boolean))).toBe(true);
  }, DEVNET_TIMEOUT_MS);
});
