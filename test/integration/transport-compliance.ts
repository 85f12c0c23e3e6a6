import { describe, expect, it } from "vitest";
import { TransportError } from "../../src/mesh/errors.js";
import { Priority, type ReceivedFrame, type Transport } from "../../src/mesh/transport.js";
import { waitFor } from "../fixtures/wait.js";

export interface TransportPair {
  readonly a: Transport;
  readonly b: Transport;
  /** A third instance on the same link, never started. */
  readonly unstarted: Transport;
  /** Put raw junk where `b` listens, as a broken or hostile client would. */
  readonly injectJunk: (bytes: Uint8Array) => Promise<void>;
  readonly close: () => Promise<void>;
}

function collect(t: Transport): ReceivedFrame[] {
  const got: ReceivedFrame[] = [];
  t.onFrame((f) => got.push(f));
  return got;
}

/**
 * What every Transport implementation must do; each implementation's test file runs this suite
 * with a factory for two connected instances (libp2p-style compliance tests).
 */
export function transportCompliance(name: string, makePair: () => Promise<TransportPair>): void {
  describe(`${name} transport compliance`, () => {
    it("delivers a broadcast frame with its sender, and not back to the sender", async () => {
      const { a, b, close } = await makePair();
      try {
        const atB = collect(b);
        const atA = collect(a);
        await a.send(Uint8Array.of(0x41, 1, 2, 3), Priority.Transaction);
        await waitFor(() => atB.length === 1, 10_000, "delivery");
        expect([...atB[0]!.bytes]).toEqual([0x41, 1, 2, 3]);
        expect(atB[0]!.from).toBe(a.localNode);
        await b.send(Uint8Array.of(9), Priority.Control);
        await waitFor(() => atA.length === 1, 10_000, "reply");
        expect(atA.every((f) => f.from === b.localNode)).toBe(true);
        expect(a.stats.framesSent).toBe(1);
        expect(b.stats.framesReceived).toBe(1);
      } finally {
        await close();
      }
    });

    it("accepts frames up to its MTU and refuses larger or empty ones", async () => {
      const { a, b, close } = await makePair();
      try {
        const atB = collect(b);
        const full = new Uint8Array(a.mtu).fill(7);
        await a.send(full, Priority.Sync);
        await waitFor(() => atB.length === 1, 10_000, "an MTU-sized frame");
        expect(atB[0]!.bytes.length).toBe(a.mtu);
        await expect(a.send(new Uint8Array(a.mtu + 1), Priority.Sync)).rejects.toMatchObject({ code: "FRAME_TOO_LARGE" });
        await expect(a.send(new Uint8Array(0), Priority.Sync)).rejects.toBeInstanceOf(TransportError);
      } finally {
        await close();
      }
    });

    it("delivers every frame of a burst, without promising their order", async () => {
      const { a, b, close } = await makePair();
      try {
        const atB = collect(b);
        const sent = Array.from({ length: 25 }, (_, i) => Uint8Array.of(i, 0xee));
        await Promise.all(sent.map((f, i) => a.send(f, i % 2 === 0 ? Priority.Consensus : Priority.Control)));
        await waitFor(() => atB.length === sent.length, 10_000, "the burst");
        expect(atB.map((f) => f.bytes[0]).sort((x, y) => x! - y!)).toEqual(sent.map((_, i) => i));
      } finally {
        await close();
      }
    });

    it("refuses to send before start and after stop, stops idempotently, and delivers nothing after stop", async () => {
      const { a, b, unstarted, close } = await makePair();
      try {
        await expect(unstarted.send(Uint8Array.of(1), Priority.Control)).rejects.toMatchObject({ code: "NOT_STARTED" });
        const atB = collect(b);
        await b.stop();
        await b.stop();
        await a.send(Uint8Array.of(1), Priority.Control);
        await expect(b.send(Uint8Array.of(1), Priority.Control)).rejects.toMatchObject({ code: "CLOSED" });
        await new Promise((r) => setTimeout(r, 200));
        expect(atB).toEqual([]);
      } finally {
        await close();
      }
    });

    it("counts junk on its link instead of failing, and keeps working", async () => {
      const { a, b, injectJunk, close } = await makePair();
      try {
        const atB = collect(b);
        await injectJunk(Uint8Array.of(0xff, 0x00, 0x13));
        await injectJunk(new Uint8Array(0));
        await a.send(Uint8Array.of(0x42), Priority.Transaction);
        // Junk and frames are not ordered either: wait for both to have been handled.
        await waitFor(() => atB.length === 1 && b.stats.malformed + b.stats.undecryptable >= 1, 10_000, "junk counted and a frame delivered");
        expect(atB.map((f) => [...f.bytes])).toEqual([[0x42]]);
      } finally {
        await close();
      }
    });
  });
}
