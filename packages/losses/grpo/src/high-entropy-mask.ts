import { PrefParamError, type ForwardContext, type Tensor } from '@pref/core';

/** Stands in for uncounted tokens when sorting entropies (above any real entropy, finite in float32). */
const SENTINEL = 3e38;

/**
 * The tokens with the highest entropy (Wang et al., "Beyond the 80/20 Rule: High-Entropy
 * Minority Tokens Drive Effective Reinforcement Learning for LLM Reasoning", 2025; TRL
 * `top_entropy_quantile`): 1 where the token is counted and its entropy is at least the
 * `(1 − ρ)` quantile of the counted tokens' entropies, else 0. The quantile interpolates
 * linearly between order statistics (`torch.quantile`'s default): with `p = (1 − ρ)(n − 1)`,
 * `threshold = Σ_j max(0, 1 − |j − p|)·v_j` over the sorted entropies `v`. `entropies`, `mask`
 * `[N, T]`; returns a detached `[N, T]` 0/1 mask. One worker only (the quantile needs every
 * worker's entropies, which a sum reducer cannot gather): data parallelism is refused.
 */
export function highEntropyMask(ctx: ForwardContext, entropies: Tensor, mask: Tensor, quantile: number): Tensor {
  if (ctx.worldSize !== 1) {
    throw new PrefParamError(
      'topEntropyQuantile',
      `grpo: topEntropyQuantile ${quantile} < 1 needs the entropies of every worker for its quantile; with ${ctx.worldSize} workers, ` +
        'compute the loss on one worker or leave topEntropyQuantile at 1',
    );
  }
  const { ops } = ctx;
  const size = mask.shape[0] * mask.shape[1];
  const values = ops.stopGradient(entropies);
  const sorted = ops.sort(ops.reshape(ops.where(mask, values, SENTINEL), [size]));
  const count = ops.sum(mask);
  const position = ops.mul(ops.sub(count, 1), 1 - quantile);
  const indices = ops.constant(
    Array.from({ length: size }, (_, j) => j),
    [size],
  );
  const weights = ops.relu(ops.sub(1, ops.abs(ops.sub(indices, position))));
  const threshold = ops.sum(ops.where(ops.greater(weights, 0), ops.mul(weights, sorted), 0));
  return ops.mul(ops.greaterEqual(values, threshold), mask);
}
