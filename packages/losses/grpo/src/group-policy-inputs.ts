import type { InputSchema, ParamRule } from '@pref/core';

/** The KL term (grpo) or the KL penalty on the rewards (rloo) reads the reference log-probs. */
export const WITH_KL: ParamRule = {
  when: 'beta > 0',
  holds: (p) => typeof p.beta === 'number' && p.beta > 0,
  actual: (p) => `beta is ${String(p.beta)}`,
  hint: 'set beta to 0 to train without the KL term',
};

/**
 * What `grpo` and `rloo` read: the completions (`logps` with `mask` `[N, T]`, or `logits` with
 * `labels`), optional old-policy and reference token log-probs `[N, T]`, and either advantages
 * `[N]` or rewards `[N]` (with the `groupSize` parameter). Every rule between them and the
 * parameters is checked on the host before any tensor exists: `refLogps` when `beta > 0`, one
 * of `advantages` / `rewards`, `rewards` only with `groupSize`, rows in whole groups of
 * `groupSize`.
 */
export const GROUP_POLICY_INPUTS = {
  policy: {
    kind: 'sequence',
    prefix: '',
    description:
      'Sampled completions, G consecutive rows per prompt: current-policy token log-probs [N, T] with a 0/1 mask, or logits [N, T, V] with labels.',
    rowsMultipleOf: {
      param: 'groupSize',
      hint: 'rows are grouped consecutively, groupSize completions per prompt, and with data parallelism every worker must hold whole groups',
    },
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
    requiredWhen: WITH_KL,
    description: 'Token log-probs of the reference model [N, T], for the KL to it (beta).',
  },
  advantages: {
    kind: 'rows',
    name: 'advantages',
    optional: true,
    oneOf: 'advantages',
    requireOneOf: true,
    description: 'Precomputed advantages [N] (give these, or rewards [N] with the groupSize parameter).',
  },
  rewards: {
    kind: 'rows',
    name: 'rewards',
    optional: true,
    oneOf: 'advantages',
    forbiddenWhen: {
      when: 'groupSize is not set',
      holds: (p) => p.groupSize === null || p.groupSize === undefined,
      param: 'groupSize',
      hint: 'rewards are turned into advantages within groups of groupSize consecutive rows: set groupSize (completions per prompt), or pass advantages instead',
    },
    description: 'Scalar reward of each completion [N], turned into advantages within groups of groupSize consecutive rows.',
  },
} as const satisfies InputSchema;
