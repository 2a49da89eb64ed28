import fc from 'fast-check';
import { sequenceArbitrary } from '@pref/testing';

/** A batch for `grpo`/`rloo` on the log-prob path, `groups · groupSize` rows. */
export type GroupBatch = {
  logps: number[][];
  mask: number[][];
  oldLogps: number[][];
  refLogps: number[][];
  rewards: number[];
};

const clampLogp = (x: number) => Math.min(x, -1e-3);

/**
 * Token log-probs with a mask, old-policy log-probs within ±`maxShift` of them, reference
 * log-probs within ±1, and rewards in [-2, 2] in steps of 0.001 (fast-check's doubles crowd
 * around 0, where a group's rewards tie).
 */
export function groupBatchArbitrary(rows: number, options: { maxShift?: number; maxSteps?: number } = {}): fc.Arbitrary<GroupBatch> {
  const { maxShift = 0.3, maxSteps = 5 } = options;
  return sequenceArbitrary({ rows, maxSteps, minLogp: -4 }).chain(({ logps, mask }) => {
    const steps = logps[0].length;
    const shifts = (size: number) =>
      fc.array(fc.array(fc.double({ min: -size, max: size, noNaN: true }), { minLength: steps, maxLength: steps }), {
        minLength: rows,
        maxLength: rows,
      });
    return fc
      .record({
        old: shifts(maxShift),
        ref: shifts(1),
        rewards: fc.array(
          fc.integer({ min: -2000, max: 2000 }).map((v) => v / 1000),
          { minLength: rows, maxLength: rows },
        ),
      })
      .map(({ old, ref, rewards }) => ({
        logps,
        mask,
        oldLogps: logps.map((row, i) => row.map((l, t) => clampLogp(l + old[i][t]))),
        refLogps: logps.map((row, i) => row.map((l, t) => clampLogp(l + ref[i][t]))),
        rewards,
      }));
  });
}

/** Importance ratios the way `grpo` (token or sequence) or `rloo` forms them, per counted token or row. */
export function hostRatios(batch: GroupBatch, level: 'token' | 'sequence' | 'summed'): number[] {
  return batch.logps.flatMap((row, i) => {
    const counted = row.map((_, t) => t).filter((t) => batch.mask[i][t] === 1);
    const logRatios = counted.map((t) => row[t] - batch.oldLogps[i][t]);
    if (level === 'token') return logRatios.map(Math.exp);
    const total = logRatios.reduce((s, x) => s + x, 0);
    return [Math.exp(level === 'sequence' ? total / counted.length : total)];
  });
}

/** Whether every ratio is at least `gap` away from the clip bounds (finite differences are exact there). */
export function awayFromClipBounds(ratios: readonly number[], low: number, high: number, gap = 1e-3): boolean {
  return ratios.every((r) => Math.abs(r - (1 - low)) > gap && Math.abs(r - (1 + high)) > gap);
}
