import { symbolMs } from "./airtime.js";
import type { LoraModulation } from "./presets.js";

/*
 * Meshtastic's channel access, as the firmware computes it (src/mesh/RadioInterface.cpp and
 * RadioLibInterface.cpp, 2.5+/2.7): every frame a radio sends, its own or a relay, waits a random
 * number of contention slots first; the window grows with the channel's utilisation (own frames) or
 * with the signal's strength (relays, so that the relay that extends coverage most goes first); a
 * ROUTER relays before any CLIENT. One function per rule, each with a test (test/unit/channel-access.test.ts).
 */

/** RadioInterface::CWmin and CWmax: contention windows span 2^3 … 2^8 slots. */
export const CW_MIN = 3;
export const CW_MAX = 8;
/** The SNR range getCWsize maps onto the window (dB). */
export const SNR_MIN_DB = -20;
export const SNR_MAX_DB = 10;
/** NUM_SYM_CAD (RadioLib's default since 6.3, AN1200.48): channel activity detection listens 2 symbols, plus half a symbol. */
const CAD_SYMBOLS = 2 + 0.5;
/** Round-trip propagation (30 km), TX/RX turnaround and MAC processing measured on a T-Beam (ms). */
const PROPAGATION_TURNAROUND_MAC_MS = 0.2 + 0.4 + 7;
/** AirTime: channel utilisation is the busy time of the last 6 periods of 10 s. */
export const UTILISATION_PERIOD_MS = 10_000;
export const UTILISATION_PERIODS = 6;

/** Meshtastic device roles as far as channel access goes. */
export type RadioRole = "CLIENT" | "ROUTER" | "CLIENT_MUTE";

/**
 * Arduino's map(): integer arithmetic on longs, so the input is truncated toward zero first and the
 * quotient too. It does not clamp; callers that can go out of range clamp to the window themselves.
 */
export function arduinoMap(x: number, inMin: number, inMax: number, outMin: number, outMax: number): number {
  return Math.trunc((Math.trunc(x) - inMin) * (outMax - outMin) / (inMax - inMin)) + outMin;
}

/** RadioInterface::computeSlotTimeMsec (sub-GHz): CAD time plus propagation, turnaround and MAC; a uint32_t, so whole ms. 28 ms at LongFast. */
export function slotTimeMs(m: LoraModulation): number {
  return Math.trunc(CAD_SYMBOLS * symbolMs(m) + PROPAGATION_TURNAROUND_MAC_MS);
}

/** How long a transmission must have been on air before another radio's channel activity detection can see it. */
export function cadDetectMs(m: LoraModulation): number {
  return CAD_SYMBOLS * symbolMs(m);
}

const clampWindow = (cw: number): number => Math.min(CW_MAX, Math.max(CW_MIN, cw));

/** getTxDelayMsec's window: map(channel utilisation %, 0, 100, CWmin, CWmax). */
export function utilisationWindow(utilisationPercent: number): number {
  return clampWindow(arduinoMap(utilisationPercent, 0, 100, CW_MIN, CW_MAX));
}

/** getCWsize: map(SNR, −20, 10, CWmin, CWmax); a strong signal (a near neighbour) waits longer. */
export function snrWindow(snrDb: number): number {
  return clampWindow(arduinoMap(snrDb, SNR_MIN_DB, SNR_MAX_DB, CW_MIN, CW_MAX));
}

/** Arduino random(0, n): a whole number in [0, n). */
const randomBelow = (n: number, random: () => number): number => Math.floor(random() * n);

/** getTxDelayMsec: what a radio waits before sending a frame it originates. */
export function ownFrameDelayMs(utilisationPercent: number, slotMs: number, random: () => number): number {
  return randomBelow(2 ** utilisationWindow(utilisationPercent), random) * slotMs;
}

/**
 * getTxDelayMsecWeighted: what a radio waits before relaying a frame it heard at `snrDb`. A ROUTER
 * draws from 2·CW slots; anyone else first waits out the routers' whole window (2·CWmax slots), then
 * draws from 2^CW.
 */
export function relayDelayMs(role: RadioRole, snrDb: number, slotMs: number, random: () => number): number {
  const cw = snrWindow(snrDb);
  if (role === "ROUTER") return randomBelow(2 * cw, random) * slotMs;
  return 2 * CW_MAX * slotMs + randomBelow(2 ** cw, random) * slotMs;
}

/** Whether a role rebroadcasts what it hears (CLIENT_MUTE does not). */
export const relays = (role: RadioRole): boolean => role !== "CLIENT_MUTE";

/**
 * AirTime's channel utilisation: busy time logged into the current of six 10-second periods (the
 * oldest is cleared when a new one starts), reported as the share of the minute they span.
 */
export class ChannelUtilisation {
  private readonly periods = new Array<number>(UTILISATION_PERIODS).fill(0);
  private period = 0;

  log(now: number, busyMs: number): void {
    this.advance(now);
    this.periods[this.period % UTILISATION_PERIODS]! += busyMs;
  }

  percent(now: number): number {
    this.advance(now);
    return (this.periods.reduce((a, b) => a + b, 0) / (UTILISATION_PERIODS * UTILISATION_PERIOD_MS)) * 100;
  }

  private advance(now: number): void {
    const current = Math.floor(now / UTILISATION_PERIOD_MS);
    if (current - this.period >= UTILISATION_PERIODS) this.periods.fill(0);
    else for (let p = this.period + 1; p <= current; p++) this.periods[p % UTILISATION_PERIODS] = 0;
    this.period = Math.max(this.period, current);
  }
}
