import type { LoraModulation } from "./presets.js";

/** Meshtastic's radio header in front of every LoRa payload. */
export const RADIO_HEADER_BYTES = 16;
export const MAX_LORA_FRAME_BYTES = 255;
/** Low-data-rate optimisation is on when a symbol lasts 16 ms or more, as the Semtech guidance says. */
const LDRO_SYMBOL_MS = 16;

export function symbolMs(m: LoraModulation): number {
  return (2 ** m.spreadingFactor / m.bandwidthHz) * 1000;
}

export function lowDataRateOptimise(m: LoraModulation): boolean {
  return symbolMs(m) >= LDRO_SYMBOL_MS;
}

/**
 * Time on air of one LoRa frame of `frameBytes` (radio header included), by the Semtech formula:
 *   Tpre = (Npre + 4.25)·Tsym
 *   Npay = 8 + max(ceil((8PL − 4SF + 28 + 16CRC − 20IH) / (4(SF − 2DE)))·(CR + 4), 0)
 */
export function airtimeMs(m: LoraModulation, frameBytes: number): number {
  if (!Number.isInteger(frameBytes) || frameBytes < 1 || frameBytes > MAX_LORA_FRAME_BYTES) {
    throw new RangeError(`a LoRa frame is 1-${MAX_LORA_FRAME_BYTES} bytes, not ${frameBytes}`);
  }
  const tsym = symbolMs(m);
  const de = lowDataRateOptimise(m) ? 1 : 0;
  const ih = m.explicitHeader ? 0 : 1;
  const crc = m.crc ? 1 : 0;
  const cr = m.codingRateDenominator - 4;
  const numerator = 8 * frameBytes - 4 * m.spreadingFactor + 28 + 16 * crc - 20 * ih;
  const payloadSymbols = 8 + Math.max(Math.ceil(numerator / (4 * (m.spreadingFactor - 2 * de))) * (cr + 4), 0);
  return (m.preambleSymbols + 4.25) * tsym + payloadSymbols * tsym;
}

/**
 * Bytes of the serialized `Data` protobuf that carries `payloadBytes` on a port ≥ 128 with the
 * bitfield set: port tag and 2-byte varint, payload tag and length, bitfield tag and value.
 */
export function dataMessageBytes(payloadBytes: number): number {
  const lengthVarint = payloadBytes < 128 ? 1 : 2;
  return 3 + 1 + lengthVarint + payloadBytes + 2;
}

/** Airtime of one of our frames sent through a Meshtastic radio: header + Data + frame. */
export function meshtasticFrameAirtimeMs(m: LoraModulation, frameBytes: number): number {
  return airtimeMs(m, RADIO_HEADER_BYTES + dataMessageBytes(frameBytes));
}

