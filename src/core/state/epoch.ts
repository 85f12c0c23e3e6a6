/*
 * Epochs: heights 0..L−1 are epoch 0, L..2L−1 epoch 1, and so on, for L = `epochLength`. Changes
 * that alter who votes or how the chain runs (validators joining, governance outcomes) wait for the
 * next epoch's first block, so every node switches at the same, predictable height.
 */

function requireLength(epochLength: bigint): number {
  if (epochLength < 1n) throw new RangeError(`epochLength must be at least 1, got ${epochLength}`);
  return Number(epochLength);
}

function requireHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
}

export function epochOf(height: number, epochLength: bigint): number {
  requireHeight(height);
  return Math.floor(height / requireLength(epochLength));
}

/** The first height of the epoch after the one holding `height`. */
export function nextEpochStart(height: number, epochLength: bigint): number {
  return (epochOf(height, epochLength) + 1) * requireLength(epochLength);
}

export function isEpochStart(height: number, epochLength: bigint): boolean {
  requireHeight(height);
  return height % requireLength(epochLength) === 0;
}
