import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactRecord, redactUrls } from "../../src/core/redact.js";
import { createLogger } from "../../src/node/logger.js";

describe("redaction of secrets on their way out", () => {
  it("hides the password of every URL in a text and keeps the rest", () => {
    expect(redactUrls("connecting to mqtt://radio:hunter2@10.0.0.1:1883 now")).toBe("connecting to mqtt://radio:***@10.0.0.1:1883 now");
    expect(redactUrls("mqtts://a:b@h and ws://c:d@e/path")).toBe("mqtts://a:***@h and ws://c:***@e/path");
    expect(redactUrls("MQTT://User:p%40ss@host")).toBe("MQTT://User:***@host");
    // An unencoded "@" in the password: the tail must not leak.
    expect(redactUrls("mqtt://u:p@ss@host:1")).toBe("mqtt://u:***@host:1");
    expect(redactUrls("mqtt://u:@host")).toBe("mqtt://u:***@host");
    for (const clean of ["mqtt://host:1883", "mqtt://user@host", "ratio 3:4 @ noon", "no url here"]) expect(redactUrls(clean)).toBe(clean);
  });

  it("never lets a password through, whatever its characters", () => {
    const passwordChar = fc.constantFrom(..."abcXYZ019!$&'()*+,;=%-._~:@".split(""));
    fc.assert(
      fc.property(fc.array(passwordChar, { minLength: 1, maxLength: 24 }), fc.constantFrom("mqtt", "mqtts", "ws"), (chars, scheme) => {
        const password = `Q7${chars.join("")}`;
        const out = redactUrls(`link error at ${scheme}://meshchain:${password}@broker.local:1883: refused`);
        expect(out).not.toContain(password);
        expect(out).toContain(`${scheme}://meshchain:***@broker.local:1883`);
      }),
    );
  });

  it("hides secret-named fields and URL passwords at any depth of a record, errors included", () => {
    const err = Object.assign(new Error("cannot connect to mqtt://u:pw1@h"), { code: "ECONNREFUSED" });
    const out = JSON.stringify(redactRecord({ url: "mqtt://u:pw2@h", nested: { list: ["mqtt://x:pw3@h"], password: "pw4", apiToken: "pw5", psk: "pw6" }, err, tokenFile: "/d/api.token" }));
    for (const secret of ["pw1", "pw2", "pw3", "pw4", "pw5", "pw6"]) expect(out).not.toContain(secret);
    expect(out).toContain("ECONNREFUSED");
    expect(out).toContain("/d/api.token");
  });

  it("runs in the node's logger for messages, fields, errors and child bindings", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "trace", destination: { write: (l) => void lines.push(l) } });
    logger.info({ url: "mqtt://radio:sec1@h:1883" }, "radio gateway connected");
    logger.warn("link down: mqtt://radio:sec2@h:1883 refused");
    logger.error({ err: new Error("Connection refused: Not authorized at mqtt://radio:sec3@h") }, "link error");
    logger.error(new Error("failed mqtt://radio:sec4@h"));
    logger.child({ broker: "mqtt://n:sec5@h" }).info({ password: "sec6" }, "child");
    logger.info({ broker: "mqtt://n:sec7@h" }, "node started at %s", "mqtt://n:sec8@h");
    expect(lines).toHaveLength(6);
    const all = lines.join("");
    for (let i = 1; i <= 8; i++) expect(all, `sec${i}`).not.toContain(`sec${i}`);
    expect(all).toContain("mqtt://radio:***@h:1883");
    expect(JSON.parse(lines[3] as string)).toMatchObject({ msg: "failed mqtt://radio:***@h", err: { type: "Error" } });
  });
});
