/**
 * Shared conformance cases computed before a default changed, with the earlier default each one
 * needs stated explicitly (the case files are synced from the shared specification and are not
 * edited here). `describeConformance` runs these cases with these parameters added.
 */
export const EARLIER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // GRPO's KL term: TRL 1.13 multiplies it by the ratio by default (useBiasCorrectionKl: true).
  'grpo/1/058': { useBiasCorrectionKl: false },
};

/**
 * Metrics of shared conformance cases whose definition the December 2026 additions changed (the
 * normative text wins over the older cases): `describeConformance` leaves them unchecked there;
 * their new values are checked by the golden TRL cases of `conformance/trl/`.
 */
export const SUPERSEDED_METRICS: Readonly<Record<string, readonly string[]>> = {
  // CPO with AlphaPO and cpoAlpha 0: logps/* now report the log-probs (not the shaped reward), nll_loss is 0.
  'cpo/1/048': ['logps/chosen', 'logps/rejected', 'nll_loss'],
};
