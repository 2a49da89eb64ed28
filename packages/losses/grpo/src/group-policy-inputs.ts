import type { InputSchema } from '@pref/core';

/**
 * What `grpo` and `rloo` read: the completions (`logps` with `mask` `[N, T]`, or `logits` with
 * `labels`), optional old-policy and reference token log-probs `[N, T]`, and either advantages
 * `[N]` or rewards `[N]` (with the `groupSize` parameter).
 */
export const GROUP_POLICY_INPUTS = {
  policy: {
    kind: 'sequence',
    prefix: '',
    description:
      'Sampled completions, G consecutive rows per prompt: current-policy token log-probs [N, T] with a 0/1 mask, or logits [N, T, V] with labels.',
  },
  old: {
    kind: 'tokens',
    name: 'oldLogps',
    sequence: 'policy',
    optional: true,
    logProbs: true,
    description: 'Token log-probs of the policy that sampled the completions [N, T]; absent = on-policy (the current log-probs, detached).',
  },
  ref: {
    kind: 'tokens',
    name: 'refLogps',
    sequence: 'policy',
    optional: true,
    logProbs: true,
    description: 'Token log-probs of the reference model [N, T]; needed when beta > 0.',
  },
  advantages: {
    kind: 'rows',
    name: 'advantages',
    optional: true,
    description: 'Precomputed advantages [N] (give these or rewards).',
  },
  rewards: {
    kind: 'rows',
    name: 'rewards',
    optional: true,
    description: 'Scalar reward of each completion [N], turned into advantages within groups of groupSize consecutive rows.',
  },
} as const satisfies InputSchema;
