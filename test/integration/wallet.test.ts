import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ApiServer } from "../../src/api/server.js";
import { ClientError, MeshChainClient, prepareTx, type Signer } from "../../src/client/index.js";
import { buildMessagePayload, openMessageText } from "../../src/client/messages.js";
import { ONE_FRAME_TX_BYTES } from "../../src/client/wallet.js";
import { fromHex, toHex } from "../../src/core/bytes.js";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { formatAddress } from "../../src/core/crypto/address.js";
import { parseGenesisJson } from "../../src/core/genesis.js";
import { encodeAckPayload } from "../../src/core/tx/message-payload.js";
import { MessagePriority, TxKind } from "../../src/core/tx/types.js";
import { ManualClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { waitFor } from "../fixtures/wait.js";

const dir = tempDirsPerTest();
const TOKEN = "7a".repeat(32);
const SLOT_MS = 2_000;
const COIN = 1_000_000n;
const CHAIN = "wallet-test";

/** A lone-validator chain with a funded user and a stranger, a small epoch, a real API and a client. */
describe("the wallet over a real node's API", () => {
  const validator = testIdentity("wallet-validator");
  const alice = testIdentity("wallet-alice");
  const bob = testIdentity("wallet-bob");
  let clock: ManualClock;
  let node: MeshChainNode;
  let api: ApiServer;
  let client: MeshChainClient;
  let reader: MeshChainClient;

  beforeEach(async () => {
    const dataDir = join(dir(), "node");
    mkdirSync(dataDir, { recursive: true });
    clock = new ManualClock(GENESIS_TIME * 1000);
    const doc = buildGenesisDocument({
      chainId: CHAIN, genesisTime: GENESIS_TIME,
      validators: [{ identity: validator, selfBond: 10_000n * COIN, commissionBps: 1_000 }],
      accounts: [{ identity: validator, balance: 1_000n * COIN }, { identity: alice, balance: 50n * COIN }],
      params: { epochLength: 4n },
    });
    node = new MeshChainNode({ dataDir, genesis: parseGenesisJson(JSON.stringify(doc)), identity: validator, slotMs: SLOT_MS, heartbeatSlots: 1, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(5) });
    await node.start();
    api = new ApiServer({ host: "127.0.0.1", port: 0, token: TOKEN, eventPollMs: 20 }, node);
    const url = await api.start();
    client = new MeshChainClient({ url, token: TOKEN });
    reader = new MeshChainClient({ url });
  });

  afterEach(async () => {
    await api.stop();
    await node.stop();
  });

  const slots = (n: number) => {
    for (let i = 0; i < n; i++) clock.advance(SLOT_MS);
  };
  const send = async (signer: Signer, body: Parameters<typeof prepareTx>[2], choices: Parameters<typeof prepareTx>[3] = {}) => {
    const prepared = await prepareTx(client, signer, body, choices);
    return { prepared, outcome: await client.submit(prepared.hex) };
  };
  const refusal = async (p: Promise<unknown>): Promise<ClientError> => {
    const e = await p.then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  };

  it("reads accounts, and refuses unknown and mistyped addresses with typed errors", async () => {
    const info = await reader.chainInfo();
    expect(info).toMatchObject({ chainId: CHAIN, minFeePerByte: "10" });
    const a = await reader.account(formatAddress(alice.address));
    expect(a).toMatchObject({ balance: (50n * COIN).toString(), nonce: 0, nextNonce: 0, publicKey: toHex(alice.ed25519.publicKey), validator: null, delegations: [], unbonding: [] });
    const v = await reader.account(formatAddress(validator.address));
    expect(v.validator).toMatchObject({ selfBond: (10_000n * COIN).toString() });
    const unknown = await refusal(reader.account(formatAddress(bob.address)));
    expect([unknown.code, unknown.reason]).toEqual(["NOT_FOUND", "UNKNOWN_ACCOUNT"]);
    const typo = formatAddress(alice.address).slice(0, -1) + (formatAddress(alice.address).endsWith("0") ? "1" : "0");
    const bad = await refusal(reader.account(typo));
    expect([bad.code, bad.reason]).toEqual(["INVALID_PARAMS", "BAD_CHECKSUM"]);
    const set = await reader.validators();
    expect(set).toMatchObject({ chainId: CHAIN, gini: 0, validators: [{ address: formatAddress(validator.address), weightShare: 1 }] });
    expect(await refusal(reader.block(99))).toMatchObject({ code: "NOT_FOUND", reason: "UNKNOWN_BLOCK" });
  });

  it("sends without a nonce, fee or chain id; tells accepted, queued and refused apart; a refusal changes nothing", async () => {
    const first = await send(alice, { kind: TxKind.Transfer, to: bob.address, amount: 3n * COIN });
    expect(first.outcome.status).toBe("accepted");
    // Genesis bound Alice's key: nothing to reveal. The fee is the node's minimum for the size.
    expect(first.prepared).toMatchObject({ chainId: CHAIN, nonce: 0, revealsKey: false });
    expect(first.prepared.fee).toBe(first.prepared.minFee);
    expect((await reader.transaction(first.prepared.hash)).status).toBe("pending");
    // The next nonce counts the pool: no guessing while the first waits.
    const second = await prepareTx(client, alice, { kind: TxKind.Transfer, to: bob.address, amount: 1n }, {});
    expect([second.nonce, second.revealsKey]).toEqual([1, false]);
    const ahead = await send(alice, { kind: TxKind.Transfer, to: bob.address, amount: 1n }, { nonce: 5, revealKey: false });
    expect(ahead.outcome.status).toBe("queued");
    expect((await reader.transaction(ahead.prepared.hash)).status).toBe("queued");
    slots(1);
    await waitFor(() => node.status().height >= 1, 5_000, "block 1");
    const done = await reader.transaction(first.prepared.hash);
    expect(done).toMatchObject({ status: "final", height: 1, final: true, kind: "transfer", to: formatAddress(bob.address), amount: (3n * COIN).toString() });
    const block = await reader.block(1);
    expect(await reader.block(String(block.hash))).toEqual(block);

    const before = await reader.account(formatAddress(alice.address));
    const wrongChain = await refusal(prepareTx(client, alice, { kind: TxKind.Transfer, to: bob.address, amount: 1n }, { chainId: "other-net" }));
    expect(wrongChain.code).toBe("WRONG_CHAIN");
    const broke = await prepareTx(client, alice, { kind: TxKind.Transfer, to: bob.address, amount: 10_000n * COIN }, {});
    const refused = await refusal(client.submit(broke.hex));
    expect([refused.code, refused.reason]).toEqual(["REJECTED_BY_NODE", "INVALID"]);
    expect(refused.message).toContain("INSUFFICIENT_BALANCE");
    expect(await reader.account(formatAddress(alice.address))).toEqual(before);
    expect((await reader.transaction(broke.hash)).status).toBe("unknown");
    // Writes need the token; reads on loopback do not.
    const noToken = await refusal(reader.submit(broke.hex));
    expect(noToken.code).toBe("NODE_API_REFUSED");
  });

  it("shows delegations and unbonding stake on the account, from real delegate and undelegate transactions", async () => {
    await send(alice, { kind: TxKind.Delegate, validator: validator.address, amount: 10n * COIN });
    slots(1);
    await waitFor(() => node.status().height >= 1, 5_000, "block 1");
    expect(await reader.account(formatAddress(alice.address))).toMatchObject({ delegations: [{ validator: formatAddress(validator.address), amount: (10n * COIN).toString() }], unbonding: [] });
    await send(alice, { kind: TxKind.Undelegate, validator: validator.address, amount: 4n * COIN });
    const tooMuch = await prepareTx(client, alice, { kind: TxKind.Undelegate, validator: validator.address, amount: 100n * COIN }, { nonce: 2 });
    slots(1);
    await waitFor(() => node.status().height >= 2, 5_000, "block 2");
    const a = await reader.account(formatAddress(alice.address));
    expect(a).toMatchObject({ nonce: 2, delegations: [{ amount: (6n * COIN).toString() }], unbonding: [{ validator: formatAddress(validator.address), amount: (4n * COIN).toString(), releasedAt: 2 + 2_000 }] });
    const refused = await refusal(client.submit(tooMuch.hex));
    expect(refused.reason).toBe("INVALID");
    expect(await reader.account(formatAddress(alice.address))).toEqual(a);
  });

  it("proves a message's delivery offline, fails every tampered field, and shows the recipient's ack", async () => {
    const payload = buildMessagePayload("meet at the water tower", null);
    const m = await send(alice, { kind: TxKind.Message, to: bob.address, priority: MessagePriority.Normal, payload });
    await send(validator, { kind: TxKind.Transfer, to: bob.address, amount: 1n * COIN });
    slots(1);
    await waitFor(() => node.status().height >= 1, 5_000, "block 1");
    const inbox = await reader.messages({ to: formatAddress(bob.address) });
    expect(inbox.messages).toMatchObject([{ hash: m.prepared.hash, from: formatAddress(alice.address), text: "meet at the water tower", status: "final" }]);

    const proof = await reader.deliveryProof(m.prepared.hash);
    const set = await reader.validators();
    const { verifyDeliveryProof, trustFromValidatorSetJson, ProofError } = await import("../../src/client/proof.js");
    const trust = trustFromValidatorSetJson(set);
    const verdict = verifyDeliveryProof(proof, trust);
    expect(verdict).toMatchObject({ valid: true, chainId: CHAIN, block: { height: 1 }, transaction: { text: "meet at the water tower" } });
    expect(verifyDeliveryProof(proof, { kind: "block", blockHash: fromHex(String((await reader.block(1)).hash)) }).valid).toBe(true);

    const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === "0" ? "1" : "0") + hex.slice(at + 1);
    const tampered: [string, Record<string, unknown>, string][] = [
      ["tx text", { tx: flip(String(proof.tx), 60) }, "BAD_TX_SIGNATURE"],
      ["sender key", { senderPublicKey: flip(String(proof.senderPublicKey), 0) }, "SENDER_KEY_MISMATCH"],
      ["inclusion index", { inclusion: { ...(proof.inclusion as object), index: 1 } }, "NOT_IN_BLOCK"],
      ["inclusion path", { inclusion: { ...(proof.inclusion as object), path: ["ab".repeat(32)] } }, "NOT_IN_BLOCK"],
      ["certificate signers", { certificate: flip(String(proof.certificate), 68) }, "CERTIFICATE_NOT_FOR_BLOCK"],
      ["certificate block hash", { certificate: flip(String(proof.certificate), 4) }, "CERTIFICATE_NOT_FOR_BLOCK"],
      ["chain id", { chainId: "other-net" }, "WRONG_CHAIN"],
      ["header tx root", { header: flip(String(proof.header), 90) }, "NOT_IN_BLOCK"],
      ["header state root", { header: flip(String(proof.header), 160) }, "CERTIFICATE_NOT_FOR_BLOCK"],
      ["header bytes", { header: String(proof.header).slice(0, 40) }, "PROOF_MALFORMED"],
      ["certificate signature", { certificate: flip(String(proof.certificate), String(proof.certificate).length - 4) }, "BAD_CERTIFICATE_SIGNATURE"],
      ["voting set key", { votingSet: [{ ...(proof.votingSet as Record<string, string>[])[0], blsPublicKey: flip((proof.votingSet as Record<string, string>[])[0]!.blsPublicKey!, 10) }] }, "SIGNER_NOT_TRUSTED"],
      ["format", { format: "something-else" }, "PROOF_MALFORMED"],
    ];
    for (const [what, change, code] of tampered) {
      const e = (() => {
        try {
          verifyDeliveryProof({ ...proof, ...change }, trust);
          return null;
        } catch (err) {
          return err;
        }
      })();
      expect(e, what).toBeInstanceOf(ProofError);
      expect((e as InstanceType<typeof ProofError>).code, what).toBe(code);
    }
    const expectCode = (f: () => unknown, code: string) => expect(f).toThrow(expect.objectContaining({ code }) as Error);
    expectCode(() => verifyDeliveryProof(proof, { ...trust, chainId: "other-net" } as typeof trust), "WRONG_CHAIN");
    const stranger = testIdentity("not-our-validator");
    expectCode(() => verifyDeliveryProof(proof, { kind: "validators", chainId: CHAIN, validators: [{ address: stranger.address, blsPublicKey: stranger.bls.publicKey, stake: 1n }] }), "SIGNER_NOT_TRUSTED");
    if (trust.kind !== "validators") throw new Error("a validator set file is a validator set");
    const ours = trust.validators;
    expectCode(() => verifyDeliveryProof(proof, { kind: "validators", chainId: CHAIN, validators: [...ours, { address: stranger.address, blsPublicKey: stranger.bls.publicKey, stake: ours[0]!.stake }] }), "NO_QUORUM");
    expectCode(() => verifyDeliveryProof(proof, { kind: "block", blockHash: new Uint8Array(32) }), "UNTRUSTED_BLOCK");

    // Bob acknowledges (his first transaction: the key is revealed by itself); Alice sees it.
    const ack = await send(bob, { kind: TxKind.Message, to: alice.address, priority: MessagePriority.Bulk, payload: encodeAckPayload(fromHex(m.prepared.hash)) });
    expect(ack.prepared.revealsKey).toBe(true);
    slots(1);
    await waitFor(() => node.status().height >= 2, 5_000, "block 2");
    const status = await reader.messageStatus(m.prepared.hash);
    expect(status).toMatchObject({ status: "final", acknowledged: true, acks: [{ height: 2, final: true }] });
    expect(await refusal(reader.messageStatus(String((await reader.block(1)).hash)))).toMatchObject({ reason: "UNKNOWN_TX" });
  });

  it("seals a message to the recipient's key: only the recipient opens it", async () => {
    await send(alice, { kind: TxKind.Transfer, to: bob.address, amount: 1n * COIN });
    slots(1);
    await waitFor(() => node.status().height >= 1, 5_000, "block 1");
    const aliceKey = (await reader.account(formatAddress(alice.address))).publicKey as string;
    const sealed = buildMessagePayload("the key is under the stone", fromHex(aliceKey));
    const m = await send(validator, { kind: TxKind.Message, to: alice.address, priority: MessagePriority.Urgent, payload: sealed });
    slots(1);
    await waitFor(() => node.status().height >= 2, 5_000, "block 2");
    const [seen] = (await reader.messages({ to: formatAddress(alice.address) })).messages;
    expect(seen).toMatchObject({ hash: m.prepared.hash, payloadType: "sealed", priority: "urgent" });
    expect(JSON.stringify(seen)).not.toContain("stone");
    const payload = sealed;
    expect(openMessageText(payload, alice.ed25519)).toEqual({ type: "sealed", text: "the key is under the stone" });
    expect(openMessageText(payload, bob.ed25519)).toMatchObject({ text: null, reason: expect.stringContaining("not sealed to this key") });
    expect(() => buildMessagePayload("x".repeat(79), fromHex(aliceKey))).toThrow(expect.objectContaining({ code: "MESSAGE_TOO_LARGE" }) as Error);
    expect(buildMessagePayload("x".repeat(78), fromHex(aliceKey)).length).toBe(128);
    // A full 128-byte text fits one radio frame; with the key reveal and an expiry it would not, and is refused unsigned.
    const full = { kind: TxKind.Message, to: alice.address, priority: MessagePriority.Normal, payload: buildMessagePayload("y".repeat(128), null) } as const;
    const fits = await prepareTx(client, validator, full, { oneFrame: true });
    expect(fits.bytes).toBeLessThanOrEqual(ONE_FRAME_TX_BYTES);
    const tooBig = await refusal(prepareTx(client, bob, full, { oneFrame: true, revealKey: true, expiresAt: 1_000_000 }));
    expect(tooBig.code).toBe("MESSAGE_TOO_LARGE");
  });

  it("refuses live events to a web page, without the right token, or elsewhere than /ws", async () => {
    const base = client.url.replace(/^http/, "ws");
    const answer = (path: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base}${path}`, { headers });
        ws.on("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on("open", () => {
          resolve(101);
          ws.close();
        });
        ws.on("error", () => undefined);
      });
    const token = { authorization: `Bearer ${TOKEN}` };
    expect(await answer("/ws", { ...token, origin: "http://evil.example" })).toBe(403);
    expect(await answer("/elsewhere", token)).toBe(404);
    expect(await answer("/ws", { authorization: `Bearer ${"00".repeat(32)}` })).toBe(401);
    expect(await answer("/ws", {})).toBe(401);
    expect(await answer("/ws", token)).toBe(101);
  });

  it("runs governance to the epoch boundary, with tallies, and streams it all live", async () => {
    const events: { topic: string; event: Record<string, unknown> }[] = [];
    const record = (topic: string) => (event: Record<string, unknown>) => events.push({ topic, event });
    const subs = [
      await client.subscribe("newHeads", {}, record("newHeads")),
      await client.subscribe("finalized", {}, record("finalized")),
      await client.subscribe("governance", {}, record("governance")),
      await client.subscribe("messages", { to: formatAddress(bob.address) }, record("messages")),
    ];
    const noToken = await refusal(reader.subscribe("newHeads", {}, () => undefined));
    expect(noToken.code).toBe("NODE_API_REFUSED");
    const badTopic = await refusal(client.subscribe("bogus" as "newHeads", {}, () => undefined));
    expect(badTopic.reason).toBe("INVALID_PARAMS");

    const unknownParam = await prepareTx(client, validator, { kind: TxKind.GovProposal, paramId: 200, value: 1n, votingWindow: 100 }, {});
    const refused = await refusal(client.submit(unknownParam.hex));
    expect(refused.message).toContain("UNKNOWN_PARAM");
    const proposal = await send(validator, { kind: TxKind.GovProposal, paramId: 1, value: 25n, votingWindow: 100 });
    const txEvents: Record<string, unknown>[] = [];
    subs.push(await client.subscribe("tx", { hash: proposal.prepared.hash }, (e) => txEvents.push(e)));
    const message = await send(alice, { kind: TxKind.Message, to: bob.address, priority: MessagePriority.Normal, payload: buildMessagePayload("hi bob", null) });
    slots(1);
    // Height 1: the lone validator's proposal passes at once; epoch 1 starts at height 4.
    await waitFor(() => node.status().height >= 1, 5_000, "block 1");
    expect(await reader.proposals()).toMatchObject({ open: [], scheduled: [{ proposalId: 1, parameter: "minFeePerByte", value: "25", effectiveHeight: 4 }] });
    expect(await reader.proposal(1)).toMatchObject({ status: "passed", effectiveHeight: 4 });
    expect(await refusal(reader.proposal(7))).toMatchObject({ reason: "UNKNOWN_PROPOSAL" });
    // The feed looks at the chain on a timer: let it see the change scheduled before it is enacted.
    await waitFor(() => events.some((e) => e.topic === "governance" && e.event.type === "passed"), 5_000, "the passed event");
    slots(2);
    await waitFor(() => node.status().height >= 3, 5_000, "block 3");
    expect((await reader.chainInfo()).minFeePerByte).toBe("25");
    await waitFor(() => events.some((e) => e.topic === "governance" && e.event.type === "enacted"), 5_000, "the enacted event");
    await waitFor(() => txEvents.some((e) => e.status === "final"), 5_000, "the proposal's final status");
    const topics = (t: string) => events.filter((e) => e.topic === t).map((e) => e.event);
    expect(topics("newHeads").map((e) => e.height)).toEqual([1, 2, 3]);
    expect(topics("finalized").at(-1)).toMatchObject({ height: 3 });
    expect(topics("messages")).toMatchObject([{ hash: message.prepared.hash, text: "hi bob", height: 1 }]);
    expect(topics("governance").map((e) => e.type)).toEqual(["proposed", "passed", "enacted"]);
    expect(topics("governance")[2]).toMatchObject({ parameter: "minFeePerByte", from: "10", value: "25", inForceFrom: 4 });
    expect(txEvents.map((e) => e.status)).toEqual(["pending", "final"]);
    await Promise.all(subs.map((s) => s.close()));
  });
});

describe("the message payload types", () => {
  it("never mistake text for an acknowledgement or a sealed text", () => {
    expect(openMessageText(new TextEncoder().encode("ÿþ are letters"), null)).toEqual({ type: "text", text: "ÿþ are letters" });
    expect(openMessageText(encodeAckPayload(new Uint8Array(32).fill(1)), null).type).toBe("ack");
    expect(toHex(encodeAckPayload(new Uint8Array(32))).slice(0, 4)).toBe("ff01");
  });
});
