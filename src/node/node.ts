import { join } from "node:path";
import { bytesEqual, toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Identity } from "../core/crypto/identity.js";
import type { Genesis } from "../core/genesis.js";
import { Ledger } from "../core/state/ledger.js";
import { ChainStore } from "../storage/chain-store.js";
import { SqliteMempoolStore } from "../storage/mempool-store.js";
import { SqlitePeerStore } from "../storage/peer-store.js";
import { votingSet } from "../core/state/validators.js";
import { decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import { gini, weigh } from "../consensus/weights.js";
import { DEFAULT_MEMPOOL_OPTIONS, TxPool } from "./mempool.js";
import { BlockProducer } from "./block-producer.js";
import type { Clock } from "./clock.js";
import { MessageType } from "../mesh/frame.js";
import { NodeError } from "./errors.js";
import { type NetworkOptions, NodeNetwork } from "./network.js";
import type { Logger } from "./logger.js";

export interface NodeOptions {
  readonly dataDir: string;
  readonly genesis: Genesis;
  readonly identity: Identity;
  readonly slotMs: number;
  readonly heartbeatSlots: number;
  readonly statusIntervalMs: number;
  /** The MQTT side; absent for a node that runs alone. */
  readonly network?: Omit<NetworkOptions, "chainId" | "genesisHash">;
}

export type SyncState = "idle" | "syncing" | "synced" | "behind" | "error";

export interface NodeStatus {
  readonly chainId: string;
  readonly height: number;
  readonly finalizedHeight: number;
  readonly tipHash: string;
  readonly slot: number;
  readonly lastBlockAgeSeconds: number;
  readonly address: string;
  readonly peers: number;
  readonly sync: { readonly state: SyncState; readonly percent: number; readonly etaSeconds: number | null };
  readonly mempool: { readonly transactions: number; readonly bytes: number };
  /** Own radio airtime in the last hour; null when the node has no radio transport. */
  readonly airtimeSeconds: number | null;
  readonly uptimeSeconds: number;
}

/** The composition root: builds the services from options and runs them in a fixed order. */
export class MeshChainNode {
  private store: ChainStore | null = null;
  private producer: BlockProducer | null = null;
  private statusTimer: unknown = null;
  private network: NodeNetwork | null = null;
  private pool: TxPool | null = null;
  private poolStore: SqliteMempoolStore | null = null;
  private peerStore: SqlitePeerStore | null = null;
  private startedAt = 0;

  constructor(
    private readonly opts: NodeOptions,
    private readonly deps: { clock: Clock; logger: Logger; random: () => number },
  ) {}

  async start(): Promise<void> {
    if (this.store !== null) throw new NodeError("ALREADY_STARTED", "node is already running");
    const { genesis, identity } = this.opts;
    const store = ChainStore.open(join(this.opts.dataDir, "chain.db"), genesis);
    try {
      const validators = new Ledger(store.state).validatorSet();
      if (!validators.some((v) => bytesEqual(v, identity.address))) {
        throw new NodeError("NOT_A_VALIDATOR", `${formatAddress(identity.address)} is not a validator of ${genesis.chainId}; this release runs validator nodes only`);
      }
      if (validators.length > 1) {
        throw new NodeError("NOT_SUPPORTED", `${genesis.chainId} has ${validators.length} validators; multi-validator consensus is not in this release`);
      }
    } catch (e) {
      store.close();
      throw e;
    }
    this.store = store;
    this.startedAt = this.deps.clock.now();
    this.poolStore = new SqliteMempoolStore(join(this.opts.dataDir, "mempool.db"));
    const head = () => ({ state: store.state, height: store.tip.height, slot: store.tip.slot });
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: genesis.chainId }, head(), this.poolStore);
    this.pool = pool;
    this.producer = new BlockProducer(
      { chainId: genesis.chainId, genesisTime: genesis.genesisTime, slotMs: this.opts.slotMs, heartbeatSlots: this.opts.heartbeatSlots },
      { store, identity, clock: this.deps.clock, logger: this.deps.logger, candidates: () => pool.candidates(), onCommitted: () => pool.onNewHead(head()) },
    );
    this.producer.start();
    if (this.opts.network !== undefined) {
      this.peerStore = new SqlitePeerStore(join(this.opts.dataDir, "peers.db"));
      this.network = new NodeNetwork(
        { ...this.opts.network, chainId: genesis.chainId, genesisHash: store.genesisHash },
        { identity, clock: this.deps.clock, random: this.deps.random, logger: this.deps.logger, tip: () => store.tip, peerStore: this.peerStore },
      );
      try {
        await this.network.start();
      } catch (e) {
        await this.stop();
        throw e;
      }
    }
    this.deps.logger.info({ chainId: genesis.chainId, height: store.tip.height, dataDir: this.opts.dataDir, address: formatAddress(identity.address), broker: this.network?.brokerUrl ?? "none" }, "node started");
    this.scheduleStatus();
  }

  /** The broker this node talks through, once started with a network. */
  get brokerUrl(): string | null {
    return this.network?.brokerUrl ?? null;
  }

  status(): NodeStatus {
    if (this.store === null) throw new NodeError("NOT_RUNNING", "node is not running");
    const tip = this.store.tip;
    const now = this.deps.clock.now();
    return {
      chainId: this.opts.genesis.chainId,
      height: tip.height,
      // A single validator's blocks are final as it commits them.
      finalizedHeight: tip.height,
      tipHash: toHex(tip.hash),
      slot: this.producer?.slotAt(now) ?? 0,
      lastBlockAgeSeconds: Math.max(0, Math.round(now / 1000 - tip.timestamp)),
      address: formatAddress(this.opts.identity.address),
      peers: this.network?.peerCount ?? 0,
      sync: { state: "synced", percent: 100, etaSeconds: 0 },
      mempool: { transactions: this.pool?.size ?? 0, bytes: this.pool?.sizeBytes ?? 0 },
      airtimeSeconds: null,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
    };
  }

  /** The weights' Gini coefficient (0 when one validator holds all the weight among one). */
  weightGini(): number {
    if (this.store === null) throw new NodeError("NOT_RUNNING", "node is not running");
    const ledger = new Ledger(this.store.state);
    return gini(weigh(votingSet(ledger, this.store.tip.height), ledger.params()));
  }

  /** Admit a signed transaction to the mempool; throws DecodeError or MempoolError saying why not. Returns its hash. */
  submitTransaction(bytes: Uint8Array): string {
    if (this.pool === null) throw new NodeError("NOT_RUNNING", "node is not running");
    const tx = decodeTxWithBytes(bytes);
    this.pool.add(tx);
    this.deps.logger.debug({ hash: toHex(txHash(tx.bytes)) }, "transaction accepted");
    return toHex(txHash(tx.bytes));
  }

  private scheduleStatus(): void {
    this.statusTimer = this.deps.clock.setTimeout(() => {
      const s = this.status();
      this.deps.logger.info({ height: s.height, tip: s.tipHash.slice(0, 12), slot: s.slot, lastBlockAgeS: s.lastBlockAgeSeconds, peers: s.peers }, "status");
      void this.network?.announce(MessageType.Status);
      this.scheduleStatus();
    }, this.opts.statusIntervalMs);
  }

  /** Stop producing, leave the network, then close the store; safe to call twice. */
  async stop(): Promise<void> {
    if (this.statusTimer !== null) this.deps.clock.clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.producer?.stop();
    this.producer = null;
    const network = this.network;
    this.network = null;
    await network?.stop();
    this.peerStore?.close();
    this.peerStore = null;
    this.pool = null;
    this.poolStore?.close();
    this.poolStore = null;
    if (this.store !== null) {
      const height = this.store.tip.height;
      this.store.close();
      this.store = null;
      this.deps.logger.info({ height }, "node stopped");
    }
  }
}
