import type { InputSchema } from '@pref/core';
import { GROUP_POLICY_INPUTS } from './group-policy-inputs';

/**
 * What `grpo` reads: the group-policy inputs, plus the sampler's log-probs, token entropies and
 * truncation flags. Their rules with the parameters (entropies for `topEntropyQuantile` /
 * `entropyCoef`, `truncated` for `maskTruncatedCompletions`, no sequence-level sampler
 * correction for `vespo`) are checked on the host before any tensor exists.
 */
export const GRPO_INPUTS = {
  ...GROUP_POLICY_INPUTS,
  sampler: {
    kind: 'tokens',
    name: 'samplerLogps',
    sequence: 'policy',
    optional: true,
    logProbs: true,
    forbiddenWhen: {
      when: 'lossType is "vespo" with the sampler correction at sequence level',
      holds: (p) =>
        p.lossType === 'vespo' &&
        p.vllmImportanceSamplingCorrection === true &&
        String(p.vllmImportanceSamplingMode).startsWith('sequence'),
      actual: (p) => `vllmImportanceSamplingMode is ${String(p.vllmImportanceSamplingMode)}`,
      param: 'vllmImportanceSamplingMode',
      hint: 'vespo folds the sampler ratio into its per-token Gamma weight: set vllmImportanceSamplingMode to token_truncate or token_mask, or vllmImportanceSamplingCorrection to false',
    },
    description:
      'Token log-probs the sampler (e.g. vLLM) reported for the completions [N, T]; given = the sampler importance-sampling ' +
      'correction (TRL vllm_importance_sampling_*) applies, and the off-policy mask measures against them.',
  },
  entropies: {
    kind: 'tokens',
    name: 'entropies',
    sequence: 'policy',
    optional: true,
    fromLogits: true,
    requiredWhen: {
      when: 'topEntropyQuantile < 1 or entropyCoef ≠ 0',
      holds: (p) => (p.topEntropyQuantile as number) < 1 || (p.entropyCoef as number) !== 0,
      actual: (p) => `topEntropyQuantile is ${String(p.topEntropyQuantile)}, entropyCoef is ${String(p.entropyCoef)}`,
      hint: 'pass entropies, or the policy as logits with labels or as hidden states with lmHead (entropies are computed from them), or set topEntropyQuantile to 1 and entropyCoef to 0',
    },
    description:
      'Entropy (nats) of the policy at each token [N, T], for topEntropyQuantile and entropyCoef; on the logits and hidden-state ' +
      'paths it is computed from the logits or the hidden states and lmHead (with gradient) when not given.',
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
