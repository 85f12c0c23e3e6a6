import { bytesEqual, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import type { Identity } from "../core/crypto/identity.js";
import { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from "../mesh/broker.js";
import { type EndpointStats, MessageEndpoint, type ReceivedMessage } from "../mesh/endpoint.js";
import type { ReassemblyStats } from "../mesh/fragmentation.js";
import { TransportError } from "../mesh/errors.js";
import { StorageError } from "../storage/errors.js";
import { NodeError, RadioError } from "./errors.js";
import { MeshChainError } from "../core/errors.js";
import { DEFAULT_PEER_OPTIONS, type PeerPersistence, PeerManager, type StakeView } from "./peers.js";
import type { RelayGate, RelayRefusal } from "./relay-gate.js";
import { MessageType } from "../mesh/frame.js";
import { messageSpec, priorityOf } from "../mesh/messages/registry.js";
import { helloCodec, statusCodec } from "../mesh/messages/signed.js";
import { helloRequestCodec } from "../mesh/messages/hello-request.js";
import { nodeNumberFromPublicKey } from "../mesh/meshtastic/node-number.js";
import { type LinkChange, Priority, type SendOptions, type TransportStats } from "../mesh/transport.js";
import { MQTT_MTU, MqttTransport } from "../mesh/transports/mqtt.js";
import type { ChainTip } from "../storage/chain-store.js";
import type { Logger } from "./logger.js";
import { type LinkDiagnostics, RadioSide, type RadioDiagnostics, type RadioOptions, type RadioStatus, type RadioTransportFactory } from "./radio.js";
import { RecentKeys } from "../mesh/transports/common.js";
import { UnsignedRates } from "./unsigned-rates.js";
import { HelloReach } from "./hello-reach.js";
import { HelloHeal } from "./hello-heal.js";
import { sha256 } from "../core/crypto/hash.js";
import { helloMinIntervalMs, helloSpreadMs } from "../mesh/airtime/control-rates.js";
import { type PresetName, PRESETS, presetByName } from "../mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";

const messageKey = (type: MessageType, payload: Uint8Array): string => toHex(sha256(Uint8Array.of(type), payload));

/** The rate key every sender our peer table does not know shares (0 is no Meshtastic node number). */
const UNKNOWN_SENDERS = 0;

export interface NetworkOptions {
  /** "embedded" starts an MQTT broker in this process; otherwise a broker URL. */
  readonly broker: string;
  readonly brokerPort: number;
  /** When the embedded broker's port is taken, use a free one (for the default port only: a chosen port that is taken is an error). */
  readonly brokerPortFallback?: boolean;
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

/** How long a message from IP waits before going on air, so that another bridge's copy heard first cancels ours. */
const RADIO_RELAY_PAUSE_MS = 3_000;

export const PROTOCOL_VERSION = 1;

/** Failures of this node (its disk, its links, its own state), as opposed to a peer's bad data. */
const isOwnFailure = (e: MeshChainError<string>): boolean => e instanceof StorageError || e instanceof TransportError || e instanceof NodeError;

/** A link that keeps coming back makes us say hello again at most this often (over IP alone; on a radio, its preset's hello rate). */
const REHELLO_MIN_INTERVAL_MS = 60_000;

/** A restarted node whose peer table heard a peer this recently skips its hello at start on air (peersStillHoldUs). */
const RESTART_MEMORY_MS = DEFAULT_PEER_OPTIONS.expiryMs / 2;

/** Hello spreads after first hearing a neighbour before we ask for its missing key (hello-heal.ts, `settleMs`): LongFast 11.5 min. */
const HEAL_SETTLE_SPREADS = 5;

/** Hellos of newcomers are answered with ours at most this often over IP (one answer serves them all); on a radio, at its preset's hello rate. */
const HELLO_ANSWER_MIN_INTERVAL_MS = 10_000;

/**
 * Hello roles (docs/protocol.md): bit 0 as always sent, bit 2 a node that heard senders it does not
 * know and asks them to say hello; bit 3 (below) the hello at start. This node no longer asks (its status rounds on a radio are hellos,
 * which heal a missed key within one round) but still answers older nodes that do.
 */
const HELLO_ROLE_NODE = 0x01;
const HELLO_ROLE_ASKS_INTRODUCTIONS = 0x04;
/** Bit 3: the hello at start; its timestamp says since when its sender listens (see onHello). */
const HELLO_ROLE_STARTING = 0x08;

/** Why a peer's message changed nothing. */
export type NetworkRefusal =
  | "unverified" | "replayed" | "key_mismatch" | "peer_table_full" | "unknown_sender" | "other_chain" | "banned" | "rejected_data" | "hello_answer_coalesced" | "rate_limited";

const REFUSAL_OF_VERDICT = { replayed: "replayed", "key-mismatch": "key_mismatch", "table-full": "peer_table_full" } as const satisfies Record<string, NetworkRefusal>;

/** How long start-up waits for a link before the node runs on without it (it keeps retrying). */
const LINK_START_WAIT_MS = 5_000;

/** One of the node's links (the IP broker, the radio) as status and readiness show it. */
export interface LinkStatus {
  readonly state: "connecting" | "connected" | "disconnected";
  /** Why it is down, as the socket, the broker or the radio said it. */
  readonly reason: string | null;
  /** Since when (ms on the node's clock) it has been in this state. */
  readonly sinceMs: number;
}

export type LinkName = "ip" | "radio";

export interface NetworkDiagnostics {
  readonly ip: { readonly link: LinkDiagnostics; readonly transport: Readonly<TransportStats>; readonly endpoint: Readonly<EndpointStats>; readonly reassembly: Readonly<ReassemblyStats> } | null;
  readonly radio: RadioDiagnostics | null;
  /** Peers' messages that changed nothing, by reason. */
  readonly refusals: ReadonlyMap<NetworkRefusal, number>;
  /** Messages not passed across transports, by reason (empty without a relay gate). */
  readonly relayRefusals: ReadonlyMap<RelayRefusal, number>;
  /** Clients the embedded broker cut for a packet over the size limit (null: no embedded broker). */
  readonly brokerOversizeRefused: number | null;
  /** Our hellos sent since start, by why (what control's hello airtime went on). */
  readonly hellosSent: ReadonlyMap<HelloReason, number>;
}

/**
 * Why we said hello: at start, a link back up, in answer to a newcomer or an ask, as a status round on
 * a radio, mesh-wide for nodes out of our radio's range that our hello at start (to neighbours) missed,
 * or to our neighbours for one that asked for our key (a hello request naming us, hello-heal.ts).
 */
export type HelloReason = "start" | "rehello" | "answer" | "round" | "reach" | "heal";

/** A message from a peer that is known and not banned, for the service that handles its type. */
export type MessageHandler = (m: ReceivedMessage) => void;

/**
 * (Over 400 lines: the transports, the bridge between them, the links' state and the signed control
 * messages meet here; the rules themselves live apart, in peers.ts, relay-gate.ts and unsigned-rates.ts.)
 *
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
  private readonly connectListeners = new Set<(link: LinkName) => void>();
  private readonly joinListeners = new Set<(node: number) => void>();
  private readonly linkFailListeners = new Set<() => void>();
  private readonly links = new Map<LinkName, LinkStatus>();
  private lastRehelloAt = -Infinity;
  private lastHelloAnswerAt = -Infinity;
  /** When our last hello went to the transports (ms on our clock): a newcomer signed after it cannot have heard it. */
  private lastHelloAt = -Infinity;
  private startHelloTimer: unknown = null;
  private helloAnswerDue = false;
  /** The latest a newcomer owed an answer began listening (seconds); +∞: an answer that must go whatever we sent. */
  private answerOwedSince = Number.NEGATIVE_INFINITY;
  /** How far our hellos must go on air: neighbours at start, mesh-wide for nodes heard only through relays. */
  private readonly reach = new HelloReach();
  private lastReachHelloAt = -Infinity;
  private reachHelloDue = false;
  /** Our signed hello at start while it has gone only to our radio's neighbours. */
  private startHelloNotFlooded: Uint8Array | null = null;
  /** Neighbours' keys lost at start: asked for, and ours given, at 0 hops (made on first use: its times are the radio preset's). */
  private healValue: HelloHeal | null = null;
  /** A later look at whom to ask, for neighbours that fell quiet before their wait was over (one at a time). */
  private healCheck: unknown = null;
  private readonly refusalCounts = new Map<NetworkRefusal, number>();
  private readonly helloCounts = new Map<HelloReason, number>();
  private readonly unsignedRates = new UnsignedRates();
  /** Each peer's clock minus ours, ms, from the timestamp in its last signed hello or status. */
  private readonly clockOffsetsMs = new Map<number, number>();
  readonly peers: PeerManager;
  private nodeNumberValue: number;

  constructor(
    private readonly opts: NetworkOptions,
    private readonly deps: {
      identity: Identity; clock: Clock; random: () => number; logger: Logger; tip: () => ChainTip; finalizedHeight: () => number; peerStore?: PeerPersistence;
      /** The voting weights peers' claims are judged by; without it every claim counts (tools, tests). */
      stake?: () => StakeView;
      /** What may cross between transports; without it nothing is relayed. */
      relayGate?: RelayGate;
      /** The radio's transport, given instead of reached at `radio.broker` (the devnet's simulator). */
      radioTransport?: RadioTransportFactory;
    },
  ) {
    this.nodeNumberValue = nodeNumberFromPublicKey(deps.identity.ed25519.publicKey);
    this.peers = new PeerManager(DEFAULT_PEER_OPTIONS, { clock: deps.clock, ...(deps.peerStore === undefined ? {} : { persistence: deps.peerStore }), ...(deps.stake === undefined ? {} : { stake: deps.stake }) });
  }

  /** A node number whose key a signed hello proved, and not banned: the rest share a small budget. */
  private readonly isVerifiedSender = (node: number): boolean => this.peers.get(node) !== undefined && !this.peers.isBanned(node);

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

  /** Told each time a link (re)connects: what was said while it was down may not have reached anyone. */
  onLinkConnected(listener: (link: LinkName) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** Told when a peer we did not know introduces itself with a signed hello. */
  onPeerJoined(listener: (node: number) => void): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  /** The node's links by name; absent where the node has no such link. */
  linkStatus(): Partial<Record<LinkName, LinkStatus>> {
    return Object.fromEntries(this.links);
  }

  /** True while no link is up: the node hears no peer and no peer hears it. */
  get cutOff(): boolean {
    return this.links.size > 0 && ![...this.links.values()].some((l) => l.state === "connected");
  }

  /** Log each change of a link once, with its reason, and tell the listeners when it is back. */
  private watchLink(name: LinkName, onLinkChange: ((listener: (change: LinkChange) => void) => () => void) | undefined): void {
    this.links.set(name, { state: "connecting", reason: null, sinceMs: this.deps.clock.now() });
    onLinkChange?.((change) => {
      const now = this.deps.clock.now();
      const was = this.links.get(name);
      this.links.set(name, { state: change.state, reason: change.reason, sinceMs: now });
      if (change.state === "disconnected") {
        const retryInS = change.retryInMs === null ? null : Math.round(change.retryInMs / 100) / 10;
        if (change.logged !== true) this.deps.logger.warn({ link: name, reason: change.reason, retryInS }, was?.state === "connected" ? "link down; retrying" : "link not up; retrying");
        for (const l of this.linkFailListeners) l();
        return;
      }
      const downS = was === undefined || was.state === "connected" ? 0 : Math.round((now - was.sinceMs) / 1000);
      if (change.logged !== true) this.deps.logger.info({ link: name, ...(was?.state === "disconnected" ? { downS } : {}) }, was?.state === "disconnected" ? "link back up" : "link up");
      // Peers may have forgotten us while we were away: introduce ourselves again, once a minute at most
      // however often a flapping link comes back.
      if (was?.state === "disconnected" && now - this.lastRehelloAt >= this.rehelloMinIntervalMs()) {
        this.lastRehelloAt = now;
        void this.sayHello("rehello");
      }
      for (const l of this.connectListeners) l(name);
    });
  }

  /**
   * Wait at start until the link comes up or first fails (a refused connection fails at once), at most
   * a few seconds: a broker or radio that is not up must not keep the node from running.
   */
  private async startWithin(name: LinkName, starting: Promise<void>): Promise<void> {
    let timer: unknown = null;
    let stopWatching = (): void => undefined;
    const settled = new Promise<void>((resolve) => {
      timer = this.deps.clock.setTimeout(resolve, LINK_START_WAIT_MS);
      const listener = () => resolve();
      this.connectListeners.add(listener);
      const poll = () => {
        if (this.links.get(name)?.state === "disconnected") resolve();
      };
      this.linkFailListeners.add(poll);
      stopWatching = () => {
        this.connectListeners.delete(listener);
        this.linkFailListeners.delete(poll);
      };
    });
    try {
      await Promise.race([starting, settled]);
    } finally {
      this.deps.clock.clearTimeout(timer);
      stopWatching();
    }
    if (this.links.get(name)?.state !== "connected") {
      this.deps.logger.warn({ link: name, reason: this.links.get(name)?.reason ?? "no answer yet" }, "link not up at start; the node runs on and keeps retrying");
    }
  }

  /**
   * Send a message to every peer (at its registry priority unless told); resolves false (and logs) when
   * the transport refused it. `radio` (a frame's hop limit) applies on air only.
   */
  async send(type: MessageType, payload: Uint8Array, priority: Priority = priorityOf(type), radio?: SendOptions): Promise<boolean> {
    // Our own messages must not come back across the bridge.
    this.crossed.seen(messageKey(type, payload));
    const sent = this.endpoint === null ? false : await this.sendOn(this.endpoint, type, payload, priority);
    // Too big for the radio (sync, snapshots): the registry marks them ipOnly.
    if (this.radio === null || messageSpec(type).ipOnly === true) return sent;
    return (await this.sendOn(this.radio.endpoint, type, payload, priority, radio)) || sent;
  }

  /** Whether peers can be reached over IP (sync and checkpoints need it). */
  get hasIpPeers(): boolean {
    return this.endpoint !== null;
  }

  private async sendOn(endpoint: MessageEndpoint, type: MessageType, payload: Uint8Array, priority: Priority, options?: SendOptions): Promise<boolean> {
    try {
      await endpoint.send(type, payload, priority, options);
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

  /** Our 32-bit node number: from our key, or the radio's own when it sends as itself (stream API), fixed once started. */
  get nodeNumber(): number {
    return this.nodeNumberValue;
  }

  /** The radio's link and what it reported; null without a radio. */
  get radioStatus(): RadioStatus | null {
    return this.radio?.status ?? null;
  }

  /** The parts' own counters, for the status page and the metrics: null for a side this node does not have. */
  diagnostics(): NetworkDiagnostics {
    const transport = this.transport;
    const endpoint = this.endpoint;
    return {
      ip: transport === null || endpoint === null ? null : { link: { state: transport.linkState, ...transport.linkStats }, transport: transport.stats, endpoint: endpoint.stats, reassembly: endpoint.reassembly },
      radio: this.radio?.diagnostics() ?? null,
      refusals: this.refusalCounts,
      relayRefusals: this.deps.relayGate?.refused ?? new Map<RelayRefusal, number>(),
      brokerOversizeRefused: this.broker?.stats.oversizeRefused ?? null,
      hellosSent: this.helloCounts,
    };
  }

  private noteClock(from: number, timestampSeconds: number): void {
    this.clockOffsetsMs.set(from, timestampSeconds * 1000 - this.deps.clock.now());
    // Fresh keys cost a sender nothing: forget the offsets of nodes the peer table no longer holds,
    // so the map stays within twice the (bounded) peer table.
    if (this.clockOffsetsMs.size > 2 * Math.max(1, this.peers.size)) {
      for (const node of this.clockOffsetsMs.keys()) if (this.peers.get(node) === undefined) this.clockOffsetsMs.delete(node);
    }
  }

  /**
   * The median of our known peers' clock offsets, ms (positive: they are ahead of us); null with none.
   * Delivery delay makes a peer look behind, never ahead, and timestamps are whole seconds: read it
   * to within a second plus the delay.
   */
  get peerClockOffsetMs(): number | null {
    const offsets = [...this.clockOffsetsMs].filter(([node]) => this.peers.get(node) !== undefined).map(([, ms]) => ms).sort((a, b) => a - b);
    if (offsets.length === 0) return null;
    const mid = offsets.length >> 1;
    return offsets.length % 2 === 1 ? (offsets[mid] as number) : ((offsets[mid - 1] as number) + (offsets[mid] as number)) / 2;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  get brokerUrl(): string | null {
    return this.broker?.url ?? (this.opts.broker === "embedded" || this.opts.broker === "none" ? null : this.opts.broker);
  }

  async start(): Promise<void> {
    let url = this.opts.broker;
    if (url === "embedded") {
      this.broker = await this.startBroker();
      url = this.broker.url;
      this.deps.logger.info({ url }, "embedded MQTT broker listening");
    }
    // A radio on its stream API sends as itself: its node number becomes ours (on IP too), so that a
    // peer sees one sender and our signed hello names the number our frames arrive from.
    let radio: RadioSide | null = null;
    try {
      const wanted = this.opts.radio;
      // The radio on our own embedded broker logs in as every client there must.
      const options = wanted !== undefined && wanted.broker === "embedded" && this.opts.brokerAuth !== undefined && wanted.auth === undefined ? { ...wanted, auth: this.opts.brokerAuth } : wanted;
      radio = options === undefined ? null : await this.radioSide(options, url);
    } catch (e) {
      await this.broker?.close();
      this.broker = null;
      throw e;
    }
    if (radio?.radioNodeNumber != null && radio.radioNodeNumber !== 0) this.nodeNumberValue = radio.radioNodeNumber;
    if (this.opts.ipPeers !== false) {
      const transport = new MqttTransport({ link: { url, clientId: `meshchain-${this.nodeNumber.toString(16)}`, ...this.opts.brokerAuth }, chainId: this.opts.chainId, nodeNumber: this.nodeNumber }, this.deps);
      this.transport = transport;
      // Sync answers fill a whole IP frame; the radio side keeps its smaller messages.
      this.endpoint = new MessageEndpoint(transport, { maxMessageBytes: MQTT_MTU, isVerifiedSender: this.isVerifiedSender }, this.deps);
      this.endpoint.onMessage((m) => this.onMessage(m, "ip"));
      this.endpoint.start();
      this.watchLink("ip", (l) => transport.onLinkChange(l));
      await this.startWithin("ip", transport.start());
    }
    if (radio !== null) {
      this.radio = radio;
      radio.onMessage((m) => this.onMessage(m, "radio"));
      this.watchLink("radio", (l) => radio.onLinkChange(l));
      // A stream-API radio is connected before this point (its region and preset come from it).
      if (radio.status.state === "connected") this.links.set("radio", { state: "connected", reason: null, sinceMs: this.deps.clock.now() });
      if (radio.status.link === "injected") {
        // A given transport has no link to wait for (and a wait on a virtual clock would never end).
        await radio.start();
        this.links.set("radio", { state: "connected", reason: null, sinceMs: this.deps.clock.now() });
      } else {
        await this.startWithin("radio", radio.start());
      }
      const s = radio.status;
      this.deps.logger.info({ url: s.address, region: s.region, preset: s.preset, channel: this.opts.radio?.channel.name, node: this.nodeNumber.toString(16) }, s.link === "stream" ? "radio connected" : "radio gateway started");
    }
    if (this.radio === null) return this.sayHello("start");
    if (this.peersStillHoldUs()) {
      // A restart: the peers we heard before it still hold our key (they forget a node after 8 h of
      // silence), and a hello at start is a flood of every peer's radio (4.6 s of LongFast airtime a
      // restart, most of the extra control of a run with restarts). Our next round's hello refreshes
      // what they know of our chain; over IP the hello costs no airtime and still goes.
      this.deps.logger.info({ peers: this.peers.size }, "peers known from before the restart: no hello at start on air");
      this.reach.holdUs(this.peers.list().filter((p) => this.deps.clock.now() - p.lastSeen <= RESTART_MEMORY_MS).map((p) => p.node));
      if (this.endpoint === null) return;
      // Not our last hello for answering newcomers on air: none of them heard this one.
      this.helloCounts.set("start", (this.helloCounts.get("start") ?? 0) + 1);
      await this.sendOn(this.endpoint, MessageType.Hello, this.signedAnnouncement(MessageType.Hello, HELLO_ROLE_NODE | HELLO_ROLE_STARTING), priorityOf(MessageType.Hello));
      return;
    }
    // On air the hello is signed now (its timestamp says since when we listen) and sent after a
    // random pause: nodes powered together then all listen before any speaks, and a peer judges
    // from the timestamp whether we can have heard its own hello (onHello).
    const payload = this.signedAnnouncement(MessageType.Hello, HELLO_ROLE_NODE | HELLO_ROLE_STARTING);
    this.startHelloTimer = this.deps.clock.setTimeout(() => {
      this.startHelloTimer = null;
      // To our radio's neighbours only, unless a node we hear only through relays is known already
      // (hello-reach.ts): a flood was about four transmissions of it.
      const hopLimit = this.reach.startHopLimit(this.deps.clock.now());
      // Kept for the first mesh-wide hello: far nodes answer a hello at start with theirs, not a round's.
      if (hopLimit === 0) this.startHelloNotFlooded = payload;
      void this.sendHello("start", payload, hopLimit);
    }, this.helloPauseMs());
  }

  /** The radio side: over the transport we were given, or connected to the radio at its address. */
  private async radioSide(options: RadioOptions, brokerUrl: string): Promise<RadioSide> {
    const deps = { ...this.deps, isVerifiedSender: this.isVerifiedSender };
    const factory = this.deps.radioTransport;
    if (factory === undefined) return RadioSide.connect(options, options.broker === "embedded" ? brokerUrl : options.broker, this.nodeNumberValue, deps);
    const { region, preset } = options;
    if (region === null || preset === null) throw new RadioError("SETTINGS_MISMATCH", "a given radio transport cannot be asked its region and preset: give both");
    return RadioSide.over(factory({ packetIds: options.packetIds, hopLimit: options.hopLimit }), { ...options, region, preset }, deps);
  }

  private async startBroker(): Promise<EmbeddedBroker> {
    try {
      return await startEmbeddedBroker(this.embeddedBrokerOptions(this.opts.brokerPort));
    } catch (e) {
      if (!(e instanceof TransportError) || this.opts.brokerPort === 0 || this.opts.brokerPortFallback !== true) throw e;
      this.deps.logger.warn({ port: this.opts.brokerPort, reason: e.message }, "default broker port taken; using a free port (give --broker-port to choose one)");
      return startEmbeddedBroker(this.embeddedBrokerOptions(0));
    }
  }

  private embeddedBrokerOptions(port: number): EmbeddedBrokerOptions {
    return { port, ...(this.opts.brokerHost === undefined ? {} : { host: this.opts.brokerHost }), ...(this.opts.brokerAuth === undefined ? {} : { auth: this.opts.brokerAuth }) };
  }

  /**
   * Whether our peer table, as loaded from disk, holds a peer heard within the last half of the time
   * peers keep a silent node: we were running that recently, our last round's hello went out at most
   * a round (3 h 45 min) before we stopped, so peers that heard it still hold us. A peer that never
   * did (its hello and ours both lost) learns our key at our next round, as after any lost hello.
   */
  private peersStillHoldUs(): boolean {
    const now = this.deps.clock.now();
    return this.peers.list().some((p) => !this.peers.isBanned(p.node) && now - p.lastSeen <= RESTART_MEMORY_MS);
  }

  /** The hello rate control's airtime share allows on our radio's preset (mesh/airtime/control-rates.ts). */
  private rehelloMinIntervalMs(): number {
    const radio = this.opts.radio;
    if (radio === undefined) return REHELLO_MIN_INTERVAL_MS;
    return helloMinIntervalMs(PRESETS[this.radioPreset()], { budgetSecondsPerHour: radio.budgetSecondsPerHour, controlShare: DEFAULT_AIRTIME_POLICY.controlShare });
  }

  private radioPreset(): PresetName {
    return this.opts.radio?.preset ?? presetByName(this.radio?.status.preset ?? "") ?? "LONG_FAST";
  }

  /** A random pause within our radio preset's hello window (none without a radio). */
  private helloPauseMs(): number {
    return this.radio === null ? 0 : Math.floor(this.deps.random() * helloSpreadMs(PRESETS[this.radioPreset()]));
  }

  /** Broadcast our signed hello or status. */
  async announce(type: MessageType.Hello | MessageType.Status): Promise<void> {
    if (this.endpoint === null && this.radio === null) return;
    await this.send(type, this.signedAnnouncement(type));
  }

  private signedAnnouncement(type: MessageType.Hello | MessageType.Status, roles = HELLO_ROLE_NODE): Uint8Array {
    // Each announcement (start, then every status interval) is also when silent peers are forgotten.
    this.peers.expire();
    const tip = this.deps.tip();
    const finalizedHeight = this.deps.finalizedHeight();
    const { identity } = this.deps;
    const timestamp = Math.floor(this.deps.clock.now() / 1000);
    return type === MessageType.Hello
        ? helloCodec.encode({ protocolVersion: PROTOCOL_VERSION, chain: this.opts.genesisHash.slice(0, 8), publicKey: identity.ed25519.publicKey, nodeNumber: this.nodeNumber, tipHeight: tip.height, finalizedHeight, roles, timestamp }, this.opts.chainId, identity.ed25519)
        : statusCodec.encode({ address: identity.address, tipHeight: tip.height, tipHash: tip.hash.slice(0, 8), finalizedHeight, timestamp }, this.opts.chainId, identity.ed25519);
  }

  /** Broadcast our signed hello, counted by why. */
  async sayHello(reason: HelloReason): Promise<void> {
    if (this.endpoint === null && this.radio === null) return;
    await this.sendHello(reason, this.signedAnnouncement(MessageType.Hello));
  }

  /** `hopLimit` 0: on air to our neighbours only (the hello at start); otherwise mesh-wide. */
  private async sendHello(reason: HelloReason, payload: Uint8Array, hopLimit?: 0): Promise<void> {
    this.helloCounts.set(reason, (this.helloCounts.get(reason) ?? 0) + 1);
    this.lastHelloAt = this.deps.clock.now();
    if (hopLimit === undefined) this.reach.sentMeshWide(this.lastHelloAt);
    await this.send(MessageType.Hello, payload, priorityOf(MessageType.Hello), hopLimit === undefined ? undefined : { hopLimit });
  }

  /**
   * A node we hear only through relays was first heard after our last mesh-wide hello, so it missed
   * our key (our hello at start went to neighbours): say hello mesh-wide, after a random pause. Hop
   * counts and senders are unsigned (three frames under a made-up number ask for this), so reach
   * hellos and answers share one budget: one hello outside our rounds per hello interval on a radio.
   */
  private helloForReach(): void {
    if (this.reachHelloDue || this.startHelloTimer !== null || !this.reach.meshWideDue) return;
    this.reachHelloDue = true;
    const reach = () => {
      // A round's or an answer's hello may have gone mesh-wide meanwhile.
      if (this.radio === null || !this.reach.meshWideDue) {
        this.reachHelloDue = false;
        return;
      }
      const wait = this.offRoundHelloAt() + this.rehelloMinIntervalMs() - this.deps.clock.now();
      if (wait > 0) return void this.deps.clock.setTimeout(reach, wait);
      this.reachHelloDue = false;
      this.lastReachHelloAt = this.deps.clock.now();
      // The first one is our hello at start again, so the far nodes answer with their keys (review,
      // session 27: a node that sends little behind relays otherwise learnt them only at their rounds).
      const start = this.startHelloNotFlooded;
      this.startHelloNotFlooded = null;
      if (start !== null) void this.sendHello("reach", start);
      else void this.sayHello("reach");
    };
    const wait = this.offRoundHelloAt() + this.rehelloMinIntervalMs() - this.deps.clock.now();
    this.deps.clock.setTimeout(reach, Math.max(0, wait) + this.helloPauseMs());
  }

  /** When our last hello outside the rounds went: on a radio answers and reach hellos share one rate. */
  private offRoundHelloAt(): number {
    return this.radio === null ? this.lastHelloAnswerAt : Math.max(this.lastHelloAnswerAt, this.lastReachHelloAt);
  }

  private get heal(): HelloHeal {
    if (this.healValue === null) {
      const preset = PRESETS[this.radioPreset()];
      this.healValue = new HelloHeal({ settleMs: HEAL_SETTLE_SPREADS * helloSpreadMs(preset), intervalMs: this.rehelloMinIntervalMs() / 2, askGapMs: this.rehelloMinIntervalMs() / 4 });
    }
    return this.healValue;
  }

  /**
   * A frame from `from`, whose key we lack, came on air: once it is a neighbour we keep hearing
   * (hello-heal.ts), ask it and any other such neighbour for their hellos, in one request at hop 0.
   */
  private askForHellos(from: number, hopsAway: number | null): void {
    this.heal.note(from, hopsAway, this.deps.clock.now());
    this.askDueHellos();
  }

  private askDueHellos(): void {
    const radio = this.radio;
    if (radio === null) return;
    const nodes = this.heal.toAsk(this.deps.clock.now(), (node) => this.peers.get(node) === undefined && !this.peers.isBanned(node));
    if (nodes.length === 0) {
      if (this.healCheck === null && this.heal.waiting) {
        this.healCheck = this.deps.clock.setTimeout(() => {
          this.healCheck = null;
          if (this.radio === radio) this.askDueHellos();
        }, this.heal.settleMs);
      }
      return;
    }
    this.deps.logger.debug({ nodes: nodes.map((n) => n.toString(16)) }, "asking neighbours whose keys we lack for their hellos");
    void this.sendOn(radio.endpoint, MessageType.HelloRequest, helloRequestCodec.encode({ nodes }), priorityOf(MessageType.HelloRequest), { hopLimit: 0 });
  }

  /**
   * A neighbour asks for our key: our hello to our neighbours, after the random pause answers take, at
   * most once per interval whoever asks (hello-heal.ts). Nothing is answered over IP, where a hello
   * is never lost to the channel, nor while our hello at start is still to go.
   */
  private onHelloRequest(m: ReceivedMessage, via: "ip" | "radio"): void {
    const sender = this.peers.get(m.meta.from) === undefined ? UNKNOWN_SENDERS : m.meta.from;
    if (!this.unsignedRates.allow(m.type, sender, this.deps.clock.now(), this.peers.size)) return this.refuse("rate_limited");
    const request = helloRequestCodec.decode(m.payload);
    const radio = this.radio;
    if (via !== "radio" || radio === null || this.startHelloTimer !== null) return;
    if (!this.heal.answer(request.nodes.includes(this.nodeNumber), m.meta.hopsAway, this.deps.clock.now())) return;
    this.deps.clock.setTimeout(() => {
      if (this.radio === radio) void this.sendHello("heal", this.signedAnnouncement(MessageType.Hello), 0);
    }, this.helloPauseMs());
  }

  /**
   * Pass a peer's message to the other transport, once, and only when the relay gate verified it.
   * Types whose registry relay rule is "never" stay put: hellos and statuses name their own sender,
   * chain statuses carry nothing the gate can verify.
   */
  private bridge(m: ReceivedMessage, via: "ip" | "radio"): void {
    const spec = messageSpec(m.type);
    if (this.radio === null || this.endpoint === null || spec.relay === "never") return;
    const priority = spec.priority;
    const key = messageKey(m.type, m.payload);
    if (via === "radio") this.heardOnRadio.seen(key);
    if (this.crossed.has(key)) return;
    if (this.deps.relayGate?.check(m.type, m.payload, via === "ip") !== true) return;
    this.crossed.seen(key);
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

  private refuse(reason: NetworkRefusal): void {
    this.refusalCounts.set(reason, (this.refusalCounts.get(reason) ?? 0) + 1);
  }

  /** Messages refused since start, by reason: what unverified or stale senders cost us, and nothing more. */
  get refusals(): ReadonlyMap<NetworkRefusal, number> {
    return this.refusalCounts;
  }

  /**
   * A newcomer has not heard our hello: answer, but at most once per interval however many newcomers
   * there are (fresh keys cost a sender nothing, so a hello flood must not become a flood of ours).
   * `listeningSince`: the newcomer's hello at start's timestamp (seconds), when it began listening; a
   * mesh-wide hello of ours after it (a reach hello, a round's) is its answer already. None: answer.
   */
  private answerHello(listeningSince = Number.POSITIVE_INFINITY): void {
    this.answerOwedSince = Math.max(this.answerOwedSince, listeningSince);
    if (this.helloAnswerDue) return this.refuse("hello_answer_coalesced");
    const answer = () => {
      const owed = this.answerOwedSince;
      if (this.radio !== null && Math.floor(this.reach.lastMeshWideAt / 1000) > owed) {
        this.helloAnswerDue = false;
        this.answerOwedSince = Number.NEGATIVE_INFINITY;
        return this.refuse("hello_answer_coalesced");
      }
      const wait = this.offRoundHelloAt() + this.helloAnswerIntervalMs() - this.deps.clock.now();
      if (wait > 0) return void this.deps.clock.setTimeout(answer, wait);
      this.helloAnswerDue = false;
      this.answerOwedSince = Number.NEGATIVE_INFINITY;
      this.lastHelloAnswerAt = this.deps.clock.now();
      void this.sayHello("answer");
    };
    const wait = this.offRoundHelloAt() + this.helloAnswerIntervalMs() - this.deps.clock.now();
    // On air after a random pause, so that the peers answering one newcomer do not all speak at once.
    const pause = this.helloPauseMs();
    this.helloAnswerDue = true;
    if (wait <= 0 && pause === 0) return answer();
    // Newcomers within the interval share one answer at its end.
    this.deps.clock.setTimeout(answer, Math.max(0, wait) + pause);
  }

  /** How far apart this node's hellos in answer go: on a radio, its preset's hello rate. */
  private helloAnswerIntervalMs(): number {
    return this.radio === null ? HELLO_ANSWER_MIN_INTERVAL_MS : this.rehelloMinIntervalMs();
  }

  private onHello(m: ReceivedMessage, via: "ip" | "radio", seen: { hopsAway: number | null; snr: number | null }): void {
    const from = m.meta.from;
    const hello = helloCodec.decode(m.payload);
    const h = hello.body;
    if (!bytesEqual(h.chain, this.opts.genesisHash.slice(0, 8))) return this.refuse("other_chain");
    // Whoever published it, a hello that does not verify proves nothing and charges no one.
    if (h.nodeNumber !== from || !helloCodec.verify(hello, this.opts.chainId)) return this.refuse("unverified");
    const verdict = this.peers.heard(from, h.publicKey, { tipHeight: h.tipHeight, finalizedHeight: h.finalizedHeight, signedAt: h.timestamp, ...seen });
    if (verdict !== "joined" && verdict !== "updated") return this.refuse(REFUSAL_OF_VERDICT[verdict]);
    // The hello at start is signed before its pause (up to a hundred hellos' airtime, 138 s on
    // LongFast), so its timestamp says when its sender began listening, not when it was sent: read as
    // a clock it made every node look up to that far behind (CLOCK_OFF at most nodes of the devnet).
    // The sender's later hellos and statuses give its clock.
    const starting = (h.roles & HELLO_ROLE_STARTING) !== 0;
    if (!starting) this.noteClock(from, h.timestamp);
    this.peers.record(from, { kind: "valid" });
    for (const l of this.peerListeners) l(from);
    if (verdict === "joined") {
      this.deps.logger.info({ peer: toHex(helloCodec.address(h)), node: from.toString(16), tipHeight: h.tipHeight, hops: m.meta.hopsAway }, "peer joined");
      // On air only a node that has just started needs our key from us now, and only if it started
      // after our last hello went out (its hello at start is signed at start): nodes started together
      // heard ours (or will: ours may still be pending), and one whose hello we merely missed had
      // heard us. Anything else gets our key at our next round. Answering every join was a hello
      // per node per newcomer, and answers to answers spread through every node missing a key.
      if (via === "ip" || (starting && this.startHelloTimer === null && h.timestamp > Math.floor(this.lastHelloAt / 1000))) this.answerHello(via === "ip" ? undefined : h.timestamp);
      for (const l of this.joinListeners) l(from);
    } else if ((h.roles & HELLO_ROLE_ASKS_INTRODUCTIONS) !== 0) {
      // A peer that knows us may have missed our hello: it asks everyone it hears to say hello again.
      this.answerHello();
    }
  }

  private onStatus(m: ReceivedMessage, seen: { hopsAway: number | null; snr: number | null }): void {
    const from = m.meta.from;
    const peer = this.peers.get(from);
    if (peer === undefined) return this.refuse("unknown_sender");
    const status = statusCodec.decode(m.payload);
    if (!statusCodec.verify(status, this.opts.chainId, peer.publicKey)) return this.refuse("unverified");
    const verdict = this.peers.heard(from, peer.publicKey, { tipHeight: status.body.tipHeight, finalizedHeight: status.body.finalizedHeight, signedAt: status.body.timestamp, ...seen });
    if (verdict !== "joined" && verdict !== "updated") return this.refuse(REFUSAL_OF_VERDICT[verdict]);
    this.noteClock(from, status.body.timestamp);
    this.peers.record(from, { kind: "valid" });
    for (const l of this.peerListeners) l(from);
  }

  private onMessage(m: ReceivedMessage, via: "ip" | "radio"): void {
    const from = m.meta.from;
    if (this.peers.isBanned(from)) return this.refuse("banned");
    const seen = { hopsAway: m.meta.hopsAway, snr: m.meta.snr };
    if (via === "radio" && from !== this.nodeNumber) {
      this.reach.note(from, m.meta.hopsAway, this.deps.clock.now());
      this.helloForReach();
      if (m.type !== MessageType.Hello && this.peers.get(from) === undefined) this.askForHellos(from, m.meta.hopsAway);
    }
    try {
      if (m.type === MessageType.Hello) return this.onHello(m, via, seen);
      if (m.type === MessageType.HelloRequest) return this.onHelloRequest(m, via);
      if (m.type === MessageType.Status) return this.onStatus(m, seen);
      // Everything else only from node numbers a signed hello introduced; their data is judged on its
      // own signatures (a frame's sender is not authenticated, so nothing here can charge a peer).
      if (this.peers.get(from) === undefined) {
        if (via !== "radio") return this.refuse("unknown_sender");
        // On air a lost hello would silence its sender here until its next round's hello. Its data is
        // judged on its own signatures as a known peer's is; its unsigned requests share one sender's
        // rate with every other unknown sender's (fresh node numbers cost nothing, and cost us no hello).
        if (!this.unsignedRates.allow(m.type, UNKNOWN_SENDERS, this.deps.clock.now(), this.peers.size)) return this.refuse("rate_limited");
        this.handlers.get(m.type)?.(m);
        return;
      }
      if (!this.unsignedRates.allow(m.type, from, this.deps.clock.now(), this.peers.size)) return this.refuse("rate_limited");
      this.handlers.get(m.type)?.(m);
      this.bridge(m, via);
    } catch (e) {
      // A typed rejection of the data: refused, counted, and charged to no one (anyone can publish
      // under any node number). Our own failures (storage, links, bugs) are logged with their stack.
      if (e instanceof MeshChainError && !isOwnFailure(e)) return this.refuse("rejected_data");
      this.deps.logger.error({ type: MessageType[m.type], peer: from.toString(16), err: e }, "failed to handle a peer's message (our fault, not the peer's)");
    }
  }

  async stop(): Promise<void> {
    if (this.healCheck !== null) this.deps.clock.clearTimeout(this.healCheck);
    this.healCheck = null;
    if (this.startHelloTimer !== null) this.deps.clock.clearTimeout(this.startHelloTimer);
    this.startHelloTimer = null;
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
