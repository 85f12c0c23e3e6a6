import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Mesh } from "@meshtastic/protobufs";
import type { Clock } from "../../core/clock.js";
import { RadioLinkError } from "../errors.js";
import { type RadioRawConfig, RadioViewBuilder, type RadioView } from "./radio-view.js";
import { encodeStreamFrame, StreamDeframer } from "./stream-framing.js";
import { type ByteLink, openByteLink, type RadioAddress } from "./stream-link.js";

/** The want_config nonce that asks for everything but the node database (the firmware's special value). */
export const CONFIG_WITHOUT_NODES = 69420;

export interface SessionEvents {
  /** Every well-formed FromRadio after the handshake. */
  readonly message: (m: Mesh.FromRadio) => void;
  readonly log?: (line: string) => void;
  /** A frame whose bytes are not a FromRadio: counted, nothing else. */
  readonly malformed?: () => void;
  readonly closed: (reason: string) => void;
}

export interface SessionStats {
  fromRadio: number;
  malformed: number;
  logLines: number;
}

/**
 * One conversation with a radio over a byte link: frames in both directions, the want_config
 * handshake that yields the radio's view of itself, then FromRadio messages to the owner.
 */
export class RadioSession {
  readonly stats: SessionStats = { fromRadio: 0, malformed: 0, logLines: 0 };
  private readonly deframer: StreamDeframer;
  private handshake: { nonce: number; builder: RadioViewBuilder; done: (v: RadioView) => void; fail: (e: Error) => void } | null = null;
  private closedReason: string | null = null;
  /** The settings of the last completed handshake, as the radio sent them. */
  rawConfig: RadioRawConfig | null = null;
  /** Wall time of the last byte from the radio, for the silence watchdog. */
  lastHeardAt: number;

  constructor(
    readonly link: ByteLink,
    private readonly events: SessionEvents,
    private readonly clock: Clock,
  ) {
    this.lastHeardAt = clock.now();
    this.deframer = new StreamDeframer({
      frame: (payload) => this.onFrame(payload),
      log: (line) => {
        this.stats.logLines++;
        this.events.log?.(line);
      },
    });
    link.onData((chunk) => {
      this.lastHeardAt = this.clock.now();
      this.deframer.push(chunk);
    });
    link.onClose((reason) => {
      this.closedReason = reason;
      this.handshake?.fail(new RadioLinkError("LINK_CLOSED", `${link.description}: ${reason} during the handshake`));
      this.handshake = null;
      this.events.closed(reason);
    });
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  send(message: Mesh.ToRadio): void {
    this.link.write(encodeStreamFrame(toBinary(Mesh.ToRadioSchema, message)));
  }

  sendPacket(packet: Mesh.MeshPacket): void {
    this.send(create(Mesh.ToRadioSchema, { payloadVariant: { case: "packet", value: packet } }));
  }

  heartbeat(): void {
    this.send(create(Mesh.ToRadioSchema, { payloadVariant: { case: "heartbeat", value: create(Mesh.HeartbeatSchema, {}) } }));
  }

  /** Asks for the radio's configuration and resolves with its view once config_complete_id echoes our nonce. */
  requestConfig(nonce: number, timeoutMs: number): Promise<RadioView> {
    if (this.closedReason !== null) return Promise.reject(new RadioLinkError("LINK_CLOSED", `${this.link.description}: ${this.closedReason}`));
    return new Promise<RadioView>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.handshake = null;
        reject(new RadioLinkError("HANDSHAKE_TIMEOUT", `${this.link.description} did not finish sending its configuration within ${timeoutMs / 1000} s (is it a Meshtastic radio with the serial API on?)`));
      }, timeoutMs);
      this.handshake = {
        nonce,
        builder: new RadioViewBuilder(),
        done: (v) => {
          this.clock.clearTimeout(timer);
          resolve(v);
        },
        fail: (e) => {
          this.clock.clearTimeout(timer);
          reject(e);
        },
      };
      this.send(create(Mesh.ToRadioSchema, { payloadVariant: { case: "wantConfigId", value: nonce } }));
    });
  }

  close(): void {
    this.link.close();
  }

  private onFrame(payload: Uint8Array): void {
    let message: Mesh.FromRadio;
    try {
      message = fromBinary(Mesh.FromRadioSchema, payload);
    } catch {
      this.stats.malformed++;
      this.events.malformed?.();
      return;
    }
    this.stats.fromRadio++;
    const h = this.handshake;
    if (h !== null) {
      const v = message.payloadVariant;
      if (v.case === "configCompleteId") {
        // A completion for an earlier request (a previous client's, or ours before a reconnect) is not ours.
        if (v.value !== h.nonce) return;
        this.handshake = null;
        const view = h.builder.build();
        this.rawConfig = h.builder.raw();
        if (view === null) h.fail(new RadioLinkError("HANDSHAKE_TIMEOUT", `${this.link.description} finished its configuration without its node number or LoRa settings`));
        else h.done(view);
        return;
      }
      if (v.case !== "packet" && v.case !== "queueStatus" && v.case !== "rebooted" && v.case !== "clientNotification") {
        h.builder.add(message);
        return;
      }
    }
    this.events.message(message);
  }
}

export interface OpenedRadio {
  readonly session: RadioSession;
  readonly view: RadioView;
  readonly raw: RadioRawConfig;
}

/** One connection and handshake, no retry: for tools that ask the radio something and leave. */
export async function openRadio(address: RadioAddress, clock: Clock, opts: { handshakeTimeoutMs?: number; onClosed?: (reason: string) => void; onMessage?: (m: Mesh.FromRadio) => void } = {}): Promise<OpenedRadio> {
  const link = await openByteLink(address);
  const session = new RadioSession(link, { message: (m) => opts.onMessage?.(m), closed: (r) => opts.onClosed?.(r) }, clock);
  try {
    const view = await session.requestConfig(CONFIG_WITHOUT_NODES, opts.handshakeTimeoutMs ?? 15_000);
    return { session, view, raw: session.rawConfig as RadioRawConfig };
  } catch (e) {
    session.close();
    throw e;
  }
}
