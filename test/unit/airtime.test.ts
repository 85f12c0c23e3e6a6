import { describe, expect, it } from "vitest";
import { airtimeMs, dataMessageBytes, lowDataRateOptimise, meshtasticFrameAirtimeMs, symbolMs } from "../../src/mesh/airtime/airtime.js";
import { PRESET_NAMES, PRESETS, presetByName } from "../../src/mesh/airtime/presets.js";
import { MESHTASTIC_MTU } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { encodeData, PRIVATE_APP_PORT } from "../../src/mesh/meshtastic/envelope.js";

/**
 * An independent statement of the Semtech rule: payload symbols come in blocks of (CR + 4); count
 * the blocks needed to carry the payload bits (8·PL + 16 CRC + 20 header − 4·SF + 8 bits, with each
 * block carrying 4·(SF − 2·DE) bits), by counting up rather than dividing.
 */
function independentAirtimeMs(sf: number, bwHz: number, crDenominator: number, bytes: number): number {
  const tsym = (2 ** sf / bwHz) * 1000;
  const de = tsym >= 16 ? 1 : 0;
  const bitsNeeded = 8 * bytes - 4 * sf + 28 + 16;
  let blocks = 0;
  while (blocks * 4 * (sf - 2 * de) < bitsNeeded) blocks++;
  const payloadSymbols = 8 + blocks * crDenominator;
  return (16 + 4.25) * tsym + payloadSymbols * tsym;
}

describe("airtime model", () => {
  it("matches the figures in DESIGN.md for LongFast", () => {
    expect(airtimeMs(PRESETS.LONG_FAST, 100)).toBeCloseTo(1009.664, 3);
    expect(airtimeMs(PRESETS.LONG_FAST, 255)).toBeCloseTo(2156.544, 3);
  });

  it("matches hand-computed values, low-data-rate optimisation included", () => {
    // LongSlow: SF12/125 kHz, Tsym 32.768 ms (LDRO on): 255 B → 20.25 + 8 + 51·8 symbols.
    expect(airtimeMs(PRESETS.LONG_SLOW, 255)).toBeCloseTo((20.25 + 8 + 51 * 8) * 32.768, 6);
    // LongModerate: SF11/125 kHz, Tsym 16.384 ms (LDRO on): 50 B → ceil((400 − 44 + 28 + 16)/36) = 12 blocks of 8.
    expect(airtimeMs(PRESETS.LONG_MODERATE, 50)).toBeCloseTo((20.25 + 8 + 12 * 8) * 16.384, 6);
    // ShortTurbo: SF7/500 kHz, Tsym 0.256 ms: 20 B → ceil(176/28) = 7 blocks of 5.
    expect(airtimeMs(PRESETS.SHORT_TURBO, 20)).toBeCloseTo((20.25 + 8 + 7 * 5) * 0.256, 6);
    expect(lowDataRateOptimise(PRESETS.LONG_FAST)).toBe(false);
    expect(lowDataRateOptimise(PRESETS.LONG_MODERATE)).toBe(true);
    expect(lowDataRateOptimise(PRESETS.VERY_LONG_SLOW)).toBe(true);
    expect(symbolMs(PRESETS.MEDIUM_FAST)).toBeCloseTo(2.048, 6);
  });

  it.each(PRESET_NAMES)("agrees with an independent computation for %s at every size 1-255", (name) => {
    const m = PRESETS[name];
    for (let bytes = 1; bytes <= 255; bytes++) {
      expect(airtimeMs(m, bytes)).toBeCloseTo(independentAirtimeMs(m.spreadingFactor, m.bandwidthHz, m.codingRateDenominator, bytes), 9);
    }
  });

  it("never decreases with size and refuses impossible frames", () => {
    for (const name of PRESET_NAMES) for (let b = 2; b <= 255; b++) expect(airtimeMs(PRESETS[name], b)).toBeGreaterThanOrEqual(airtimeMs(PRESETS[name], b - 1));
    expect(() => airtimeMs(PRESETS.LONG_FAST, 0)).toThrow(RangeError);
    expect(() => airtimeMs(PRESETS.LONG_FAST, 256)).toThrow(RangeError);
  });

  it("counts the Data wrapper of our frames exactly, up to a full 255-byte LoRa frame", () => {
    for (const n of [1, 50, 127, 128, 200, MESHTASTIC_MTU]) {
      expect(dataMessageBytes(n)).toBe(encodeData({ portnum: PRIVATE_APP_PORT, payload: new Uint8Array(n), bitfield: 1, wantResponse: false }).length);
    }
    expect(16 + dataMessageBytes(MESHTASTIC_MTU)).toBe(255);
    expect(meshtasticFrameAirtimeMs(PRESETS.LONG_FAST, MESHTASTIC_MTU)).toBeCloseTo(airtimeMs(PRESETS.LONG_FAST, 255), 9);
  });

  it("reads preset names as people write them", () => {
    expect(presetByName("LongFast")).toBe("LONG_FAST");
    expect(presetByName("long_slow")).toBe("LONG_SLOW");
    expect(presetByName("SHORT-TURBO")).toBe("SHORT_TURBO");
    expect(presetByName("nope")).toBeNull();
  });
});
