import { toleranceFor, type ValueAndGradResult } from '@pref/core';
import type { CorrectnessCheck } from './bench-report';

/** The part of a `valueAndGrad` result the suite checks: the loss and every gradient. */
export type CheckedResult = Pick<ValueAndGradResult, 'loss' | 'grads'>;

const WORST = Number.MAX_VALUE;

function ratioOf(diff: number, allowed: number): number {
  if (Number.isNaN(diff)) return WORST;
  return Math.min(WORST, diff / allowed);
}

/**
 * Compares `actual` with the float64 oracle's result at the tolerance of `precision` (core's
 * conformance tolerances: relative 1e-9 in float64, 1e-4 in float32). The loss is compared
 * elementwise (`|a − e| ≤ rtol·|e| + atol`); each gradient normwise, so that tiny gradients
 * (logits gradients are O(1/(N·T))) cannot pass by falling under an absolute floor:
 * `|a_i − e_i| ≤ rtol·(|e_i| + max_j |e_j|)`. NaN, a missing gradient or a wrong size fail.
 */
export function compareWithOracle(actual: CheckedResult, oracle: CheckedResult, precision: 32 | 64): CorrectnessCheck {
  const tolerance = toleranceFor(precision);
  const rtol = tolerance.relative;
  let worstRatio = ratioOf(Math.abs(actual.loss - oracle.loss), rtol * Math.abs(oracle.loss) + tolerance.absolute);
  let worstAt = 'loss';
  const note = (ratio: number, at: string) => {
    if (ratio > worstRatio || (ratio === worstRatio && worstRatio === WORST && worstAt === 'loss')) {
      worstRatio = ratio;
      worstAt = at;
    }
  };
  for (const [name, expected] of Object.entries(oracle.grads)) {
    const got = actual.grads[name];
    if (!got || got.data.length !== expected.data.length) {
      note(WORST, got ? `grads.${name} (${got.data.length} values, expected ${expected.data.length})` : `grads.${name} (missing)`);
      continue;
    }
    let scale = 0;
    for (let i = 0; i < expected.data.length; i++) scale = Math.max(scale, Math.abs(expected.data[i]));
    let worstIndex = -1;
    let worst = -1;
    for (let i = 0; i < expected.data.length; i++) {
      const e = expected.data[i];
      const ratio = ratioOf(Math.abs(got.data[i] - e), rtol * (Math.abs(e) + scale) + Number.MIN_VALUE);
      if (ratio > worst) {
        worst = ratio;
        worstIndex = i;
      }
    }
    note(worst, `grads.${name}[${worstIndex}]`);
  }
  return { passed: worstRatio <= 1, worstRatio, worstAt, relativeTolerance: rtol };
}

/** One line describing a failed check, for reports. */
export function describeMismatch(check: CorrectnessCheck): string {
  const ratio = check.worstRatio >= WORST ? 'NaN or missing' : `${check.worstRatio.toExponential(2)}× the tolerance`;
  return `result differs from the reference float64 backend at ${check.worstAt} (${ratio}; relative tolerance ${check.relativeTolerance})`;
}
