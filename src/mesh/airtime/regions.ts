/**
 * Duty-cycle limits the firmware enforces per region (percent of an hour), from the region table of
 * Meshtastic's firmware (RadioInterface.cpp, `regions[]`); regions not listed allow 100%.
 * EU_866 (2.5%, 10% for ROUTER roles) and NARROW_868 (10%) are newer than the protobufs we build
 * against, which cannot name them.
 */
const DUTY_CYCLE_PERCENT: Readonly<Record<string, number>> = {
  EU_433: 10,
  EU_868: 10,
  UA_433: 10,
  UA_868: 1,
};

export const KNOWN_REGIONS = ["US", "EU_433", "EU_868", "CN", "JP", "ANZ", "KR", "TW", "RU", "IN", "NZ_865", "TH", "UA_433", "UA_868", "MY_433", "MY_919", "SG_923", "PH_433", "PH_868", "PH_915", "LORA_24"] as const;

export function dutyCycleFraction(region: string): number {
  return (DUTY_CYCLE_PERCENT[region] ?? 100) / 100;
}
