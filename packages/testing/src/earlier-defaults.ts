/**
 * Shared conformance cases computed before a default changed, with the earlier default each one
 * needs stated explicitly (the case files are synced from the shared specification and are not
 * edited here). `describeConformance` runs these cases with these parameters added.
 */
export const EARLIER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // GRPO's KL term: TRL 1.13 multiplies it by the ratio by default (useBiasCorrectionKl: true).
  'grpo/1/058': { useBiasCorrectionKl: false },
};
