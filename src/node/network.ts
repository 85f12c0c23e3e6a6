import { bytesEqual, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import type { Identity } from "../core/crypto/identity.js";
import { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from "../mesh/broker.js";
import { MessageEndpoint, type ReceivedMessage } from "../mesh/endpoint.js";
import { TransportError } from "../mesh/errors.js";
import { MeshChainError } from "../core/errors.js";
import { DEFAULT_PEER_OPTIONS, type PeerPersistence, PeerManager } from "./peers.js";
import { MessageType } from "../mesh/frame.js";
import { helloCodec, statusCodec } from "../mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../mesh/meshtastic/node-number.js";
import { Priority } from "../mesh/transport.js";
import { MQTT_MTU, MqttTransport } from "../mesh/transports/mqtt.js";
import type { ChainTip } from "../storage/chain-store.js";
import type { Logger } from "./logger.js";
import { RadioSide, type RadioOptions } from "./radio.js";
import { RecentKeys } from "../mesh/transports/common.js";
import { sha256 } from "../core/crypto/hash.js";

const messageKey = (type: MessageType, payload: Uint8Array): string => toHex(sha256(Uint8Array.of(type), payload));

export interface NetworkOptions {
  /** "embedded" starts an MQTT broker in this process; otherwise a broker URL. */
  readonly broker: string;
  readonly brokerPort: number;
  /** Where the embedded broker listens (loopback unless set). */
  readonly brokerHost?: string;
  /** The login at the broker; the embedded broker then requires it of every client. */
  readonly brokerAuth?: { readonly username: string; readonly password: string };
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
  /** A Meshtastic radio reached through its MQTT gateway; absent for an IP-only node. */
  readonly radio?: RadioOptions;
  /** False for a radio-only node: the broker then only carries the radio's gateway traffic. Default true. */
  readonly ipPeers?: boolean;
}

/** Too big for the radio: sync and snapshots travel on the IP transport only. */
const IP_ONLY = new Set<MessageType>([MessageType.SyncRequest, MessageType.SyncResponse, MessageType.SnapshotRequest, MessageType.SnapshotChunk]);

/** What a node with both transports passes across (LoRa ↔ IP); hellos and statuses name their own sender and stay put. */
const RELAYED: ReadonlyMap<MessageType, Priority> = new Map([
  [MessageType.Vote, Priority.Consensus], [MessageType.Block, Priority.Consensus], [MessageType.CompactBlock, Priority.Consensus],
  [MessageType.CertifiedBlock, Priority.Consensus], [MessageType.Evidence, Priority.Consensus], [MessageType.Transaction, Priority.Transaction],
  [MessageType.GetBlock, Priority.Sync], [MessageType.GetBlockRange, Priority.Sync], [MessageType.GetTransactions, Priority.Sync], [MessageType.BlockTransactions, Priority.Sync], [MessageType.GetSenderTransactions, Priority.Sync],
  [MessageType.ChainStatus, Priority.Control],
]);

/** How long a message from IP waits before going on air, so that another bridge's copy heard first cancels ours. */
const RADIO_RELAY_PAUSE_MS = 3_000;

export const PROTOCOL_VERSION = 1;

/** A message from a peer that is known and not banned, for the service that handles its type. */
export type MessageHandler = (m: ReceivedMessage) => void;

/**
 * The node's transports: MQTT between nodes with an IP link (through an embedded broker or a given
 * one) and, optionally, a Meshtastic radio through its MQTT gateway. A signed hello at start and a
 * signed status at each status interval go out on both; peers are those whose own signatures verify.
 * With both transports the node bridges: what it hears on LoRa goes to IP at once (never back to
 * LoRa: the radios already flooded it), and what it hears on IP goes on air after a short pause
 * unless another bridge's copy was heard there first. Each message crosses once.
 */
export class NodeNetwork {
  private broker: EmbeddedBroker | null = null;
  private transport: MqttTransport | null = null;
  private endpoint: MessageEndpoint | null = null;
  private radio: RadioSide | null = null;
  /** Messages this node has seen, by type and content: each crosses between transports once. */
  private readonly crossed = new RecentKeys(8_192);
  private readonly heardOnRadio = new RecentKeys(8_192);
  private readonly handlers = new Map<MessageType, MessageHandler>();
  private readonly peerListeners = new Set<(node: number) => void>();
  readonly peers: PeerManager;
  readonly nodeNumber: number;

  constructor(
    private readonly opts: NetworkOptions,
    private readonly deps: { identity: Identity; clock: Clock; random: () => number; logger: Logger; tip: () => ChainTip; finalizedHeight: () => number; peerStore?: PeerPersistence },
  ) {
    this.nodeNumber = nodeNumberFromPublicKey(deps.identity.ed25519.publicKey);
    this.peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock: deps.clock, ...(deps.peerStore === undefined ? {} : { persistence: deps.peerStore }) });
  }

  /** Route one message type (other than hello and status, which the network handles) to a service. */
  handle(type: MessageType, handler: MessageHandler): void {
    this.handlers.set(type, handler);
  }

  /** Messages of this type are dropped again (their service stopped). */
  unhandle(type: MessageType): void {
    this.handlers.delete(type);
  }

  /** Told whenever a peer's signed hello or status updated what we know of its chain. */
  onPeerUpdate(listener: (node: number) => void): () => void {
    this.peerListeners.add(listener);
    return () => this.peerListeners.delete(listener);
  }

  /** Send a message to every peer; resolves false (and logs) when the transport refused it. */
  async send(type: MessageType, payload: Uint8Array, priority: Priority): Promise<boolean> {
    // Our own messages must not come back across the bridge.
    this.crossed.seen(messageKey(type, payload));
    const sent = this.endpoint === null ? false : await this.sendOn(this.endpoint, type, payload, priority);
    if (this.radio === null || IP_ONLY.has(type)) return sent;
    return (await this.sendOn(this.radio.endpoint, type, payload, priority)) || sent;
  }

  /** Whether peers can be reached over IP (sync and checkpoints need it). */
  get hasIpPeers(): boolean {
    return this.endpoint !== null;
  }

  private async sendOn(endpoint: MessageEndpoint, type: MessageType, payload: Uint8Array, priority: Priority): Promise<boolean> {
    try {
      await endpoint.send(type, payload, priority);
      return true;
    } catch (e) {
      this.deps.logger.warn({ type: MessageType[type], transport: endpoint.transport.kind, reason: e instanceof Error ? e.message : String(e) }, "message not sent");
      return false;
    }
  }

  /** Own airtime in the last hour; null without a radio. */
  get airtimeSeconds(): number | null {
    return this.radio?.lastHourAirtimeSeconds ?? null;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  get brokerUrl(): string | null {
    return this.broker?.url ?? (this.opts.broker === "embedded" ? null : this.opts.broker);
  }

  async start(): Promise<void> {
    let url = this.opts.broker;
    if (url === "embedded") {
      this.broker = await this.startBroker();
      url = this.broker.url;
      this.deps.logger.info({ url }, "embedded MQTT broker listening");
    }
    if (this.opts.ipPeers !== false) {
      const transport = new MqttTransport({ link: { url, clientId: `meshchain-${this.nodeNumber.toString(16)}`, ...this.opts.brokerAuth }, chainId: this.opts.chainId, nodeNumber: this.nodeNumber }, this.deps);
      this.transport = transport;
      // Sync answers fill a whole IP frame; the radio side keeps its smaller messages.
      this.endpoint = new MessageEndpoint(transport, { maxMessageBytes: MQTT_MTU }, this.deps);
      this.endpoint.onMessage((m) => this.onMessage(m, "ip"));
      this.endpoint.start();
      await transport.start();
    }
    if (this.opts.radio !== undefined) {
      const radioUrl = this.opts.radio.broker === "embedded" ? url : this.opts.radio.broker;
      // The radio on our own embedded broker logs in as every client there must.
      const radio = this.opts.radio.broker === "embedded" && this.opts.brokerAuth !== undefined && this.opts.radio.auth === undefined ? { ...this.opts.radio, auth: this.opts.brokerAuth } : this.opts.radio;
      this.radio = new RadioSide(radio, radioUrl, this.nodeNumber, this.deps);
      this.radio.onMessage((m) => this.onMessage(m, "radio"));
      await this.radio.start();
      this.deps.logger.info({ url: radioUrl, region: this.opts.radio.region, preset: this.opts.radio.preset, channel: this.opts.radio.channel.name }, "radio gateway connected");
    }
    await this.announce(MessageType.Hello);
  }

  private async startBroker(): Promise<EmbeddedBroker> {
    try {
      return await startEmbeddedBroker(this.embeddedBrokerOptions(this.opts.brokerPort));
    } catch (e) {
      if (!(e instanceof TransportError) || this.opts.brokerPort === 0) throw e;
      this.deps.logger.warn({ port: this.opts.brokerPort, reason: e.message }, "broker port taken; using a free port");
      return startEmbeddedBroker(this.embeddedBrokerOptions(0));
    }
  }

  private embeddedBrokerOptions(port: number): EmbeddedBrokerOptions {
    return { port, ...(this.opts.brokerHost === undefined ? {} : { host: this.opts.brokerHost }), ...(this.opts.brokerAuth === undefined ? {} : { auth: this.opts.brokerAuth }) };
  }

  /** Broadcast our signed hello or status. */
  async announce(type: MessageType.Hello | MessageType.Status): Promise<void> {
    if (this.endpoint === null && this.radio === null) return;
    // Each announcement (start, then every status interval) is also when silent peers are forgotten.
    this.peers.expire();
    const tip = this.deps.tip();
    const finalizedHeight = this.deps.finalizedHeight();
    const { identity } = this.deps;
    const timestamp = Math.floor(this.deps.clock.now() / 1000);
    const payload =
      type === MessageType.Hello
        ? helloCodec.encode({ protocolVersion: PROTOCOL_VERSION, chain: this.opts.genesisHash.slice(0, 8), publicKey: identity.ed25519.publicKey, nodeNumber: this.nodeNumber, tipHeight: tip.height, finalizedHeight, roles: 1, timestamp }, this.opts.chainId, identity.ed25519)
        : statusCodec.encode({ address: identity.address, tipHeight: tip.height, tipHash: tip.hash.slice(0, 8), finalizedHeight, timestamp }, this.opts.chainId, identity.ed25519);
    await this.send(type, payload, Priority.Control);
  }

  /** Pass a peer's message to the other transport, once. */
  private bridge(m: ReceivedMessage, via: "ip" | "radio"): void {
    const priority = RELAYED.get(m.type);
    if (this.radio === null || this.endpoint === null || priority === undefined) return;
    const key = messageKey(m.type, m.payload);
    if (via === "radio") this.heardOnRadio.seen(key);
    if (this.crossed.seen(key)) return;
    if (via === "radio") {
      void this.sendOn(this.endpoint, m.type, m.payload, priority);
      return;
    }
    const radio = this.radio;
    this.deps.clock.setTimeout(() => {
      if (this.radio !== radio || this.heardOnRadio.seen(key)) return;
      void this.sendOn(radio.endpoint, m.type, m.payload, priority);
    }, Math.floor(this.deps.random() * RADIO_RELAY_PAUSE_MS));
  }

  private onMessage(m: ReceivedMessage, via: "ip" | "radio"): void {
    const from = m.meta.from;
    if (this.peers.isBanned(from)) return;
    if (this.peers.get(from) !== undefined) this.bridge(m, via);
    const seen = { hopsAway: m.meta.hopsAway, snr: m.meta.snr };
    try {
      if (m.type === MessageType.Hello) {
        const hello = helloCodec.decode(m.payload);
        const h = hello.body;
        if (!helloCodec.verify(hello, this.opts.chainId) || h.nodeNumber !== from) return this.peers.record(from, { kind: "invalid", reason: "BAD_SIGNATURE" });
        if (!bytesEqual(h.chain, this.opts.genesisHash.slice(0, 8))) return;
        const isNew = this.peers.heard(from, h.publicKey, { tipHeight: h.tipHeight, finalizedHeight: h.finalizedHeight, ...seen });
        this.peers.record(from, { kind: "valid" });
        for (const l of this.peerListeners) l(from);
        if (isNew) {
          this.deps.logger.info({ peer: toHex(helloCodec.address(h)), node: from.toString(16), tipHeight: h.tipHeight, hops: m.meta.hopsAway }, "peer joined");
          // A newcomer has not heard our hello: answer it once.
          void this.announce(MessageType.Hello);
        }
      } else if (m.type === MessageType.Status) {
        const peer = this.peers.get(from);
        const status = statusCodec.decode(m.payload);
        if (peer === undefined) return;
        if (!statusCodec.verify(status, this.opts.chainId, peer.publicKey)) return this.peers.record(from, { kind: "invalid", reason: "BAD_SIGNATURE" });
        this.peers.heard(from, peer.publicKey, { tipHeight: status.body.tipHeight, finalizedHeight: status.body.finalizedHeight, ...seen });
        this.peers.record(from, { kind: "valid" });
        for (const l of this.peerListeners) l(from);
      } else if (this.peers.get(from) !== undefined) {
        // Everything else only from peers that introduced themselves with a signed hello.
        this.handlers.get(m.type)?.(m);
      }
    } catch (e) {
      // Malformed control messages are dropped and held against their sender.
      this.peers.record(from, { kind: "invalid", reason: e instanceof MeshChainError ? e.code : "MALFORMED" });
    }
  }

  async stop(): Promise<void> {
    await this.radio?.stop();
    this.radio = null;
    this.endpoint?.stop();
    this.endpoint = null;
    await this.transport?.stop();
    this.transport = null;
    await this.broker?.close();
    this.broker = null;
  }
}
