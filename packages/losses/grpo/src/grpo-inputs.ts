import type { InputSchema } from '@pref/core';
import { GROUP_POLICY_INPUTS } from './group-policy-inputs';

/** What `grpo` reads: the group-policy inputs, plus the sampler's log-probs, token entropies and truncation flags. */
export const GRPO_INPUTS = {
  ...GROUP_POLICY_INPUTS,
  sampler: {
    kind: 'tokens',
    name: 'samplerLogps',
    sequence: 'policy',
    optional: true,
    logProbs: true,
    description:
      'Token log-probs the sampler (e.g. vLLM) reported for the completions [N, T]; given = the sampler importance-sampling ' +
      'correction (TRL vllm_importance_sampling_*) applies, and the off-policy mask measures against them.',
  },
  entropies: {
    kind: 'tokens',
    name: 'entropies',
    sequence: 'policy',
    optional: true,
    description:
      'Entropy (nats) of the policy at each token [N, T], for topEntropyQuantile and entropyCoef; on the logits path it is ' +
      'computed from the logits (with gradient) when not given.',
  },
  truncated: {
    kind: 'rows',
    name: 'truncated',
    optional: true,
    values: 'binary',
    requiredWhen: { when: 'maskTruncatedCompletions is true', holds: (p) => p.maskTruncatedCompletions === true },
    description: '1 for a completion cut at the length limit (no EOS) [N]; with maskTruncatedCompletions its tokens leave the loss.',
  },
} as const satisfies InputSchema;
