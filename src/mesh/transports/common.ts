import { TransportError } from "../errors.js";

export type Lifecycle = "new" | "running" | "stopped";

/** The checks every transport makes before it puts a frame on its link. */
export function assertSendable(state: Lifecycle, frame: Uint8Array, mtu: number, kind: string): void {
  if (state === "new") throw new TransportError("NOT_STARTED", `${kind} transport is not started`);
  if (state === "stopped") throw new TransportError("CLOSED", `${kind} transport is stopped`);
  if (frame.length === 0 || frame.length > mtu) throw new TransportError("FRAME_TOO_LARGE", `frame of ${frame.length} bytes does not fit the ${kind} MTU of ${mtu}`);
}

/** Bounded memory of recently seen keys, oldest forgotten first. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly limit: number) {}

  /** True when the key was already seen; remembers it either way. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value as string);
    return false;
  }
}
