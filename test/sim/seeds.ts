/**
 * Seeds for the fault scenarios: 40 by default (about three and a half seconds of CPU each, almost
 * all BLS); a deeper soak with MESHCHAIN_SIM_SEEDS=300 npx vitest run test/sim.
 */
export function faultSeeds(): number[] {
  const count = Number(process.env.MESHCHAIN_SIM_SEEDS ?? 40);
  return Array.from({ length: count }, (_, i) => 1000 + i);
}
