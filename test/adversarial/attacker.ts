import mqtt from "mqtt";
import type { Identity } from "../../src/core/crypto/identity.js";
import { MessageEndpoint, type ReceivedMessage } from "../../src/mesh/endpoint.js";
import { encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { helloCodec } from "../../src/mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";
import { Priority } from "../../src/mesh/transport.js";
import { MqttTransport } from "../../src/mesh/transports/mqtt.js";
import { systemClock } from "../../src/node/clock.js";
import type { MeshChainNode } from "../../src/node/node.js";
import { seededRandom } from "../fixtures/random.js";

/**
 * Someone with nothing but a client on the broker: publishes under any node number it likes, and
 * hears everything on the chain's topics.
 */
export class Attacker {
  readonly heard: ReceivedMessage[] = [];

  private constructor(readonly endpoint: MessageEndpoint, private readonly transport: MqttTransport, readonly nodeNumber: number) {}

  static async join(url: string, chainId: string, nodeNumber: number, seed = 99): Promise<Attacker> {
    const deps = { clock: systemClock, random: seededRandom(seed) };
    const transport = new MqttTransport({ link: { url, clientId: `attacker-${nodeNumber.toString(16)}-${seed}` }, chainId, nodeNumber }, deps);
    const endpoint = new MessageEndpoint(transport, {}, deps);
    const a = new Attacker(endpoint, transport, nodeNumber);
    endpoint.onMessage((m) => a.heard.push(m));
    endpoint.start();
    await transport.start();
    return a;
  }

  send(type: MessageType, payload: Uint8Array, priority = Priority.Control): Promise<number> {
    return this.endpoint.send(type, payload, priority);
  }

  async stop(): Promise<void> {
    this.endpoint.stop();
    await this.transport.stop();
  }
}

/** A validly signed hello of `identity` on `chainId`, naming `nodeNumber` (its own by default). */
export function hello(identity: Identity, chainId: string, genesisHash: Uint8Array, claim: { tipHeight: number; finalizedHeight: number; timestamp?: number; nodeNumber?: number }): Uint8Array {
  return helloCodec.encode({
    protocolVersion: 1, chain: genesisHash.slice(0, 8), publicKey: identity.ed25519.publicKey, nodeNumber: claim.nodeNumber ?? nodeNumberFromPublicKey(identity.ed25519.publicKey),
    tipHeight: claim.tipHeight, finalizedHeight: claim.finalizedHeight, roles: 1, timestamp: claim.timestamp ?? Math.floor(Date.now() / 1000),
  }, chainId, identity.ed25519);
}

/** Raw publishes on many senders' topics at once (no endpoint: the cheapest flood there is). */
export async function rawFlood(url: string, chainId: string, frames: { from: number; bytes: Uint8Array }[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `flood-${frames.length}-${frames[0]?.from ?? 0}` });
  try {
    for (const f of frames) client.publish(`meshchain/${chainId}/f/${(f.from >>> 0).toString(16).padStart(8, "0")}`, Buffer.from(f.bytes), { qos: 0 });
    // QoS 0 publishes are written in order: a QoS 1 one after them is acknowledged once they are all in.
    await client.publishAsync(`meshchain/${chainId}/flood-done`, "x", { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

/** A fragment of a message that will never complete: `payloadBytes` of it, fragment `index` of `count`. */
export const danglingFragment = (messageId: number, index: number, count: number, payloadBytes = 1): Uint8Array =>
  encodeFrame({ type: MessageType.Block, messageId, fragment: { index, count }, payload: new Uint8Array(payloadBytes).fill(7) });

/** One sample of a metric family from the node's own /metrics text (labels as written there). */
export async function metric(node: MeshChainNode, name: string, labels = ""): Promise<number> {
  const text = await node.metricsText();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels === "" ? " " : `{${labels}} `}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Poll an asynchronous condition (a metric) until it holds; fails after `timeoutMs` (a bound on waiting, not a speed assertion). */
export async function waitForMetric(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
