/** A LoRa modulation: what the airtime of a packet depends on. */
export interface LoraModulation {
  readonly spreadingFactor: number;
  readonly bandwidthHz: number;
  /** Coding rate denominator: 5 for 4/5 … 8 for 4/8. */
  readonly codingRateDenominator: number;
  readonly preambleSymbols: number;
  readonly explicitHeader: boolean;
  readonly crc: boolean;
}

export type PresetName =
  | "SHORT_TURBO" | "SHORT_FAST" | "SHORT_SLOW" | "MEDIUM_FAST" | "MEDIUM_SLOW"
  | "LONG_TURBO" | "LONG_FAST" | "LONG_MODERATE" | "LONG_SLOW" | "VERY_LONG_SLOW";

const preset = (spreadingFactor: number, bandwidthKhz: number, codingRateDenominator: number): LoraModulation => ({
  spreadingFactor, bandwidthHz: bandwidthKhz * 1000, codingRateDenominator, preambleSymbols: 16, explicitHeader: true, crc: true,
});

/** Meshtastic's modem presets (firmware RadioInterface, regions without wide LoRa), fastest first. */
export const PRESETS: Readonly<Record<PresetName, LoraModulation>> = {
  SHORT_TURBO: preset(7, 500, 5),
  SHORT_FAST: preset(7, 250, 5),
  SHORT_SLOW: preset(8, 250, 5),
  MEDIUM_FAST: preset(9, 250, 5),
  MEDIUM_SLOW: preset(10, 250, 5),
  LONG_TURBO: preset(11, 500, 8),
  LONG_FAST: preset(11, 250, 5),
  LONG_MODERATE: preset(11, 125, 8),
  LONG_SLOW: preset(12, 125, 8),
  VERY_LONG_SLOW: preset(12, 62.5, 8),
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Accepts LONG_FAST, LongFast, long-fast …; null when unknown. */
export function presetByName(name: string): PresetName | null {
  const key = name.replace(/[-\s]/g, "_").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  return (PRESET_NAMES as string[]).includes(key) ? (key as PresetName) : null;
}
