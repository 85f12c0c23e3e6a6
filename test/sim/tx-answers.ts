import type { ConsensusMessage } from "../../src/consensus/messages.js";
import { RADIO_LINK } from "../../src/consensus/engine.js";
import { toHex } from "../../src/core/bytes.js";
import { txHash } from "../../src/core/tx/codec.js";
import { ConsensusSim } from "./harness.js";

/** Nodes that hear no transaction gossip, nor each other's requests: each asks for every block's transactions itself. */
export const ASKERS = [3, 4, 5];

type Answer = Extract<ConsensusMessage, { kind: "block-txs" }>;

/** Every transaction sent in a block-txs answer, by block key and transaction, with who sent it; requests by block key. */
export function recordAnswers(sim: ConsensusSim): { copies: Map<string, number[]>; requests: Map<string, number> } {
  const copies = new Map<string, number[]>();
  const requests = new Map<string, number>();
  sim.onSend = (from, m) => {
    if (m.kind === "get-txs") requests.set(`${m.slot}:${toHex(m.blockRef)}`, (requests.get(`${m.slot}:${toHex(m.blockRef)}`) ?? 0) + 1);
    if (m.kind !== "block-txs") return;
    for (const t of (m as Answer).txs) {
      const key = `${m.slot}:${toHex(m.blockRef)}:${toHex(txHash(t.bytes))}`;
      copies.set(key, [...(copies.get(key) ?? []), from]);
    }
  };
  return { copies, requests };
}

/** Six validators on the radio link, three of them the ASKERS, whose requests cross on the air. */
export function radioSim(seed: number): ConsensusSim {
  const sim = new ConsensusSim({ validators: 6, seed, engine: { link: RADIO_LINK } });
  sim.filter = (from, to, m) => !(ASKERS.includes(to) && (m.kind === "tx" || (m.kind === "get-txs" && ASKERS.includes(from))));
  return sim;
}
