import type { ParamSpec } from '@pref/core';

/** The parameters `grpo` and `rloo` share for turning rewards into advantages. */
export const ADVANTAGE_PARAMS = {
  normalizeAdvantages: {
    kind: 'enum',
    values: ['none', 'global'],
    default: 'none',
    description: 'global: (A − mean)/(std + 1e-4) over every row of every worker (REINFORCE++).',
  },
  groupSize: {
    kind: 'number',
    default: null,
    min: 2,
    integer: true,
    symbol: 'G',
    description: 'Completions per prompt (consecutive rows); needed with rewards. Each data-parallel worker must hold whole groups.',
  },
} as const satisfies Record<string, ParamSpec>;
