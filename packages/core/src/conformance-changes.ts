import type { ConformanceCase } from './conformance';

/**
 * Shared conformance cases computed before a default changed, with the earlier default each one
 * needs stated explicitly (the case files are synced from the shared specification and are not
 * edited here). `runConformanceCase` runs these cases with these parameters added (so do `pref conformance` and
 * the browser check, which call it).
 */
export const EARLIER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // GRPO's KL term: TRL 1.13 multiplies it by the ratio by default (useBiasCorrectionKl: true).
  'grpo/1/058': { useBiasCorrectionKl: false },
};

/**
 * Metrics of shared conformance cases whose definition the December 2026 additions changed (the
 * normative text wins over the older cases): `runConformanceCase` leaves them unchecked there;
 * their new values are checked by the golden TRL cases of `conformance/trl/`.
 */
export const SUPERSEDED_METRICS: Readonly<Record<string, readonly string[]>> = {
  // CPO with AlphaPO and cpoAlpha 0: logps/* now report the log-probs (not the shaped reward), nll_loss is 0.
  'cpo/1/048': ['logps/chosen', 'logps/rejected', 'nll_loss'],
};

/** A shared case with its earlier defaults stated and its superseded metrics left out. Idempotent. */
export function withSpecificationChanges(testCase: ConformanceCase): ConformanceCase {
  const earlier = EARLIER_DEFAULTS[testCase.id];
  const superseded = SUPERSEDED_METRICS[testCase.id];
  let changed = earlier ? { ...testCase, params: { ...earlier, ...testCase.params } } : testCase;
  if (superseded && !('error' in changed.expected)) {
    const expected = changed.expected;
    const metrics = Object.fromEntries(Object.entries(expected.metrics).filter(([name]) => !superseded.includes(name)));
    changed = { ...changed, expected: { ...expected, metrics } };
  }
  return changed;
}
