import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../src/mesh/broker.js";

/** Connect once, without retrying: resolves with the outcome of the broker's CONNACK. */
function tryConnect(url: string, login: { username?: string; password?: string }): Promise<"accepted" | "refused"> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...login, reconnectPeriod: 0, connectTimeout: 5_000 });
    client.once("connect", () => {
      client.end(true);
      resolve("accepted");
    });
    client.once("error", () => {
      client.end(true);
      resolve("refused");
    });
  });
}

describe("the embedded broker", () => {
  it("with a login, lets in only that login", async () => {
    const broker = await startEmbeddedBroker({ port: 0, auth: { username: "meshchain", password: "s3cret" } });
    try {
      expect(await tryConnect(broker.url, {})).toBe("refused");
      expect(await tryConnect(broker.url, { username: "meshchain", password: "wrong" })).toBe("refused");
      expect(await tryConnect(broker.url, { username: "other", password: "s3cret" })).toBe("refused");
      expect(await tryConnect(broker.url, { username: "meshchain", password: "s3cret" })).toBe("accepted");
    } finally {
      await broker.close();
    }
  });

  it("listens on a chosen address; a wildcard listener is reached over loopback", async () => {
    const broker = await startEmbeddedBroker({ port: 0, host: "0.0.0.0" });
    try {
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      expect(await tryConnect(broker.url, {})).toBe("accepted");
    } finally {
      await broker.close();
    }
  });
});
