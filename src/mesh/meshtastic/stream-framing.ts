import { TransportError } from "../errors.js";

/** The two bytes that open every stream-API frame (serial and TCP alike). */
export const FRAME_START1 = 0x94;
export const FRAME_START2 = 0xc3;
/** Largest protobuf a frame may carry; a longer header is a corrupt or false start, not a frame. */
export const MAX_STREAM_PAYLOAD = 512;
const HEADER_BYTES = 4;
/** Terminal colour codes the firmware's console puts around log levels. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** One frame: 0x94 0xC3, the payload length as 16-bit big-endian, then the ToRadio/FromRadio bytes. */
export function encodeStreamFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_STREAM_PAYLOAD) throw new TransportError("FRAME_TOO_LARGE", `a stream frame carries at most ${MAX_STREAM_PAYLOAD} bytes, not ${payload.length}`);
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out[0] = FRAME_START1;
  out[1] = FRAME_START2;
  out[2] = payload.length >> 8;
  out[3] = payload.length & 0xff;
  out.set(payload, HEADER_BYTES);
  return out;
}

export interface DeframerEvents {
  readonly frame: (payload: Uint8Array) => void;
  /** A line of the radio's debug console: the bytes a serial radio prints between frames. */
  readonly log?: (line: string) => void;
}

/**
 * Splits a byte stream into frames. Bytes outside frames are the radio's console output: collected
 * into lines for the log, never parsed as protobuf. A header announcing more than 512 bytes is a
 * false start (log text that happened to contain 0x94 0xC3): its bytes go back to the log and the
 * search resumes one byte later, as the firmware's own reader does.
 */
export class StreamDeframer {
  private buffer = new Uint8Array(0);
  private logLine: number[] = [];
  /** Bytes that were not part of any frame, for the statistics. */
  logBytes = 0;
  falseStarts = 0;

  constructor(private readonly events: DeframerEvents) {}

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let at = 0;
    while (at < joined.length) {
      if (joined[at] !== FRAME_START1) {
        this.logByte(joined[at] as number);
        at++;
        continue;
      }
      if (at + 1 >= joined.length) break;
      if (joined[at + 1] !== FRAME_START2) {
        this.logByte(joined[at] as number);
        at++;
        continue;
      }
      if (at + HEADER_BYTES > joined.length) break;
      const length = ((joined[at + 2] as number) << 8) | (joined[at + 3] as number);
      if (length > MAX_STREAM_PAYLOAD) {
        this.falseStarts++;
        this.logByte(joined[at] as number);
        at++;
        continue;
      }
      if (at + HEADER_BYTES + length > joined.length) break;
      const payload = joined.slice(at + HEADER_BYTES, at + HEADER_BYTES + length);
      at += HEADER_BYTES + length;
      this.events.frame(payload);
    }
    this.buffer = joined.slice(at);
  }

  private logByte(byte: number): void {
    this.logBytes++;
    if (byte === 0x0a) {
      this.flushLog();
      return;
    }
    if (byte === 0x0d) return;
    this.logLine.push(byte);
    // A console line longer than this is noise on the wire, not something to keep growing.
    if (this.logLine.length >= 512) this.flushLog();
  }

  private flushLog(): void {
    if (this.logLine.length === 0) return;
    const line = Buffer.from(this.logLine).toString("utf8").replace(ANSI_COLOUR, "").trim();
    this.logLine = [];
    if (line.length > 0) this.events.log?.(line);
  }
}
