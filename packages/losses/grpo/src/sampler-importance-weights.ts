import type { Tensor, TensorOps } from '@pref/core';
import { boundedExp } from './bounded-exp';

/** TRL's `vllm_importance_sampling_mode`: truncate or mask, per token or per sequence. */
export type SamplerImportanceSamplingMode = 'token_truncate' | 'token_mask' | 'sequence_truncate' | 'sequence_mask';

/** The sampler correction's weights and their logs (for VESPO). */
export interface SamplerImportanceWeights {
  /** `[N, T]` (token modes) or `[N, 1]` (sequence modes); no gradient. */
  readonly weights: Tensor;
  /** Whether the weights are one per sequence. */
  readonly sequenceLevel: boolean;
}

/**
 * The importance weights that correct for the sampler (an inference engine such as vLLM)
 * scoring tokens differently from the trained policy's old log-probs (TRL's
 * `vllm_importance_sampling_*`; Yao et al., "Your Efficient RL Framework Secretly Brings You
 * Off-Policy RL Training", 2025, truncated importance sampling): `ρ = exp(m·(l_old − l_sampler))`
 * per token, or `exp(Σ_t m·(l_old − l_sampler))` per sequence; `*_truncate` clamps ρ to
 * `[clipMin, clipMax]`, `*_mask` sets ρ to 0 outside it (`null` bound = none). Detached.
 */
export function samplerImportanceWeights(
  ops: TensorOps,
  oldLogps: Tensor,
  samplerLogps: Tensor,
  mask: Tensor,
  options: { readonly mode: SamplerImportanceSamplingMode; readonly clipMin: number | null; readonly clipMax: number | null },
): SamplerImportanceWeights {
  const tokenGap = ops.where(mask, ops.sub(ops.stopGradient(oldLogps), samplerLogps), 0);
  const sequenceLevel = options.mode.startsWith('sequence');
  let weights = boundedExp(ops, sequenceLevel ? ops.sum(tokenGap, 1, true) : tokenGap);
  const { clipMin, clipMax } = options;
  if (options.mode.endsWith('truncate')) {
    if (clipMin !== null) weights = ops.maximum(weights, clipMin);
    if (clipMax !== null) weights = ops.minimum(weights, clipMax);
  } else {
    if (clipMin !== null) weights = ops.where(ops.less(weights, clipMin), 0, weights);
    if (clipMax !== null) weights = ops.where(ops.greater(weights, clipMax), 0, weights);
  }
  return { weights: ops.stopGradient(weights), sequenceLevel };
}
