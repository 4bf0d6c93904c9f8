/**
 * Learning-rate schedule of docs/paper.md 4.7: linear warm-up, then polynomial decay with power 0.9 to 0.
 */

/**
 * Multiplier of the base learning rate at a step (0-based).
 * @param step current step
 * @param totalSteps steps of the whole run
 * @param warmupSteps linear warm-up length (from 1/warmup to 1)
 * @param power poly decay power @default 0.9
 * @returns factor in (0, 1]
 */
export function lrFactor(step: number, totalSteps: number, warmupSteps: number, power = 0.9): number {
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const p = Math.min(1, (step - warmupSteps) / span);
  // Never exactly 0 on the last step, so every step still learns a little.
  return Math.max((1 - p) ** power, 1e-3);
}
