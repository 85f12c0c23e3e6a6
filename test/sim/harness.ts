import { StorageError } from "../../src/storage/errors.js";
import type { Block } from "../../src/core/block/block.js";
import { bytesEqual, toHex } from "../../src/core/bytes.js";
import { buildGenesisDocument } from "../../src/core/chain/genesis-builder.js";
import { ManualClock } from "../../src/core/clock.js";
import type { Identity } from "../../src/core/crypto/identity.js";
import { type Genesis, genesisChanges, genesisHash, parseGenesis } from "../../src/core/genesis.js";
import type { ConsensusMode } from "../../src/core/state/consensus-mode.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { StateStore } from "../../src/core/state/store.js";
import { type DecodedTx, txHash } from "../../src/core/tx/codec.js";
import { TxKind } from "../../src/core/tx/types.js";
import { ConsensusEngine, type EngineDeps, type LinkProfile, RADIO_LINK } from "../../src/consensus/engine.js";
import { PoolAdapter } from "../../src/node/engine-adapters.js";
import { DEFAULT_MEMPOOL_OPTIONS, TxPool } from "../../src/node/mempool.js";
import type { ConsensusMessage, Reach } from "../../src/consensus/messages.js";
import { legacyLock, MemorySignerSafety } from "../../src/consensus/signer-safety.js";
import { finalizesParent } from "../../src/consensus/finality.js";
import { isQuorum, totalWeight, votingWeights, type WeightedValidator } from "../../src/consensus/weights.js";
import { applyBlock, type ParentInfo } from "../../src/core/state/block-transition.js";
import { MeshChainError } from "../../src/core/errors.js";
import type { SignerSafety } from "../../src/core/chain/signer-safety.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { CHAIN_ID, COIN, GENESIS_TIME, testIdentity, tx } from "../fixtures/chain.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { blockHash } from "../../src/core/block/header.js";
import { SqliteSignerSafety } from "../../src/storage/signer-store.js";
import { SqliteNotarizedBlocks } from "../../src/storage/notarized-store.js";
import { MemoryNotarizedBlocks, type NotarizedBlockStore } from "../../src/core/chain/notarized-blocks.js";
import { parentInfo, type TreeBlock } from "../../src/consensus/block-tree.js";
import { join } from "node:path";
import { seededRandom } from "../fixtures/random.js";

/**
 * The radio's answering and vote pacing, with full proposals: the radio simulations were written
 * before compact relay and keep their outcomes (the devnet runs the whole RADIO_LINK).
 */
export const SIM_RADIO_LINK: LinkProfile = { ...RADIO_LINK, compactRelay: false };

/** Every simulation shares one verification cache: BLS pairings are pure and slow. */
const sharedVerifier = new BlsVerifier(CHAIN_ID, 200_000);

/**
 * Identities by name and genesis documents by the options that shape them, kept for the file's
 * simulations: deriving BLS keys and making and checking each validator's proof of possession cost
 * about 0.3 s of CPU per simulation, as much as a short run, and give the same result every time.
 * Both are read-only once made; each simulation still starts from its own state store.
 */
const identities = new Map<string, Identity>();
const geneses = new Map<string, Genesis>();

function simIdentity(name: string): Identity {
  let identity = identities.get(name);
  if (identity === undefined) identities.set(name, (identity = testIdentity(name)));
  return identity;
}

function cached(key: string, make: () => Genesis): Genesis {
  let genesis = geneses.get(key);
  if (genesis === undefined) geneses.set(key, (genesis = make()));
  return genesis;
}

export interface NetworkConditions {
  /** Chance each delivery is lost. */
  loss: number;
  /** Delivery delay range, ms. */
  delayMs: [number, number];
}

export interface SimOptions {
  validators: number;
  seed: number;
  conditions?: Partial<NetworkConditions>;
  params?: Record<string, bigint>;
  /** Stake per validator (default equal). */
  stakes?: bigint[];
  /** Keep each validator's signing record in a real SQLite file in this directory. */
  signerDir?: string;
  /** The genesis's consensus mode (default dpop); poa members stake nothing. */
  consensus?: ConsensusMode;
  /** Funded accounts, not validators at genesis, that may register later (`joiner-0`, …); see `addNode`. */
  joiners?: number;
  /** Engine options as on a radio channel (control rates, paced votes). */
  engine?: Pick<EngineDeps, "controlRates" | "link" | "unsafeDisableLockForTests">;
  /**
   * Each validator keeps its notarized blocks above finality (as a validator's notarized.db; SQLite
   * under signerDir when given) and its finalized tip (as its chain store), so that
   * `restart(i, { fromStore: true })` starts where a restarted node does.
   */
  keepNotarized?: boolean;
  /**
   * Which nodes hear each other directly (indexes): engines are told who they heard at 0 hops, and a
   * message sent to the neighbours alone reaches only these (a mesh-wide one reaches every node, as
   * the flood would). Absent: engines hear nobody directly and send everything mesh-wide.
   */
  direct?: (from: number, to: number) => boolean;
}

interface SimNode {
  readonly index: number;
  readonly identity: Identity;
  signer: SignerSafety;
  engine: ConsensusEngine;
  /** The node's own pool (src/node/mempool.ts), with no file: a restart here loses everything but the signing record. */
  pool: TxPool;
  /** The pool as the engine sees it, through the adapter a validator uses (gossip it refuses is dropped). */
  mempool: PoolAdapter;
  alive: boolean;
  group: number;
  /** Extra delay on everything this node sends (a far or poorly connected validator). */
  extraDelayMs: number;
  /** Sign whatever it is asked to, twice (a Byzantine equivocator). */
  equivocate: boolean;
  /** Its store fails every commit (a full disk): the engine must not move its finality past what is stored. */
  storeFailing: boolean;
  /** The highest block its store committed. */
  storedHeight: number;
  /** With `keepNotarized`: its notarized blocks above finality, and its finalized tip (null: genesis). */
  notarized: NotarizedBlockStore | null;
  storedTip: TreeBlock | null;
}

/**
 * A deterministic in-process network of consensus engines: a virtual clock, a seeded random source,
 * and a message layer that can drop, delay, reorder and partition.
 */
export class ConsensusSim {
  readonly clock: ManualClock;
  readonly random: () => number;
  readonly genesis: Genesis;
  readonly nodes: SimNode[] = [];
  readonly users: Identity[];
  readonly joiners: Identity[];
  private conditions: NetworkConditions;
  private readonly genesisHash: Uint8Array;
  private readonly genesisState: StateStore;
  private readonly nonces = new Map<number, number>();
  /** Every (validator, finalized height) → hash, to catch conflicting finality across nodes. */
  private readonly finalizedAt = new Map<number, string>();
  conflictingFinalized = 0;
  /** Messages broadcast, by kind. */
  readonly sentByKind = new Map<string, number>();
  /** Told every message as it is broadcast, with how far it was meant to travel. */
  onSend: ((from: number, message: ConsensusMessage, reach: Reach) => void) | null = null;
  private readonly engineOptions: Pick<EngineDeps, "controlRates" | "link" | "unsafeDisableLockForTests">;
  submitted: string[] = [];
  /** Every block proposed, by id. */
  readonly proposals = new Map<string, Block>();
  /** Validators whose every vote is lost the first time it is sent (a hidden node drowned out at the proposal). */
  readonly firstVotesLost = new Set<number>();
  private readonly votesSent = new Set<string>();
  /** Every (validator, slot) → block hashes it signed and sent, to catch double-signing. */
  private readonly signed = new Map<string, Set<string>>();
  /** Precommits made, by block id: the validators (address hex) that precommitted it (the oracle counts them as signed). */
  private readonly precommitted = new Map<string, Set<string>>();

  constructor(readonly opts: SimOptions) {
    this.engineOptions = opts.engine ?? {};
    this.random = seededRandom(opts.seed);
    this.conditions = { loss: 0, delayMs: [50, 400], ...opts.conditions };
    const validators = Array.from({ length: opts.validators }, (_, i) => simIdentity(`validator-${i}`));
    this.users = Array.from({ length: 4 }, (_, i) => simIdentity(`user-${i}`));
    this.joiners = Array.from({ length: opts.joiners ?? 0 }, (_, i) => simIdentity(`joiner-${i}`));
    const poa = opts.consensus === "poa";
    const shape = [opts.validators, opts.joiners ?? 0, opts.consensus ?? "", opts.stakes ?? [], opts.params ?? {}];
    this.genesis = cached(JSON.stringify(shape, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)), () => parseGenesis(buildGenesisDocument({
      chainId: CHAIN_ID,
      genesisTime: GENESIS_TIME,
      ...(opts.consensus === undefined ? {} : { consensus: opts.consensus }),
      validators: validators.map((identity, i) => ({ identity, selfBond: poa ? 0n : (opts.stakes?.[i] ?? 10_000n * COIN), commissionBps: 1_000 })),
      accounts: [
        ...this.users.map((identity) => ({ identity, balance: 1_000_000n * COIN })), ...validators.map((identity) => ({ identity, balance: 1_000n * COIN })),
        ...this.joiners.map((identity) => ({ identity, balance: 100_000n * COIN })),
      ],
      params: { slotMs: 10_000n, fallbackDelayMs: 3_000n, fallbackRanks: 2n, heartbeatSlots: 1_000n, maxValidatorShareBps: 3_300n, ...opts.params },
    })));
    this.genesisState = new StateStore();
    this.genesisState.commit(genesisChanges(this.genesis));
    this.genesisHash = genesisHash(this.genesis, this.genesisState.root);
    this.clock = new ManualClock(GENESIS_TIME * 1000);
    validators.forEach((identity, index) => {
      const signer = this.openSigner(index);
      this.nodes.push(this.makeNode(index, identity, signer));
    });
  }

  private makeNode(index: number, identity: Identity, signer: SignerSafety): SimNode {
    // The engine's callbacks need the node, so the engine comes last.
    const node: SimNode = { index, identity, signer, ...this.newPool(), engine: null as unknown as ConsensusEngine, alive: true, group: 0, extraDelayMs: 0, equivocate: false, storeFailing: false, storedHeight: 0, notarized: this.openNotarized(index), storedTip: null };
    node.engine = this.makeEngine(node);
    return node;
  }

  /**
   * A fresh pool at the engine's starting point (genesis), as a validator's is at its store's head:
   * it moves to each finalized block in `onFinalized`, as the node's does once the store committed.
   */
  private newPool(): Pick<SimNode, "pool" | "mempool"> {
    const slots = SlotClock.of(this.genesis, this.genesis.params);
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: CHAIN_ID }, { state: this.genesisState, height: 0, slot: 0 }, undefined, () => slots.slotAt(this.clock.now()));
    return { pool, mempool: new PoolAdapter(pool) };
  }

  private openSigner(index: number): SignerSafety {
    return this.opts.signerDir === undefined ? new MemorySignerSafety() : new SqliteSignerSafety(join(this.opts.signerDir, `signer-${index}.db`));
  }

  private openNotarized(index: number): NotarizedBlockStore | null {
    if (this.opts.keepNotarized !== true) return null;
    return this.opts.signerDir === undefined ? new MemoryNotarizedBlocks() : new SqliteNotarizedBlocks(join(this.opts.signerDir, `notarized-${index}.db`));
  }

  private makeEngine(node: SimNode, root: TreeBlock | null = null): ConsensusEngine {
    // Every signature the record allows is noted where it is made, sent or not: the safety oracle
    // (`conflictingFinalByVotes`) counts votes as signed, not as delivered.
    const signer: SignerSafety = {
      approve: (slot, hash, parentSlot) => {
        node.signer.approve(slot, hash, parentSlot);
        this.record(node.identity, slot, hash);
      },
      approvePrecommit: (slot, hash) => {
        node.signer.approvePrecommit(slot, hash);
        this.recordPrecommit(node.identity, slot, hash);
      },
      last: () => node.signer.last(),
    };
    const rootState = root === null ? this.genesisState.clone() : root.state.clone();
    const rootInfo = root === null ? { height: 0, hash: this.genesisHash, slot: 0, timestamp: this.genesis.genesisTime } : parentInfo(root);
    return new ConsensusEngine(this.genesis, rootState, rootInfo, {
      ...(node.notarized === null ? {} : { notarized: node.notarized }),
      clock: this.clock,
      identity: node.identity,
      signer,
      verifier: sharedVerifier,
      mempool: node.mempool,
      network: {
        broadcast: (m, reach) => this.broadcast(node, m, reach),
        ...(this.opts.direct === undefined ? {} : { heardDirectly: (addresses: readonly Uint8Array[]) => this.heardDirectly(node, addresses) }),
      },
      ...this.engineOptions,
      onFinalized: (blocks) => {
        if (node.storeFailing) throw new StorageError("DISK_FULL", "the simulated disk is full");
        node.storedHeight = Math.max(node.storedHeight, ...blocks.map((b) => b.height));
        for (const b of blocks) {
          const seen = this.finalizedAt.get(b.height);
          if (seen === undefined) this.finalizedAt.set(b.height, b.id);
          else if (seen !== b.id) this.conflictingFinalized++;
        }
        const head = blocks[blocks.length - 1];
        if (head !== undefined) node.pool.onNewHead({ state: head.state, height: head.height, slot: head.slot });
        if (head !== undefined) node.storedTip = head;
      },
    });
  }

  start(): void {
    for (const n of this.nodes) n.engine.start();
  }

  private record(validator: Identity, slot: number, hash: Uint8Array): void {
    const key = `${toHex(validator.address)}:${slot}`;
    const set = this.signed.get(key) ?? new Set<string>();
    set.add(toHex(hash));
    this.signed.set(key, set);
  }

  private recordPrecommit(validator: Identity, _slot: number, hash: Uint8Array): void {
    const id = toHex(hash);
    this.precommitted.set(id, (this.precommitted.get(id) ?? new Set<string>()).add(toHex(validator.address)));
  }

  /** (validator, slot) pairs signed for more than one block, by validators not set to equivocate. */
  doubleSigned(): number {
    const honest = new Set(this.nodes.filter((n) => !n.equivocate).map((n) => toHex(n.identity.address)));
    return [...this.signed.entries()].filter(([k, v]) => v.size > 1 && honest.has(k.split(":")[0]!)).length;
  }

  private heardDirectly(node: SimNode, addresses: readonly Uint8Array[]): boolean {
    const direct = this.opts.direct;
    return direct !== undefined && addresses.every((a) => this.nodes.some((n) => bytesEqual(n.identity.address, a) && direct(n.index, node.index)));
  }

  private broadcast(from: SimNode, message: ConsensusMessage, reach: Reach = "mesh"): void {
    if (!from.alive) return;
    this.sentByKind.set(message.kind, (this.sentByKind.get(message.kind) ?? 0) + 1);
    this.onSend?.(from.index, message, reach);
    // An aggregate a validator sends carries its own vote: recorded and dropped like one (vote-aggregation.ts).
    if (message.kind === "vote" || message.kind === "vote-aggregate") {
      const id = message.kind === "vote" ? toHex(message.blockHash) : [...this.proposals.keys()].find((k) => k.startsWith(toHex(message.blockRef)));
      const block = id === undefined ? undefined : this.proposals.get(id);
      if (block !== undefined) this.record(from.identity, block.header.slot, blockHash(block.header));
      if (this.firstVotesLost.has(from.index)) {
        const key = `${from.index}:${id ?? toHex(message.signature)}`;
        const first = !this.votesSent.has(key);
        this.votesSent.add(key);
        if (first) return;
      }
    }
    if (message.kind === "proposal") {
      this.record(from.identity, message.block.header.slot, blockHash(message.block.header));
      this.proposals.set(toHex(blockHash(message.block.header)), message.block);
      if (from.equivocate) return this.equivocate(from, message.block);
    }
    const direct = this.opts.direct;
    this.deliver(from, message, reach === "neighbours" && direct !== undefined ? this.nodes.filter((n) => direct(from.index, n.index)) : this.nodes);
  }

  /** A Byzantine proposer: a twin block for the same slot, each version to half of the others. */
  private equivocate(from: SimNode, block: Block): void {
    const parentState = from.engine.stateAfter(toHex(block.header.parentHash));
    const others = this.nodes.filter((n) => n !== from);
    const half = Math.ceil(others.length / 2);
    this.deliver(from, { kind: "proposal", block }, others.slice(0, half));
    if (parentState === undefined) return;
    const twin = produceBlock(parentState, {
      chainId: CHAIN_ID,
      parent: { height: block.header.height - 1, hash: block.header.parentHash, slot: 0, timestamp: 0 },
      slot: block.header.slot,
      timestamp: block.header.timestamp + 1,
      candidates: [],
      certificate: block.header.certificate,
      proposer: { address: from.identity.address, bls: from.identity.bls },
    }).block;
    this.record(from.identity, twin.header.slot, blockHash(twin.header));
    this.proposals.set(toHex(blockHash(twin.header)), twin);
    this.deliver(from, { kind: "proposal", block: twin }, others.slice(half));
  }

  /** A scripted adversary on the network: returns false to drop a message from `from` to `to` (judged when sent). */
  filter: ((from: number, to: number, message: ConsensusMessage) => boolean) | null = null;

  private deliver(from: SimNode, message: ConsensusMessage, targets: readonly SimNode[]): void {
    for (const to of targets) {
      if (to === from) continue;
      if (this.filter !== null && !this.filter(from.index, to.index, message)) continue;
      if (this.random() < this.conditions.loss) continue;
      const [lo, hi] = this.conditions.delayMs;
      const delay = lo + (hi - lo) * this.random() + from.extraDelayMs;
      this.clock.setTimeout(() => {
        // Partitions are judged at delivery: a message in flight when the link breaks is lost.
        if (to.alive && to.group === from.group) to.engine.receive(message);
      }, delay);
    }
  }

  run(ms: number): void {
    this.clock.advance(ms);
  }

  /**
   * Submit a random user's transfer at the user's own node (another live one while it is down), as
   * a wallet does, gossiped to the others.
   */
  submitTransfer(): void {
    const live = this.nodes.filter((n) => n.alive);
    const fallback = live[Math.floor(this.random() * live.length)];
    const u = Math.floor(this.random() * this.users.length);
    const home = this.nodes[u % this.nodes.length];
    const node = home?.alive === true ? home : fallback;
    if (node === undefined) return;
    const nonce = this.nonces.get(u) ?? 0;
    this.nonces.set(u, nonce + 1);
    const t = tx(this.users[u]!, nonce, { kind: TxKind.Transfer, to: this.users[(u + 1) % this.users.length]!.address, amount: 1n + BigInt(nonce) });
    this.submitted.push(toHex(txHash(t.bytes)));
    node.mempool.add(t);
    this.broadcast(node, { kind: "tx", tx: t });
  }

  /** A transfer every `everyMs` of virtual time, for `durationMs`. */
  runWithTraffic(durationMs: number, everyMs: number): void {
    const end = this.clock.now() + durationMs;
    while (this.clock.now() < end) {
      this.submitTransfer();
      this.run(Math.min(everyMs, end - this.clock.now()));
    }
  }

  /** Virtual time in `stepMs` steps until `done()` holds or `maxMs` has passed; the caller asserts the condition. */
  runUntil(done: () => boolean, maxMs: number, stepMs: number): void {
    const end = this.clock.now() + maxMs;
    while (this.clock.now() < end && !done()) this.run(Math.min(stepMs, end - this.clock.now()));
  }

  /**
   * Traffic as runWithTraffic, stopping at the first step where `done()` holds (or after `maxMs`):
   * a test runs until what it asserts is reached instead of for a fixed, generous duration. The
   * caller still asserts the condition, so running out of time fails the test.
   */
  runWithTrafficUntil(done: () => boolean, maxMs: number, everyMs: number): void {
    const end = this.clock.now() + maxMs;
    while (this.clock.now() < end && !done()) {
      this.submitTransfer();
      this.run(Math.min(everyMs, end - this.clock.now()));
    }
  }

  /** A node for an identity that was not a validator at genesis: it catches up from peers and votes once the chain seats it. */
  addNode(identity: Identity): number {
    const index = this.nodes.length;
    const node = this.makeNode(index, identity, this.openSigner(index));
    this.nodes.push(node);
    node.engine.start();
    return index;
  }

  /** Submit a signed transaction at node `at`, gossiped to the others. */
  submit(t: DecodedTx, at = 0): void {
    const node = this.nodes[at]!;
    node.mempool.add(t);
    this.broadcast(node, { kind: "tx", tx: t });
  }

  crash(i: number): void {
    const n = this.nodes[i]!;
    n.alive = false;
    n.engine.stop();
  }

  /**
   * Restart from genesis with the same signing record (its durable file), catching up from peers.
   * `legacyRecord`: the record as a build before locks kept it (last slot and block only), so the
   * node takes the lock such a record implies (`legacyLock`).
   */
  restart(i: number, opts: { loseSigningRecord?: boolean; legacyRecord?: boolean; fromStore?: boolean } = {}): void {
    const n = this.nodes[i]!;
    if (opts.loseSigningRecord === true) n.signer = new MemorySignerSafety();
    else if (opts.legacyRecord === true) {
      const last = n.signer.last();
      if (n.signer instanceof SqliteSignerSafety) n.signer.close();
      n.signer = new MemorySignerSafety(last === null ? null : { slot: last.slot, blockHash: last.blockHash, lock: legacyLock(last.slot) });
    }
    // A real restart reopens the signing record from disk.
    else if (this.opts.signerDir !== undefined) {
      (n.signer as SqliteSignerSafety).close();
      n.signer = this.openSigner(i);
    }
    Object.assign(n, this.newPool());
    // `fromStore`: on its finalized tip with its kept notarized blocks, as a node restarts on its disk.
    const root = opts.fromStore === true ? n.storedTip : null;
    if (root !== null) n.pool.onNewHead({ state: root.state, height: root.height, slot: root.slot });
    if (n.notarized instanceof SqliteNotarizedBlocks) {
      n.notarized.close();
      n.notarized = this.openNotarized(i);
    }
    n.engine = this.makeEngine(n, root);
    n.alive = true;
    n.engine.start();
  }

  partition(groups: number[][]): void {
    groups.forEach((g, gi) => g.forEach((i) => (this.nodes[i]!.group = gi)));
  }

  heal(): void {
    for (const n of this.nodes) n.group = 0;
  }

  /** Hand a message straight to one node, as if it had just arrived. */
  deliverTo(i: number, message: ConsensusMessage): void {
    this.nodes[i]!.engine.receive(message);
  }

  /** Delay everything a validator sends (a far or poorly connected validator). */
  setExtraDelay(i: number, ms: number): void {
    this.nodes[i]!.extraDelayMs = ms;
  }

  setEquivocating(i: number, on: boolean): void {
    this.nodes[i]!.equivocate = on;
  }

  close(): void {
    for (const n of this.nodes) if (n.signer instanceof SqliteSignerSafety) n.signer.close();
  }

  setConditions(c: Partial<NetworkConditions>): void {
    this.conditions = { ...this.conditions, ...c };
  }

  /** Each proposed block executed once from genesis, for its voting set and weights (null: invalid, or an ancestor unknown). */
  private readonly executed = new Map<string, { readonly state: StateStore; readonly info: ParentInfo; readonly weights: readonly WeightedValidator[] } | null>();

  private executedBlock(id: string): { readonly state: StateStore; readonly info: ParentInfo; readonly weights: readonly WeightedValidator[] } | null {
    const known = this.executed.get(id);
    if (known !== undefined) return known;
    let entry = null;
    if (id === toHex(this.genesisHash)) {
      const info = { height: 0, hash: this.genesisHash, slot: 0, timestamp: this.genesis.genesisTime };
      entry = { state: this.genesisState, info, weights: votingWeights(new Ledger(this.genesisState), 0) };
    } else {
      const block = this.proposals.get(id);
      const parent = block === undefined ? null : this.executedBlock(toHex(block.header.parentHash));
      if (block !== undefined && parent !== null) {
        try {
          const applied = applyBlock(parent.state, block, parent.info, { chainId: CHAIN_ID });
          const state = parent.state.clone();
          state.commit(applied.changes, applied.tree);
          const h = block.header;
          entry = { state, info: { height: h.height, hash: applied.hash, slot: h.slot, timestamp: h.timestamp }, weights: votingWeights(new Ledger(state), h.height) };
        } catch (e) {
          if (!(e instanceof MeshChainError)) throw e;
        }
      }
    }
    this.executed.set(id, entry);
    return entry;
  }

  /**
   * Safety judged from outside, over every signature made: a block signed by validators holding
   * more than two thirds of its own voting weight (the weights of its post-state, as the engine
   * counts them: notarizable, whether or not any node saw it so) whose child in the next slot is
   * notarizable too is final by the two-slot rule. Counts the pairs of such blocks where neither
   * descends from the other. Unlike `conflictingFinalized`, it needs no node to have noticed: a
   * broken lock shows here even when partitions keep the two finalities apart.
   */
  conflictingFinalByVotes(): number {
    const signers = new Map<string, Set<string>>();
    for (const [key, hashes] of this.signed) {
      const validator = key.split(":")[0]!;
      for (const h of hashes) signers.set(h, (signers.get(h) ?? new Set()).add(validator));
    }
    const notarizable = (id: string, by: Set<string> = signers.get(id) ?? new Set<string>()) => {
      const weights = this.executedBlock(id)?.weights;
      if (weights === undefined) return false;
      const signed = weights.filter((w) => by.has(toHex(w.address))).reduce((a, w) => a + w.weight, 0n);
      return isQuorum(signed, totalWeight(weights));
    };
    const final: string[] = [];
    for (const [id, block] of this.proposals) {
      const parentId = toHex(block.header.parentHash);
      const parent = this.proposals.get(parentId);
      if (parent === undefined || !notarizable(id) || !notarizable(parentId)) continue;
      if (finalizesParent(parent.header, block.header)) final.push(parentId);
    }
    // The precommit rule: a notarizable block precommitted by more than two thirds of its weight.
    for (const [id, by] of this.precommitted) if (notarizable(id) && notarizable(id, by)) final.push(id);
    const ancestors = (id: string): Set<string> => {
      const seen = new Set<string>();
      for (let b = this.proposals.get(id); b !== undefined; b = this.proposals.get(toHex(b.header.parentHash))) seen.add(toHex(blockHash(b.header)));
      return seen;
    };
    const lines = final.map((id) => ancestors(id));
    let conflicts = 0;
    for (let a = 0; a < final.length; a++) {
      for (let b = a + 1; b < final.length; b++) if (!lines[a]!.has(final[b]!) && !lines[b]!.has(final[a]!)) conflicts++;
    }
    return conflicts;
  }

  /** Lowest finalized height among the given (default: live) nodes. */
  minFinalized(nodes = this.nodes.filter((n) => n.alive)): number {
    return Math.min(...nodes.map((n) => n.engine.finalizedHeight));
  }

  /** Finalized chains of all nodes agree on every height they share. */
  finalizedAgree(): boolean {
    const chains = this.nodes.map((n) => n.engine.finalizedChain);
    for (let h = 0; ; h++) {
      const ids = chains.filter((c) => c.length > h).map((c) => c[h]);
      if (ids.length === 0) return true;
      if (new Set(ids).size > 1) return false;
    }
  }

  /** Transactions submitted that every live node holds in its finalized state. */
  finalizedTxCount(): number {
    const live = this.nodes.filter((n) => n.alive);
    const minNonce = (n: SimNode, u: number) => new Ledger(n.engine.finalizedState).account(this.users[u]!.address).nonce;
    let count = 0;
    for (let u = 0; u < this.users.length; u++) count += Math.min(...live.map((n) => minNonce(n, u)));
    return count;
  }
}
