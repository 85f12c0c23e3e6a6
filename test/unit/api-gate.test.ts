import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowedHostNames, bearerToken, hostAllowed, isJsonContentType, isLoopbackHost, originAllowed, parseHostHeader } from "../../src/api/gate.js";

const machine = { hostname: "hillpi", addresses: ["127.0.0.1", "192.0.2.7", "fe80::1%eth0"] };

describe("the API gate's rules", () => {
  it("knows loopback addresses from others", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.5", "127.0.0.1.nip.io", "localhost.evil.example"]) expect(isLoopbackHost(h), h).toBe(false);
  });

  it("lets a loopback API answer only to loopback names, with its own port", () => {
    const allowed = allowedHostNames("127.0.0.1", machine);
    expect([...allowed].sort()).toEqual(["127.0.0.1", "::1", "localhost"]);
    expect(hostAllowed("127.0.0.1:8645", allowed, 8645)).toBe(true);
    expect(hostAllowed("[::1]:8645", allowed, 8645)).toBe(true);
    expect(hostAllowed("hillpi:8645", allowed, 8645)).toBe(false);
    expect(hostAllowed("127.0.0.1:8646", allowed, 8645)).toBe(false);
    expect(hostAllowed("127.0.0.1", allowed, 8645)).toBe(false);
    expect(hostAllowed("127.0.0.1", allowed, 80)).toBe(true);
    expect(hostAllowed(undefined, allowed, 8645)).toBe(false);
  });

  it("lets a wildcard API answer to the machine's names and addresses", () => {
    const allowed = allowedHostNames("0.0.0.0", machine);
    for (const n of ["hillpi", "hillpi.local", "192.0.2.7", "fe80::1", "127.0.0.1", "localhost"]) expect(allowed.has(n), n).toBe(true);
    expect(allowed.has("evil.example")).toBe(false);
    const lan = allowedHostNames("192.0.2.7", machine);
    expect([...lan].sort()).toEqual(["192.0.2.7", "hillpi", "hillpi.local"]);
  });

  it("parses Host headers strictly, and never accepts a name it was not given", () => {
    expect(parseHostHeader("[::1]:80")).toEqual({ name: "::1", port: 80 });
    expect(parseHostHeader("Example.COM")).toEqual({ name: "example.com", port: null });
    for (const bad of ["", "a b", "host:99999", "user@host", "host:", "[::1", "h/x"]) expect(parseHostHeader(bad), bad).toBeNull();
    const allowed = allowedHostNames("127.0.0.1", machine);
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (name, port) => {
        expect(hostAllowed(`${name}:${port}`, allowed, port)).toBe(allowed.has(name.toLowerCase()));
      }),
    );
  });

  it("takes a browser's Origin only when it is this API itself", () => {
    const allowed = allowedHostNames("127.0.0.1", machine);
    expect(originAllowed(undefined, allowed, 8645)).toBe(true);
    expect(originAllowed("http://127.0.0.1:8645", allowed, 8645)).toBe(true);
    for (const o of ["null", "http://evil.example", "https://127.0.0.1:8645", "http://127.0.0.1:9999", "file://", "http://user:pw@127.0.0.1:8645", "not a url"]) {
      expect(originAllowed(o, allowed, 8645), o).toBe(false);
    }
  });

  it("takes JSON content types and bearer tokens, nothing looser", () => {
    expect(isJsonContentType("application/json")).toBe(true);
    expect(isJsonContentType("Application/JSON; charset=utf-8")).toBe(true);
    for (const t of [undefined, "text/plain", "application/jsonp", "text/json", "application/x-www-form-urlencoded"]) expect(isJsonContentType(t), String(t)).toBe(false);
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer abc ")).toBe("abc");
    for (const h of [undefined, "", "Basic abc", "Bearer", "Bearer a b"]) expect(bearerToken(h), String(h)).toBeNull();
  });
});
